"""Engine `managed`: SageMaker Model Monitor schedules (accounts that still have Model Monitor).

A DataQualityJobDefinition and a ModelQualityJobDefinition with the package's drift-check baselines,
and two hourly MonitoringSchedules with CloudWatch metrics enabled (`publish_cloudwatch_metrics`,
what the SDK's `enable_cloudwatch_metrics=True` sets). Job definitions cannot be changed on AWS:
each is named by a hash of its content, a changed one is created beside the old, the schedule is
pointed at it (UpdateMonitoringSchedule) and the old one deleted.
"""

from __future__ import annotations

from pipelines.deploy.changes import CREATED, DELETED, UNCHANGED, UPDATED, Change
from pipelines.deploy.endpoint import _call, _exists
from pipelines.deploy.errors import DeployFailed, client_error_text, error_code
from pipelines.deploy.images import analyzer_image
from pipelines.deploy.monitor_spec import (
    DATA_QUALITY,
    HOURLY,
    MAX_RUNTIME,
    MODEL_QUALITY,
    PROBABILITY_ATTRIBUTE,
    PROBLEM_TYPE,
    MonitorSpec,
)
from pipelines.deploy.names import content_name

ENDPOINT_INPUT_PATH = "/opt/ml/processing/input/endpoint"  # the SDK's _CONTAINER_BASE_PATH/input/endpoint
OUTPUT_PATH = "/opt/ml/processing/output"
MONITORING_TYPES = {DATA_QUALITY: "DataQuality", MODEL_QUALITY: "ModelQuality"}
NOT_FOUND = ("ResourceNotFound", "ResourceNotFoundException", "ValidationException")


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


def ensure_managed_monitoring(sagemaker, spec: MonitorSpec, image_uri: str | None = None) -> list[Change]:
    """Job definitions and hourly schedules for both checks; re-running changes nothing that is current."""
    image_uri = image_uri or analyzer_image(spec.region)
    changes = []
    for kind, build in ((DATA_QUALITY, data_quality_job_definition), (MODEL_QUALITY, model_quality_job_definition)):
        request = build(spec, image_uri)
        changes.append(_ensure_job_definition(sagemaker, kind, request))
        changes += _ensure_schedule(sagemaker, spec, kind, request["JobDefinitionName"])
    return changes


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


def _delete_job_definition(sagemaker, kind: str, name: str) -> Change:
    """Remove the job definition the schedule used before; one still in use is left, and said so."""
    prefix = MONITORING_TYPES[kind]
    try:
        getattr(sagemaker, f"delete_{kind.replace('-', '_')}_job_definition")(JobDefinitionName=name)
    except Exception as e:
        if not error_code(e):
            raise
        return Change(f"{prefix}JobDefinition", name, UNCHANGED, f"previous definition kept: {client_error_text(e)}")
    return Change(f"{prefix}JobDefinition", name, DELETED, "replaced")


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
