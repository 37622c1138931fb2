"""Engine `processing`: this project's analyzer as scheduled Processing jobs (no Model Monitor needed).

One EventBridge Scheduler schedule per check, hourly, whose target is SageMaker's CreateProcessingJob
through Scheduler's universal target (`arn:aws:scheduler:::aws-sdk:sagemaker:createProcessingJob`).
Its Input is the CreateProcessingJob request with two of Scheduler's context attributes in it:
`<aws.scheduler.execution-id>` makes each job name unique and `<aws.scheduler.scheduled-time>` tells
the analyzer which hour it is (processing/monitoring/scheduled.py derives the window from it). The
job runs processing/analyze.py on the XGBoost 3.0-5 image from a FrameworkProcessor bundle, reads
the window's hours of captured data (and ground truth) from S3 itself, writes its files under the
hour's folder so the output upload lands in Model Monitor's layout, and publishes the metrics.

The schedule fires at minute 15 of each hour (`SCHEDULE_MINUTE`): data capture reaches S3 within a
few minutes of the hour's end, and Model Monitor itself runs "on the hour plus 0-20 min".

When the endpoint switches to the `managed` engine, `remove_processing_monitoring` deletes its two
schedules (only schedules that start this analyzer for this endpoint).
"""

from __future__ import annotations

import json

from pipelines.deploy.changes import CREATED, DELETED, UNCHANGED, UPDATED, Change
from pipelines.deploy.code_bundle import CODE_DIR, CONTAINER_ENTRYPOINT, ENTRYPOINT_DIR, CodeLocation
from pipelines.deploy.errors import DeployFailed, DeployInputError, client_error_text, error_code
from pipelines.deploy.monitor_spec import (
    CAPTURE_FORMAT,
    DATA_QUALITY,
    MAX_RUNTIME,
    MODEL_QUALITY,
    PROBABILITY_ATTRIBUTE,
    PROBLEM_TYPE,
    MonitorSpec,
)
from pipelines.deploy.names import bounded, digest
from pipelines.images import xgboost_image

TARGET_ARN = "arn:aws:scheduler:::aws-sdk:sagemaker:createProcessingJob"
SCHEDULED_TIME = "<aws.scheduler.scheduled-time>"
EXECUTION_ID = "<aws.scheduler.execution-id>"
SCHEDULE_MINUTE = 15
SCHEDULE_GROUP = "default"
# Job names are `<prefix>-<execution id>`; the id's length is not documented (the example has 16
# characters), so the prefix leaves room for a 36-character UUID within the 63-character limit.
JOB_PREFIX_MAX = 26
RETRY_POLICY = {"MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 185}  # Scheduler's defaults
BASELINE_DIR = "/opt/ml/processing/baseline"
OUTPUT_DIR = "/opt/ml/processing/output"
ANALYSIS_TYPES = {DATA_QUALITY: "DATA_QUALITY", MODEL_QUALITY: "MODEL_QUALITY"}


def schedule_expression(minute: int = SCHEDULE_MINUTE) -> str:
    return f"cron({minute} * * * ? *)"


def job_name_prefix(spec: MonitorSpec, kind: str) -> str:
    """`<endpoint, cut>-dq-<hash>` / `-mq-`: short enough for the execution id, unique per schedule."""
    tag = "dq" if kind == DATA_QUALITY else "mq"
    return bounded(spec.endpoint, f"{tag}-{digest(spec.schedule(kind), 4)}", JOB_PREFIX_MAX)


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
        _input("code", code.sourcedir_uri, CODE_DIR),
        _input("entrypoint", code.runproc_uri, ENTRYPOINT_DIR),
        _input("baseline_constraints", _constraints(spec, kind), f"{BASELINE_DIR}/constraints"),
    ]
    if kind == DATA_QUALITY:
        statistics = spec.baselines.data_quality_statistics
        environment["baseline_statistics"] = f"{BASELINE_DIR}/statistics/{_file_name(statistics)}"
        inputs.append(_input("baseline_statistics", statistics, f"{BASELINE_DIR}/statistics"))
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
    """CreateSchedule/UpdateSchedule: hourly, UTC, the universal target with the request template."""
    return {
        "Name": spec.schedule(kind),
        "GroupName": SCHEDULE_GROUP,
        "ScheduleExpression": schedule_expression(),
        "ScheduleExpressionTimezone": "UTC",
        "Description": f"{kind} check of endpoint {spec.endpoint} (this project's analyzer as a Processing job)",
        "State": "ENABLED",
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "Target": {
            "Arn": TARGET_ARN,
            "RoleArn": scheduler_role_arn,
            "Input": json.dumps(template, separators=(",", ":")),
            "RetryPolicy": dict(RETRY_POLICY),
        },
    }


