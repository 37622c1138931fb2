"""The analyzer as one execution of a monitoring schedule, started as a plain Processing job.

Set `scheduled_time` (an EventBridge Scheduler schedule passes `<aws.scheduler.scheduled-time>`)
and the job behaves as a Model Monitor schedule's execution for that hour:
- window [H + start_time_offset, H + end_time_offset) for the scheduled hour H (default -PT1H, -PT0H);
- `dataset_source` / `ground_truth_source` may be `s3://` prefixes, read hour prefix by hour prefix
  with boto3 into `staging_path` (captured data: the window's hours; ground truth: from the window's
  start up to H, since labels arrive after the predictions they label);
- files go to `output_path/yyyy/mm/dd/hh/` of H, so the job's output upload lands in Model Monitor's
  `<output>/<endpoint>/<schedule>/yyyy/mm/dd/hh/` layout;
- with publish_cloudwatch_metrics=Enabled the metrics are also sent with PutMetricData, in Model
  Monitor's namespaces, with the Endpoint and MonitoringSchedule dimensions.
"""

from __future__ import annotations

import sys
from pathlib import Path

from .cloudwatch import PublishError, publish_metric_files
from .errors import MonitorInputError
from .job import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, MODEL_QUALITY, JobConfig, run_job
from .outputs import write_text
from .s3_source import S3ReadError, stage_hours
from .schedule_window import Window, iso, window_for

DEFAULT_STAGING = "/opt/ml/processing/input"


def run_scheduled(settings: dict[str, str | None], s3=None, cloudwatch=None) -> int:
    """Run one scheduled execution; returns the exit code. Clients default to boto3's, made on use."""
    try:
        window = window_for(
            settings["scheduled_time"] or "", settings.get("start_time_offset"), settings.get("end_time_offset")
        )
        job = _job_settings(settings, window, lambda: s3 or _client("s3"))
    except MonitorInputError as e:
        return _fail(settings, f"Failed: {e}", EXIT_BAD_INPUT)
    except S3ReadError as e:
        return _fail(settings, f"Failed: {e}", EXIT_FAILED)
    print(f"window {iso(window.start)} to {iso(window.end)} for the execution of {iso(window.scheduled)}")
    code = run_job(JobConfig.from_settings(job))
    if code != EXIT_OK or not _enabled(job.get("publish_cloudwatch_metrics")):
        return code
    metrics = job.get("metrics_path")
    if not metrics or not Path(metrics).exists():
        return code  # nothing to publish: a window without data writes no metrics
    try:
        published = publish_metric_files(cloudwatch or _client("cloudwatch"), job["analysis_type"] or "", metrics)
    except PublishError as e:
        return _fail(settings, f"Failed: {e}", EXIT_FAILED)
    print(f"published {published.metrics} metrics to {published.namespace} in {published.requests} request(s)")
    if published.skipped:
        print(f"note: skipped {published.skipped} metric(s) without a finite value", file=sys.stderr)
    return code


def _job_settings(settings: dict, window: Window, s3_client) -> dict:
    """The settings of the analyzer job for this window: local inputs, the hour's output folder."""
    job = dict(settings)
    job["start_time"], job["end_time"] = iso(window.start), iso(window.end)
    output = settings.get("output_path") or "/opt/ml/processing/output"
    job["output_path"] = str(Path(output) / window.folder)
    staging = Path(settings.get("staging_path") or DEFAULT_STAGING)
    source = settings.get("dataset_source") or ""
    if source.startswith("s3://"):
        staged = stage_hours(s3_client(), source, window.start, window.end, staging / "endpoint")
        print(f"read {staged.objects} capture object(s), {staged.bytes} bytes, from {staged.prefixes} hour prefix(es)")
        job["dataset_source"] = str(staged.folder)
    truth = settings.get("ground_truth_source") or ""
    if (settings.get("analysis_type") or "").upper() == MODEL_QUALITY and truth.startswith("s3://"):
        # labels come after the predictions: from the window's start up to the end of the execution's hour
        until = window.scheduled.replace(minute=59, second=59)
        staged = stage_hours(s3_client(), truth, window.start, until, staging / "ground_truth")
        print(f"read {staged.objects} ground-truth object(s) from {staged.prefixes} hour prefix(es)")
        job["ground_truth_source"] = str(staged.folder)
    return job


def _enabled(value: str | None) -> bool:
    return (value or "").lower() == "enabled"


def _client(service: str):
    import boto3

    return boto3.client(service)


def _fail(settings: dict, message: str, code: int) -> int:
    print(f"error: {message}", file=sys.stderr)
    target = settings.get("message_file")
    if target:
        try:
            write_text(Path(target), message)
        except OSError as e:
            print(f"warning: cannot write the exit message to {target}: {e}", file=sys.stderr)
    return code
