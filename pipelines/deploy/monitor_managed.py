"""Engine `managed`: SageMaker Model Monitor schedules (accounts that still have Model Monitor).

A DataQualityJobDefinition and a ModelQualityJobDefinition with the package's drift-check baselines,
and two hourly MonitoringSchedules with CloudWatch metrics enabled (`publish_cloudwatch_metrics`,
what the SDK's `enable_cloudwatch_metrics=True` sets). Job definitions cannot be changed on AWS:
each is named by a hash of its content, a changed one is created beside the old, the schedule is
pointed at it (UpdateMonitoringSchedule) and the old one deleted.

When the endpoint switches to the `processing` engine, `remove_managed_monitoring` deletes its two
schedules and the job definitions they ran (docs/aws-deploy.md, "Switching engines").
"""

from __future__ import annotations

import time

from pipelines.deploy.changes import CREATED, DELETED, UNCHANGED, UPDATED, Change
from pipelines.deploy.endpoint import _call, _exists
from pipelines.deploy.errors import DeployFailed, client_error_text, error_code
from pipelines.deploy.monitor_spec import (
    DATA_QUALITY,
    HOURLY,
    MAX_RUNTIME,
    MODEL_QUALITY,
    PROBABILITY_ATTRIBUTE,
    PROBLEM_TYPE,
    MonitorSpec,
)
from pipelines.deploy.names import content_name, versioned_stem
from pipelines.images import analyzer_image

ENDPOINT_INPUT_PATH = "/opt/ml/processing/input/endpoint"  # the SDK's _CONTAINER_BASE_PATH/input/endpoint
OUTPUT_PATH = "/opt/ml/processing/output"
MONITORING_TYPES = {DATA_QUALITY: "DataQuality", MODEL_QUALITY: "ModelQuality"}
NOT_FOUND = ("ResourceNotFound", "ResourceNotFoundException", "ValidationException")
# A deleted schedule locks its job definition until it is gone (the SDK waits the same: 36 x 5 s).
DELETION_WAIT = {"Delay": 5, "MaxAttempts": 36}
RUNNING = ("Pending", "InProgress", "Stopping")  # MonitoringExecutionStatus of an execution not yet ended


def data_quality_job_definition(spec: MonitorSpec, image_uri: str) -> dict:
    body = {
        "DataQualityBaselineConfig": {
            "ConstraintsResource": {"S3Uri": spec.baselines.data_quality_constraints},
            "StatisticsResource": {"S3Uri": spec.baselines.data_quality_statistics},
        },
        "DataQualityAppSpecification": {
            "ImageUri": image_uri,
            "Environment": {"publish_cloudwatch_metrics": "Enabled"},
        },
        "DataQualityJobInput": {"EndpointInput": _endpoint_input(spec)},
        "DataQualityJobOutputConfig": _output(spec),
        **_job_common(spec, DATA_QUALITY),
    }
    return {"JobDefinitionName": content_name(spec.schedule(DATA_QUALITY), body), **body, "Tags": spec.tags}


def model_quality_job_definition(spec: MonitorSpec, image_uri: str) -> dict:
    start, end = spec.offsets(MODEL_QUALITY)
    endpoint_input = {
        **_endpoint_input(spec),
        "ProbabilityAttribute": PROBABILITY_ATTRIBUTE,
        "ProbabilityThresholdAttribute": float(spec.probability_threshold),
        "StartTimeOffset": start,
        "EndTimeOffset": end,
    }
    body = {
        "ModelQualityBaselineConfig": {"ConstraintsResource": {"S3Uri": spec.baselines.model_quality_constraints}},
        "ModelQualityAppSpecification": {
            "ImageUri": image_uri,
            "ProblemType": PROBLEM_TYPE,
            "Environment": {"publish_cloudwatch_metrics": "Enabled"},
        },
        "ModelQualityJobInput": {"EndpointInput": endpoint_input, "GroundTruthS3Input": {"S3Uri": spec.ground_truth}},
        "ModelQualityJobOutputConfig": _output(spec),
        **_job_common(spec, MODEL_QUALITY),
    }
    return {"JobDefinitionName": content_name(spec.schedule(MODEL_QUALITY), body), **body, "Tags": spec.tags}


