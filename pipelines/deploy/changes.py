"""What a deploy did to each resource, for the command's report and for a workflow's output."""

from __future__ import annotations

from dataclasses import asdict, dataclass

CREATED, UPDATED, UNCHANGED, DELETED, UPLOADED = "created", "updated", "unchanged", "deleted", "uploaded"


@dataclass(frozen=True)
class Change:
    kind: str  # Model, EndpointConfig, Endpoint, DataQualityJobDefinition, MonitoringSchedule, Schedule, Object
    name: str
    action: str  # created | updated | unchanged | deleted | uploaded
    detail: str = ""

    def as_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        text = f"{self.action:<9} {self.kind} {self.name}"
        return f"{text} ({self.detail})" if self.detail else text
