"""What a step runner needs from the execution: resolved arguments, the store, names, sandboxes."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from offline.defaults import LOCAL_ACCOUNT_ID, LOCAL_REGION
from offline.executor.expressions import Resolver
from offline.executor.sandbox import Sandbox
from offline.store import ObjectStore


@dataclass
class StepResult:
    """A finished step: its properties (Describe*-shaped, what `Steps.<name>...` reads)."""

    properties: dict
    status: str = "Succeeded"
    failure_reason: str | None = None


class StepFailed(RuntimeError):
    """The step failed; the message is its FailureReason. `properties` are kept for describe."""

    def __init__(self, reason: str, properties: dict | None = None):
        super().__init__(reason)
        self.properties = properties or {}


@dataclass
class ExecutionContext:
    execution_id: str
    execution_arn: str
    pipeline_name: str
    home: Path
    store: ObjectStore
    resolver: Resolver
    job_env: dict[str, str] = field(default_factory=dict)
    sagemaker_client_factory: object = None

    def job_name(self, step_name: str) -> str:
        """`pipelines-<execution>-<step>-<hash>`, as SageMaker Pipelines names its jobs (≤ 63 chars)."""
        digest = hashlib.sha256(f"{self.execution_id}/{step_name}".encode()).hexdigest()[:10]
        stem = "".join(c if c.isalnum() else "-" for c in step_name)[:30].strip("-")
        return f"pipelines-{self.execution_id}-{stem}-{digest}"

    def job_arn(self, kind: str, job_name: str) -> str:
        return f"arn:aws:sagemaker:{LOCAL_REGION}:{LOCAL_ACCOUNT_ID}:{kind}/{job_name.lower()}"

    def sandbox(self, step_name: str) -> Sandbox:
        return Sandbox(self.home / "jobs" / self.execution_id / step_name, self.log_path(step_name))

    def log_path(self, step_name: str) -> Path:
        return self.home / "logs" / "pipelines" / self.execution_id / f"{step_name}.log"

    def sagemaker(self):
        """A boto3 SageMaker client answered by the local services (model registry)."""
        return self.sagemaker_client_factory()
