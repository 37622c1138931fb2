"""The analyzer job's settings (Model Monitor's container contract, FORMATS.md §2.1) as one value.

Both modes of the job read it: the baseline mode (job.py) and the check mode (checks/job.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .model_quality import ModelQualityAttributes

DATA_QUALITY, MODEL_QUALITY = "DATA_QUALITY", "MODEL_QUALITY"


@dataclass(frozen=True)
class JobConfig:
    dataset_source: str
    dataset_format: str
    output_path: str
    analysis_type: str = DATA_QUALITY
    problem_type: str = "BinaryClassification"
    inference_attribute: str | None = None
    probability_attribute: str | None = None
    probability_threshold: float = 0.5
    ground_truth_attribute: str | None = None
    positive_label: str | None = None
    baseline_statistics: str | None = None
    baseline_constraints: str | None = None
    publish_cloudwatch_metrics: bool = False
    start_time: str | None = None
    end_time: str | None = None
    categorical_drift_method: str | None = None
    ground_truth_source: str | None = None
    message_file: str | None = None
    metrics_path: str | None = None
    endpoint_name: str | None = None
    schedule_name: str | None = None

    @classmethod
    def from_settings(cls, s: dict[str, str | None]) -> JobConfig:
        analysis = (s.get("analysis_type") or DATA_QUALITY).upper()
        threshold_text = s.get("probability_threshold_attribute")
        try:
            threshold = float(threshold_text) if threshold_text not in (None, "") else 0.5
        except ValueError:
            threshold = math.nan
        return cls(
            dataset_source=s.get("dataset_source") or "",
            dataset_format=s.get("dataset_format") or '{"csv": {"header": true}}',
            output_path=s.get("output_path") or "",
            analysis_type=analysis,
            problem_type=s.get("problem_type") or "BinaryClassification",
            inference_attribute=s.get("inference_attribute") or None,
            probability_attribute=s.get("probability_attribute") or None,
            probability_threshold=threshold,
            ground_truth_attribute=s.get("ground_truth_attribute") or None,
            positive_label=s.get("positive_label") or None,
            baseline_statistics=s.get("baseline_statistics") or None,
            baseline_constraints=s.get("baseline_constraints") or None,
            publish_cloudwatch_metrics=(s.get("publish_cloudwatch_metrics") or "Disabled").lower() == "enabled",
            start_time=s.get("start_time") or None,
            end_time=s.get("end_time") or None,
            categorical_drift_method=s.get("categorical_drift_method") or None,
            ground_truth_source=s.get("ground_truth_source") or None,
            message_file=s.get("message_file") or None,
            metrics_path=s.get("metrics_path") or None,
            endpoint_name=s.get("sagemaker_endpoint_name") or None,
            schedule_name=s.get("sagemaker_monitoring_schedule_name") or None,
        )

    def model_quality_attributes(self) -> ModelQualityAttributes:
        return ModelQualityAttributes(
            ground_truth_attribute=self.ground_truth_attribute or "",
            probability_attribute=self.probability_attribute,
            inference_attribute=self.inference_attribute,
            probability_threshold=self.probability_threshold,
            positive_label=self.positive_label,
            problem_type=self.problem_type,
        )
