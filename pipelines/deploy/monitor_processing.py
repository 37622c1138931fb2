"""Engine `processing`: this project's analyzer as scheduled Processing jobs (no Model Monitor needed).

One EventBridge Scheduler schedule per check, hourly, starting a Processing job through Scheduler's
universal target (pipelines/deploy/scheduler_target.py). The job runs processing/analyze.py on the
XGBoost 3.0-5 image from a FrameworkProcessor bundle; `<aws.scheduler.scheduled-time>` in its
environment tells the analyzer which hour it is (processing/monitoring/scheduled.py derives the
window from it). It reads the window's hours of captured data (and ground truth) from S3 itself,
writes its files under the hour's folder so the output upload lands in Model Monitor's layout, and
publishes the metrics.

When the endpoint switches to the `managed` engine, `remove_processing_monitoring` deletes its two
schedules (only schedules that start this analyzer for this endpoint).
"""

from __future__ import annotations

from pipelines.deploy.changes import DELETED, UNCHANGED, Change
from pipelines.deploy.code_bundle import CONTAINER_ENTRYPOINT, CodeLocation
from pipelines.deploy.errors import DeployFailed, client_error_text, error_code
from pipelines.deploy.monitor_spec import (
    CAPTURE_FORMAT,
    DATA_QUALITY,
    MAX_RUNTIME,
    MODEL_QUALITY,
    PROBABILITY_ATTRIBUTE,
    PROBLEM_TYPE,
    MonitorSpec,
)
from pipelines.deploy.scheduler_target import (
    EXECUTION_ID,
    SCHEDULE_GROUP,
    SCHEDULED_TIME,
    code_inputs,
    ensure_schedule,
    get_schedule,
    processing_input,
    template_of,
)
from pipelines.deploy.scheduler_target import job_name_prefix as _job_name_prefix
from pipelines.deploy.scheduler_target import schedule_request as _schedule_request
from pipelines.images import xgboost_image

BASELINE_DIR = "/opt/ml/processing/baseline"
OUTPUT_DIR = "/opt/ml/processing/output"
ANALYSIS_TYPES = {DATA_QUALITY: "DATA_QUALITY", MODEL_QUALITY: "MODEL_QUALITY"}


def job_name_prefix(spec: MonitorSpec, kind: str) -> str:
    """`<endpoint, cut>-dq-<hash>` / `-mq-`: short enough for the execution id, unique per schedule."""
    return _job_name_prefix(spec.endpoint, "dq" if kind == DATA_QUALITY else "mq", spec.schedule(kind))


