"""The analyzer job's check mode: Model Monitor's settings → the check functions, plus the
CloudWatch metric files a monitoring job leaves when publish_cloudwatch_metrics is Enabled."""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from pathlib import Path

from ..errors import MonitorInputError
from ..job_config import MODEL_QUALITY, JobConfig
from ..outputs import write_text
from ..readers import DatasetFormat
from ..readers.capture import parse_time
from .api import NO_DATA, CheckResult, run_data_quality_check, run_model_quality_check

DATA_NAMESPACE_DIMENSIONS = ("Endpoint", "MonitoringSchedule")


def run_check(config: JobConfig) -> CheckResult:
    """Run the check a JobConfig describes; returns its result (status, violations, message)."""
    capture_uri, dataset, fmt = _input(config)
    start, end = parse_time(config.start_time), parse_time(config.end_time)
    if config.analysis_type == MODEL_QUALITY:
        result = run_model_quality_check(
            baseline_constraints=config.baseline_constraints,
            output_dir=config.output_path,
            attributes=config.model_quality_attributes(),
            dataset=dataset,
            fmt=fmt,
            capture_uri=capture_uri,
            ground_truth_uri=config.ground_truth_source,
            start=start,
            end=end,
        )
    else:
        result = run_data_quality_check(
            baseline_constraints=config.baseline_constraints,
            baseline_statistics=config.baseline_statistics,
            output_dir=config.output_path,
            dataset=dataset,
            fmt=fmt,
            capture_uri=capture_uri,
            start=start,
            end=end,
        )
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    if config.publish_cloudwatch_metrics and config.metrics_path and result.status != NO_DATA:
        write_metrics(result, Path(config.metrics_path), end, config.endpoint_name, config.schedule_name)
    return result


def _input(config: JobConfig) -> tuple[str | None, str | None, DatasetFormat | None]:
    try:
        spec = json.loads(config.dataset_format)
    except json.JSONDecodeError as e:
        raise MonitorInputError(f"dataset_format is not valid JSON: {e.msg}") from None
    if isinstance(spec, dict) and "sagemakerCaptureJson" in spec:
        return config.dataset_source, None, None
    return None, config.dataset_source, DatasetFormat.from_json(spec)


def write_metrics(
    result: CheckResult, folder: Path, when: datetime | None, endpoint: str | None, schedule: str | None
) -> Path:
    """The BYOC CloudWatch metrics file: one JSON object per line (FORMATS.md §2.5)."""
    stamp = (when or datetime.now(timezone.utc)).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    dimensions = [
        {"Name": name, "Value": value}
        for name, value in zip(DATA_NAMESPACE_DIMENSIONS, (endpoint, schedule), strict=True)
        if value
    ]
    lines = [
        json.dumps({"MetricName": name, "Timestamp": stamp, "Dimensions": dimensions, "Value": value, "Unit": "None"})
        for name, value in result.metrics.items()
    ]
    path = folder / "cloudwatch_metrics.jsonl"
    write_text(path, "\n".join(lines) + "\n")
    return path