def fill_template(template: dict | str, scheduled_time: str, execution_id: str) -> dict:
    """What Scheduler sends for one invocation: the template with its context attributes replaced."""
    text = template if isinstance(template, str) else json.dumps(template)
    return json.loads(text.replace(SCHEDULED_TIME, scheduled_time).replace(EXECUTION_ID, execution_id))


def ensure_processing_monitoring(
    scheduler, spec: MonitorSpec, code: CodeLocation, scheduler_role_arn: str, image_uri: str | None = None
) -> list[Change]:
    """Both checks' schedules; an existing schedule is updated when it differs, else left."""
    image_uri = image_uri or xgboost_image(spec.region)
    changes = []
    for kind in (DATA_QUALITY, MODEL_QUALITY):
        template = processing_job_template(spec, kind, code, image_uri)
        changes.append(_ensure_schedule(scheduler, schedule_request(spec, kind, template, scheduler_role_arn)))
    return changes


def remove_processing_monitoring(scheduler, spec: MonitorSpec) -> list[Change]:
    """The endpoint now runs the `managed` engine: delete its Scheduler schedules, so no check runs (and
    publishes its metrics) twice. Nothing there: nothing sent."""
    return [_remove_schedule(scheduler, spec, kind) for kind in (DATA_QUALITY, MODEL_QUALITY)]


def _remove_schedule(scheduler, spec: MonitorSpec, kind: str) -> Change:
    name = spec.schedule(kind)
    current = _get_schedule(scheduler, name, SCHEDULE_GROUP)
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
    target = schedule.get("Target") or {}
    if target.get("Arn") != TARGET_ARN:
        return None
    try:
        return json.loads(target.get("Input") or "{}")["Environment"]["sagemaker_endpoint_name"]
    except (json.JSONDecodeError, KeyError, TypeError):
        return None


def _ensure_schedule(scheduler, request: dict) -> Change:
    name = request["Name"]
    current = _get_schedule(scheduler, name, request["GroupName"])
    if current is None:
        _send(scheduler.create_schedule, request)
        return Change("Schedule", name, CREATED, f"{request['ScheduleExpression']} -> CreateProcessingJob")
    if _same(current, request):
        return Change("Schedule", name, UNCHANGED, "same expression, target and job template")
    _send(scheduler.update_schedule, request)
    return Change("Schedule", name, UPDATED, "target or expression changed")


def _get_schedule(scheduler, name: str, group: str) -> dict | None:
    try:
        return scheduler.get_schedule(Name=name, GroupName=group)
    except Exception as e:
        if error_code(e) == "ResourceNotFoundException":
            return None
        raise DeployFailed(f"GetSchedule {name} failed: {client_error_text(e)}") from None


def _same(current: dict, wanted: dict) -> bool:
    fields = ("ScheduleExpression", "ScheduleExpressionTimezone", "State", "Description", "FlexibleTimeWindow")
    if any(current.get(key) != wanted[key] for key in fields):
        return False
    target, goal = current.get("Target", {}), wanted["Target"]
    if any(target.get(key) != goal[key] for key in ("Arn", "RoleArn", "RetryPolicy")):
        return False
    try:
        return json.loads(target.get("Input") or "null") == json.loads(goal["Input"])
    except json.JSONDecodeError:
        return False


def _send(operation, request: dict) -> None:
    from botocore.exceptions import ParamValidationError

    try:
        operation(**request)
    except ParamValidationError as e:
        raise DeployInputError(str(e)) from None
    except Exception as e:
        if error_code(e):
            raise DeployFailed(f"{operation.__name__} {request['Name']} failed: {client_error_text(e)}") from None
        raise


def _constraints(spec: MonitorSpec, kind: str) -> str:
    return spec.baselines.data_quality_constraints if kind == DATA_QUALITY else spec.baselines.model_quality_constraints


def _file_name(uri: str) -> str:
    return uri.rstrip("/").rsplit("/", 1)[-1]


def _input(name: str, uri: str, local_path: str) -> dict:
    return {
        "InputName": name,
        "AppManaged": False,
        "S3Input": {
            "S3Uri": uri,
            "LocalPath": local_path,
            "S3DataType": "S3Prefix",
            "S3InputMode": "File",
            "S3DataDistributionType": "FullyReplicated",
            "S3CompressionType": "None",
        },
    }