def processing_job_template(spec: MonitorSpec, kind: str, code: CodeLocation, image_uri: str) -> dict:
    """The CreateProcessingJob request the schedule sends, with Scheduler's placeholders in it."""
    start, end = spec.offsets(kind)
    environment = {
        "dataset_source": spec.capture_uri,
        "dataset_format": CAPTURE_FORMAT,
        "output_path": OUTPUT_DIR,
        "analysis_type": ANALYSIS_TYPES[kind],
        "baseline_constraints": f"{BASELINE_DIR}/constraints/{_file_name(_constraints(spec, kind))}",
        "publish_cloudwatch_metrics": "Enabled",
        "sagemaker_endpoint_name": spec.endpoint,
        "sagemaker_monitoring_schedule_name": spec.schedule(kind),
        "scheduled_time": SCHEDULED_TIME,
        "start_time_offset": start,
        "end_time_offset": end,
        "staging_path": "/opt/ml/processing/input",
        "message_file": "/opt/ml/output/message",
        "metrics_path": "/opt/ml/output/metrics/cloudwatch",
    }
    inputs = [
        *code_inputs(code),
        processing_input("baseline_constraints", _constraints(spec, kind), f"{BASELINE_DIR}/constraints"),
    ]
    if kind == DATA_QUALITY:
        statistics = spec.baselines.data_quality_statistics
        environment["baseline_statistics"] = f"{BASELINE_DIR}/statistics/{_file_name(statistics)}"
        inputs.append(processing_input("baseline_statistics", statistics, f"{BASELINE_DIR}/statistics"))
    else:
        environment.update(
            problem_type=PROBLEM_TYPE,
            probability_attribute=PROBABILITY_ATTRIBUTE,
            probability_threshold_attribute=str(float(spec.probability_threshold)),
            ground_truth_source=spec.ground_truth,
            # labels come from the ground-truth records' groundTruthData, merged by event id
            ground_truth_attribute="groundTruthData",
        )
    return {
        "ProcessingJobName": f"{job_name_prefix(spec, kind)}-{EXECUTION_ID}",
        "ProcessingResources": {
            "ClusterConfig": {
                "InstanceCount": 1,
                "InstanceType": spec.instance_type,
                "VolumeSizeInGB": spec.volume_size_gb,
            }
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": MAX_RUNTIME[kind]},
        "AppSpecification": {"ImageUri": image_uri, "ContainerEntrypoint": list(CONTAINER_ENTRYPOINT)},
        "Environment": environment,
        "ProcessingInputs": inputs,
        "ProcessingOutputConfig": {
            "Outputs": [
                {
                    "OutputName": "monitoring",
                    "S3Output": {"S3Uri": spec.report_uri(kind), "LocalPath": OUTPUT_DIR, "S3UploadMode": "EndOfJob"},
                }
            ]
        },
        "RoleArn": spec.role_arn,
        "Tags": spec.tags,
    }


def schedule_request(spec: MonitorSpec, kind: str, template: dict, scheduler_role_arn: str) -> dict:
    """CreateSchedule/UpdateSchedule of one check: hourly, UTC, the universal target with the request template."""
    description = f"{kind} check of endpoint {spec.endpoint} (this project's analyzer as a Processing job)"
    return _schedule_request(spec.schedule(kind), description, template, scheduler_role_arn)


def ensure_processing_monitoring(
    scheduler, spec: MonitorSpec, code: CodeLocation, scheduler_role_arn: str, image_uri: str | None = None
) -> list[Change]:
    """Both checks' schedules; an existing schedule is updated when it differs, else left."""
    image_uri = image_uri or xgboost_image(spec.region)
    changes = []
    for kind in (DATA_QUALITY, MODEL_QUALITY):
        template = processing_job_template(spec, kind, code, image_uri)
        changes.append(ensure_schedule(scheduler, schedule_request(spec, kind, template, scheduler_role_arn)))
    return changes


def remove_processing_monitoring(scheduler, spec: MonitorSpec) -> list[Change]:
    """The endpoint now runs the `managed` engine: delete its Scheduler schedules, so no check runs (and
    publishes its metrics) twice. Nothing there: nothing sent."""
    return [_remove_schedule(scheduler, spec, kind) for kind in (DATA_QUALITY, MODEL_QUALITY)]


def _remove_schedule(scheduler, spec: MonitorSpec, kind: str) -> Change:
    name = spec.schedule(kind)
    current = get_schedule(scheduler, name, SCHEDULE_GROUP)
    if current is None:
        return Change("Schedule", name, UNCHANGED, "absent: no processing schedule to remove")
    endpoint = _monitored_endpoint(current)
    if endpoint != spec.endpoint:
        owner = f"it monitors endpoint {endpoint}" if endpoint else "it does not start this project's analyzer"
        return Change("Schedule", name, UNCHANGED, f"kept: {owner}")
    try:
        scheduler.delete_schedule(Name=name, GroupName=SCHEDULE_GROUP)
    except Exception as e:
        if error_code(e) == "ResourceNotFoundException":
            return Change("Schedule", name, UNCHANGED, "absent: no processing schedule to remove")
        if not error_code(e):
            raise
        raise DeployFailed(
            f"cannot remove the processing engine's schedule {name}: DeleteSchedule refused ({client_error_text(e)}). "
            "Until it is removed both engines run this check; re-run the deploy (it resumes) or delete it yourself"
        ) from None
    return Change("Schedule", name, DELETED, "the managed engine runs this check now")


def _monitored_endpoint(schedule: dict) -> str | None:
    """The endpoint whose check the schedule starts, read from its CreateProcessingJob template."""
    template = template_of(schedule) or {}
    endpoint = (template.get("Environment") or {}).get("sagemaker_endpoint_name")
    return endpoint if isinstance(endpoint, str) else None


def _constraints(spec: MonitorSpec, kind: str) -> str:
    return spec.baselines.data_quality_constraints if kind == DATA_QUALITY else spec.baselines.model_quality_constraints


def _file_name(uri: str) -> str:
    return uri.rstrip("/").rsplit("/", 1)[-1]
