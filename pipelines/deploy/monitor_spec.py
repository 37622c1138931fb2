"""What both monitor engines monitor, and how: one spec, so the two engines cannot drift apart.

Both write `<report>/<endpoint>/<schedule>/yyyy/mm/dd/hh/{statistics,constraints,constraint_violations}.json`
and publish the same CloudWatch metrics under the same schedule names.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pipelines.deploy.names import schedule_name
from pipelines.deploy.registry import Baselines
from pipelines.deploy.s3uri import join

DATA_QUALITY, MODEL_QUALITY = "data-quality", "model-quality"
HOURLY = "cron(0 * ? * * *)"
PROBLEM_TYPE = "BinaryClassification"
# The endpoint's CSV output is `probability,predicted_label,needs_review`: the probability is column 0.
PROBABILITY_ATTRIBUTE = "0"
CAPTURE_FORMAT = '{"sagemakerCaptureJson": {"captureIndexNames": ["endpointInput", "endpointOutput"]}}'
# Hourly limits from AWS's monitor template: data quality up to 3300 s, model quality (merge + check) 1800 s.
MAX_RUNTIME = {DATA_QUALITY: 3300, MODEL_QUALITY: 1800}


@dataclass(frozen=True)
class MonitorSpec:
    endpoint: str
    region: str
    account: str
    role_arn: str  # the monitoring jobs' role
    capture_destination: str  # the endpoint's DataCaptureConfig.DestinationS3Uri
    report_destination: str
    ground_truth: str
    baselines: Baselines
    tags: list[dict] = field(default_factory=list)
    probability_threshold: float = 0.5
    # Data quality analyses the previous hour (Model Monitor's default window for hourly schedules);
    # model quality waits for labels: the day before, up to an hour ago (AWS's "offsets" for late ground truth).
    model_quality_start_offset: str = "-P1D"
    model_quality_end_offset: str = "-PT1H"
    data_quality_start_offset: str = "-PT1H"
    data_quality_end_offset: str = "-PT0H"
    instance_type: str = "ml.m5.xlarge"
    volume_size_gb: int = 20

    def schedule(self, kind: str) -> str:
        return schedule_name(self.endpoint, kind)

    @property
    def capture_uri(self) -> str:
        """Where this endpoint's captured data lands: `<destination>/<endpoint>/<variant>/yyyy/mm/dd/hh/`."""
        return join(self.capture_destination, self.endpoint)

    def report_uri(self, kind: str) -> str:
        """The execution folders' parent: `<report>/<endpoint>/<schedule>`."""
        return join(self.report_destination, self.endpoint, self.schedule(kind))

    def offsets(self, kind: str) -> tuple[str, str]:
        if kind == DATA_QUALITY:
            return self.data_quality_start_offset, self.data_quality_end_offset
        return self.model_quality_start_offset, self.model_quality_end_offset
