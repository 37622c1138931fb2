"""The analyzer job: Model Monitor's container contract mapped onto this package's functions.

`JobConfig.from_settings` validates the contract's settings (environment variables or options, see
processing/analyze.py); `run_job` runs a baseline or a check and writes the exit message file.
"""

from __future__ import annotations

import math
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

from .errors import MonitorInputError
from .outputs import write_text

DATA_QUALITY, MODEL_QUALITY = "DATA_QUALITY", "MODEL_QUALITY"
EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


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


def run_job(config: JobConfig) -> int:
    """Run the job; returns the process exit code (0 also when violations were found)."""
    try:
        message = _run(config)
    except MonitorInputError as e:
        _write_message(config, f"Failed: {e}")
        print(f"error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception as e:  # a bug: say so in the message file too, as a failed AWS job would
        _write_message(config, f"Failed: internal error ({type(e).__name__})")
        traceback.print_exc()
        return EXIT_FAILED
    _write_message(config, message)
    print(message)
    return EXIT_OK


def completion_message(violations: int) -> str:
    """Model Monitor's exit message for a finished job."""
    if violations == 0:
        return "Completed: Job completed successfully with no violations."
    return f"CompletedWithViolations: Job completed successfully with {violations} violations."


def _run(config: JobConfig) -> str:
    from .readers import DatasetFormat

    if config.analysis_type not in (DATA_QUALITY, MODEL_QUALITY):
        raise MonitorInputError(
            f"analysis_type {config.analysis_type!r} is not supported; use DATA_QUALITY or MODEL_QUALITY"
        )
    if not config.dataset_source:
        raise MonitorInputError("dataset_source is not set")
    if not config.output_path:
        raise MonitorInputError("output_path is not set")
    if config.baseline_constraints:
        from .checks.job import run_check

        return run_check(config).message
    fmt = DatasetFormat.from_json(config.dataset_format)
    if config.analysis_type == MODEL_QUALITY:
        from .model_quality import suggest_model_quality_baseline

        suggest_model_quality_baseline(config.dataset_source, fmt, config.output_path, model_quality_attributes(config))
    else:
        from .api import suggest_baseline
        from .constraints import MonitoringConfig

        method = config.categorical_drift_method or "LInfinity"
        suggest_baseline(
            config.dataset_source, fmt, config.output_path, MonitoringConfig(categorical_drift_method=method)
        )
    return completion_message(0)


def model_quality_attributes(config: JobConfig):
    from .model_quality import ModelQualityAttributes

    return ModelQualityAttributes(
        ground_truth_attribute=config.ground_truth_attribute or "",
        probability_attribute=config.probability_attribute,
        inference_attribute=config.inference_attribute,
        probability_threshold=config.probability_threshold,
        positive_label=config.positive_label,
        problem_type=config.problem_type,
    )


def _write_message(config: JobConfig, message: str) -> None:
    if not config.message_file:
        return
    try:
        write_text(Path(config.message_file), message)
    except OSError as e:
        print(f"warning: cannot write the exit message to {config.message_file}: {e}", file=sys.stderr)