def schedule_request(spec: MonitorSpec, kind: str, job_definition_name: str) -> dict:
    return {
        "MonitoringScheduleName": spec.schedule(kind),
        "MonitoringScheduleConfig": _schedule_config(kind, job_definition_name),
        "Tags": spec.tags,
    }


def job_definition_patterns(schedule: str) -> list[str]:
    """Names of job definitions a schedule's deletion frees: the direct deploy's `<schedule>-<hash>` and, when
    the name is cut, the workflow's `<versioned stem>-v<version>-<hash>` (the workflow's IAM policy grants the same)."""
    stem = versioned_stem(schedule)
    return [f"{schedule}-*"] + ([f"{stem}-v*"] if stem != schedule else [])


def ensure_managed_monitoring(sagemaker, spec: MonitorSpec, image_uri: str | None = None) -> list[Change]:
    """Job definitions and hourly schedules for both checks; re-running changes nothing that is current."""
    image_uri = image_uri or analyzer_image(spec.region)
    changes = []
    for kind, build in ((DATA_QUALITY, data_quality_job_definition), (MODEL_QUALITY, model_quality_job_definition)):
        request = build(spec, image_uri)
        changes.append(_ensure_job_definition(sagemaker, kind, request))
        changes += _ensure_schedule(sagemaker, spec, kind, request["JobDefinitionName"])
    return changes


def remove_managed_monitoring(sagemaker, spec: MonitorSpec, wait: dict | None = None) -> list[Change]:
    """The endpoint now runs the `processing` engine: delete its Model Monitor schedules and the job
    definitions they ran, so no check runs (and publishes its metrics) twice. Nothing there: nothing sent."""
    changes = []
    for kind in (DATA_QUALITY, MODEL_QUALITY):
        changes += _remove_schedule(sagemaker, spec, kind, wait or DELETION_WAIT)
    return changes


def _remove_schedule(sagemaker, spec: MonitorSpec, kind: str, wait: dict) -> list[Change]:
    name = spec.schedule(kind)
    current = _describe_schedule(sagemaker, name)
    if current is None:
        return [Change("MonitoringSchedule", name, UNCHANGED, "absent: no managed schedule to remove")]
    endpoint = current.get("EndpointName")
    if endpoint and endpoint != spec.endpoint:
        return [Change("MonitoringSchedule", name, UNCHANGED, f"kept: it monitors endpoint {endpoint}")]
    try:
        sagemaker.delete_monitoring_schedule(MonitoringScheduleName=name)  # also stops it (API reference)
    except Exception as e:
        if error_code(e) == "ResourceNotFound":  # its only documented error; any other code is a refusal
            return [Change("MonitoringSchedule", name, UNCHANGED, "absent: no managed schedule to remove")]
        if not error_code(e):
            raise
        raise DeployFailed(_refusal(name, current, e)) from None
    changes = [Change("MonitoringSchedule", name, DELETED, "the processing engine runs this check now")]
    config = current.get("MonitoringScheduleConfig", {})
    definition = config.get("MonitoringJobDefinitionName")
    if definition and definition.startswith(f"{name}-") and config.get("MonitoringType") == MONITORING_TYPES[kind]:
        _wait_until_gone(sagemaker, name, wait)
        changes.append(_delete_job_definition(sagemaker, kind, definition, "its schedule was removed"))
    return changes


def _wait_until_gone(sagemaker, name: str, wait: dict) -> None:
    """Poll until the schedule is gone, at most wait's attempts; then the definition's delete is tried
    anyway (refused while still locked: kept and reported), so a slow deletion never hangs the deploy."""
    for attempt in range(wait["MaxAttempts"]):
        if attempt:
            time.sleep(wait["Delay"])
        if _describe_schedule(sagemaker, name) is None:
            return


def _refusal(name: str, current: dict, error: Exception) -> str:
    last = current.get("LastMonitoringExecutionSummary") or {}
    status, when = last.get("MonitoringExecutionStatus"), last.get("ScheduledTime")
    when = when.isoformat() if hasattr(when, "isoformat") else when
    running = f"; its execution scheduled for {when} is {status}: wait for it to end" if status in RUNNING else ""
    return (
        f"cannot remove the managed engine's schedule {name}: DeleteMonitoringSchedule refused "
        f"({client_error_text(error)}){running}. Until it is removed both engines run this check; "
        "re-run the deploy (it resumes) or delete the schedule yourself"
    )


