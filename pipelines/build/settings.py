"""What `get_pipeline(**kwargs)` accepts, checked once, with the template's defaults.

The keyword names follow AWS's project templates (`region`, `role`, `default_bucket`,
`pipeline_name`, `model_package_group_name`, `base_job_prefix`, `sagemaker_project_arn`), so the
CodeBuild job's `--kwargs` JSON works unchanged; the rest are this template's additions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

BASELINE_ENGINES = ("processing", "managed")
TARGETS = ("local", "aws")
NAME_PATTERN = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
HUMAN_LABELS_FOLDER = "human-labels"


class SettingsError(ValueError):
    """A get_pipeline keyword argument is unknown or invalid."""


@dataclass(frozen=True)
class PipelineSettings:
    region: str | None = None
    role: str | None = None
    default_bucket: str | None = None
    pipeline_name: str = "BreastCancerBuild"
    model_package_group_name: str = "BreastCancerPackageGroup"
    base_job_prefix: str = "breast-cancer"
    sagemaker_project_arn: str | None = None
    sagemaker_project_name: str | None = None
    sagemaker_project_id: str | None = None
    processing_instance_type: str = "ml.m5.xlarge"
    training_instance_type: str = "ml.m5.xlarge"
    baseline_instance_type: str = "ml.m5.xlarge"
    input_data_url: str | None = None
    auc_threshold: float = 0.95
    baseline_engine: str = "processing"
    target: str = "local"

    def __post_init__(self) -> None:
        if self.baseline_engine not in BASELINE_ENGINES:
            raise SettingsError(f"baseline_engine must be one of {BASELINE_ENGINES}, not {self.baseline_engine!r}")
        if self.target not in TARGETS:
            raise SettingsError(f"target must be one of {TARGETS}, not {self.target!r}")
        for key in ("pipeline_name", "model_package_group_name"):
            if not NAME_PATTERN.match(getattr(self, key)):
                raise SettingsError(f"{key} {getattr(self, key)!r} must match {NAME_PATTERN.pattern}")
        if not 0 < float(self.auc_threshold) <= 1:
            raise SettingsError(f"auc_threshold must lie in (0, 1], not {self.auc_threshold}")

    @property
    def project_tags(self) -> list[dict[str, str]]:
        """`sagemaker:project-name` / `-id` tags for every resource the pipeline creates, when known."""
        tags = []
        if self.sagemaker_project_name:
            tags.append({"Key": "sagemaker:project-name", "Value": self.sagemaker_project_name})
        if self.sagemaker_project_id:
            tags.append({"Key": "sagemaker:project-id", "Value": self.sagemaker_project_id})
        return tags


def human_labels_uri(bucket: str, pipeline_name: str = PipelineSettings.pipeline_name) -> str:
    """HumanLabelsUrl's default: where the review collector writes labelled rows for the next build."""
    return f"s3://{bucket}/{pipeline_name}/{HUMAN_LABELS_FOLDER}"


def parse_settings(kwargs: dict) -> PipelineSettings:
    known = set(PipelineSettings.__dataclass_fields__)
    unknown = sorted(set(kwargs) - known)
    if unknown:
        raise SettingsError(
            f"unknown get_pipeline argument(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    values = {k: v for k, v in kwargs.items() if v is not None and v != ""}
    return PipelineSettings(**values)