def _ensure_job_definition(sagemaker, kind: str, request: dict) -> Change:
    prefix = MONITORING_TYPES[kind]
    name = request["JobDefinitionName"]
    describe = getattr(sagemaker, f"describe_{kind.replace('-', '_')}_job_definition")
    if _exists(describe, JobDefinitionName=name):
        return Change(f"{prefix}JobDefinition", name, UNCHANGED, "same baselines and settings")
    _call(getattr(sagemaker, f"create_{kind.replace('-', '_')}_job_definition"), **request)
    return Change(f"{prefix}JobDefinition", name, CREATED)


def _ensure_schedule(sagemaker, spec: MonitorSpec, kind: str, job_definition: str) -> list[Change]:
    name = spec.schedule(kind)
    current = _describe_schedule(sagemaker, name)
    wanted = _schedule_config(kind, job_definition)
    if current is None:
        _call(sagemaker.create_monitoring_schedule, **schedule_request(spec, kind, job_definition))
        return [Change("MonitoringSchedule", name, CREATED, f"{HOURLY}, {job_definition}")]
    config = current.get("MonitoringScheduleConfig", {})
    if _same_schedule(config, wanted):
        return [Change("MonitoringSchedule", name, UNCHANGED, f"already runs {job_definition}")]
    _call(sagemaker.update_monitoring_schedule, MonitoringScheduleName=name, MonitoringScheduleConfig=wanted)
    changes = [Change("MonitoringSchedule", name, UPDATED, f"now runs {job_definition}")]
    previous = config.get("MonitoringJobDefinitionName")
    if previous and previous != job_definition and previous.startswith(name):
        changes.append(_delete_job_definition(sagemaker, kind, previous))
    return changes


def _delete_job_definition(sagemaker, kind: str, name: str, reason: str = "replaced") -> Change:
    """Remove the job definition a schedule used before; one still in use is left, and said so."""
    prefix = MONITORING_TYPES[kind]
    try:
        getattr(sagemaker, f"delete_{kind.replace('-', '_')}_job_definition")(JobDefinitionName=name)
    except Exception as e:
        if not error_code(e):
            raise
        return Change(f"{prefix}JobDefinition", name, UNCHANGED, f"previous definition kept: {client_error_text(e)}")
    return Change(f"{prefix}JobDefinition", name, DELETED, reason)


def _describe_schedule(sagemaker, name: str) -> dict | None:
    try:
        return sagemaker.describe_monitoring_schedule(MonitoringScheduleName=name)
    except Exception as e:
        if error_code(e) in NOT_FOUND:
            return None
        raise DeployFailed(f"DescribeMonitoringSchedule {name} failed: {client_error_text(e)}") from None


def _schedule_config(kind: str, job_definition_name: str) -> dict:
    return {
        "ScheduleConfig": {"ScheduleExpression": HOURLY},
        "MonitoringJobDefinitionName": job_definition_name,
        "MonitoringType": MONITORING_TYPES[kind],
    }


def _same_schedule(current: dict, wanted: dict) -> bool:
    return (
        current.get("MonitoringJobDefinitionName") == wanted["MonitoringJobDefinitionName"]
        and current.get("MonitoringType") == wanted["MonitoringType"]
        and current.get("ScheduleConfig", {}).get("ScheduleExpression") == HOURLY
    )


def _endpoint_input(spec: MonitorSpec) -> dict:
    return {
        "EndpointName": spec.endpoint,
        "LocalPath": ENDPOINT_INPUT_PATH,
        "S3InputMode": "File",
        "S3DataDistributionType": "FullyReplicated",
    }


def _output(spec: MonitorSpec) -> dict:
    return {
        "MonitoringOutputs": [
            {"S3Output": {"S3Uri": spec.report_destination, "LocalPath": OUTPUT_PATH, "S3UploadMode": "EndOfJob"}}
        ]
    }


def _job_common(spec: MonitorSpec, kind: str) -> dict:
    return {
        "JobResources": {
            "ClusterConfig": {
                "InstanceCount": 1,
                "InstanceType": spec.instance_type,
                "VolumeSizeInGB": spec.volume_size_gb,
            }
        },
        "RoleArn": spec.role_arn,
        "StoppingCondition": {"MaxRuntimeInSeconds": MAX_RUNTIME[kind]},
    }
