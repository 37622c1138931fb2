"""Task resources: which ARNs run locally, the boto3 call each makes, and AWS's names for their failures.

- `arn:aws:states:::sagemaker:<action>` (optimised integration, request-response) and `…:<job>.sync` for
  createTrainingJob / createProcessingJob / createTransformJob / createHyperParameterTuningJob (the
  Describe* call is polled until the job ends). A failed call is `SageMaker.AmazonSageMakerException`; a job
  that ends Failed or Stopped is `States.TaskFailed` with the Describe* output as its cause.
- `arn:aws:states:::aws-sdk:<service>:<action>`: camelCase action -> the boto3 operation, PascalCase
  parameters passed through; a failed call is `<Service>.<Code>Exception` (`SageMaker.ValidationException`,
  `S3.NoSuchKeyException`), the service named in PascalCase as AWS's Java SDK names it.
- `arn:aws:states:::sns:publish` and `.waitForTaskToken` on sns:publish and aws-sdk:* (the token wait itself
  is the interpreter's).
Anything else fails the state with `States.Runtime` naming the resource.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3
from botocore import xform_name
from botocore.exceptions import BotoCoreError, ClientError, ParamValidationError, UnknownServiceError
from botocore.model import Shape
from botocore.response import StreamingBody
from botocore.validate import validate_parameters

from offline.stepfunctions.errors import RUNTIME, TASK_FAILED, StatesError

ClientFactory = Callable[[str], Any]  # boto3 service name -> client

SYNC = "sync"
WAIT_FOR_TASK_TOKEN = "waitForTaskToken"
_ARN = re.compile(r"arn:aws[a-z-]*:states:[a-z0-9-]*:\d*:(?P<rest>.+)")
# The optimised integrations answered locally: family -> (client, error name, the Java v1 service name in causes).
_OPTIMISED = {
    "sagemaker": ("sagemaker", "SageMaker.AmazonSageMakerException", "AmazonSageMaker"),
    "sns": ("sns", "SNS.AmazonSNSException", "AmazonSNS"),
}
_OPTIMISED_PATTERNS = {"sagemaker": ("",), "sns": ("", WAIT_FOR_TASK_TOKEN)}
_SNS_ACTIONS = ("publish",)


@dataclass(frozen=True)
class SyncJob:
    describe: str  # operations, as botocore names them
    stop: str
    name_field: str
    status_field: str


def _job(kind: str) -> SyncJob:
    return SyncJob(f"Describe{kind}", f"Stop{kind}", f"{kind}Name", f"{kind}Status")


SYNC_JOBS = {
    f"create{kind}": _job(kind) for kind in ("TrainingJob", "ProcessingJob", "TransformJob", "HyperParameterTuningJob")
}
JOB_SUCCEEDED = "Completed"
JOB_FAILED = ("Failed", "Stopped")


@dataclass(frozen=True)
class Resource:
    arn: str
    family: str  # "sagemaker", "sns" or "aws-sdk"
    service: str  # the boto3 client name
    action: str  # camelCase, as in the ARN
    pattern: str  # "", "sync" or "waitForTaskToken"
    sdk_service: str = ""  # aws-sdk only: the service as the ARN names it

    @property
    def resource_type(self) -> str:
        """As TaskScheduled reports it: "sagemaker", "aws-sdk:sagemaker"."""
        return f"aws-sdk:{self.sdk_service}" if self.family == "aws-sdk" else self.family

    @property
    def resource(self) -> str:
        return f"{self.action}.{self.pattern}" if self.pattern else self.action

    @property
    def operation(self) -> str:
        return self.action[:1].upper() + self.action[1:]


def unsupported(arn: str, why: str = "") -> StatesError:
    return StatesError(
        RUNTIME,
        f"The resource '{arn}' is not supported by the local Step Functions runtime{': ' + why if why else ''}. "
        "It runs arn:aws:states:::sagemaker:<action> (.sync for training, processing, transform and tuning jobs), "
        "arn:aws:states:::aws-sdk:<service>:<action>[.waitForTaskToken] and arn:aws:states:::sns:publish[.waitForTaskToken]",
    )


def parse_resource(arn: str) -> Resource:
    """The integration an ARN names, or States.Runtime if this runtime cannot run it."""
    match = _ARN.fullmatch(arn) if isinstance(arn, str) else None
    if match is None:
        raise unsupported(str(arn), "not a Step Functions service integration ARN")
    parts = match.group("rest").split(":")
    action, _, pattern = parts[-1].partition(".")
    if pattern not in ("", SYNC, WAIT_FOR_TASK_TOKEN) or not action:
        raise unsupported(arn, f"unknown integration pattern '.{pattern}'")
    if parts[0] == "aws-sdk" and len(parts) == 3:
        if pattern == SYNC:
            raise unsupported(arn, "AWS SDK integrations have no .sync pattern")
        return Resource(arn, "aws-sdk", boto3_service(parts[1], arn), action, pattern, parts[1])
    if len(parts) == 2 and parts[0] in _OPTIMISED:
        family = parts[0]
        if pattern == SYNC and family == "sagemaker" and action in SYNC_JOBS:
            return Resource(arn, family, _OPTIMISED[family][0], action, pattern)
        if pattern not in _OPTIMISED_PATTERNS[family] or (family == "sns" and action not in _SNS_ACTIONS):
            raise unsupported(arn)
        return Resource(arn, family, _OPTIMISED[family][0], action, pattern)
    raise unsupported(arn)


@functools.cache
def _available_services() -> tuple[str, ...]:
    return tuple(boto3.session.Session().get_available_services())


_SDK_NAME_ALIASES = {"sfn": "stepfunctions"}


def boto3_service(sdk_name: str, arn: str) -> str:
    """The boto3 client name for an aws-sdk service name (`sagemaker`, `s3`, `sfn`, `sagemakerruntime`)."""
    names = _available_services()
    if sdk_name in names:
        return sdk_name
    alias = _SDK_NAME_ALIASES.get(sdk_name)
    if alias:
        return alias
    for name in names:
        if name.replace("-", "") == sdk_name:
            return name
    raise unsupported(arn, f"no AWS service is named '{sdk_name}'")


def java_service_name(service_id: str) -> str:
    """AWS's PascalCase service name in aws-sdk error names: SageMaker, S3, Sfn, Ec2, AcmPca, DynamoDb."""
    out = []
    for word in re.split(r"[\s-]+", service_id.strip()):
        if re.fullmatch(r"[A-Z0-9]+", word):  # an acronym: EC2 -> Ec2, SFN -> Sfn
            word = word[:1] + word[1:].lower()
        out.append(word[:1].upper() + word[1:].replace("DB", "Db"))
    return "".join(out)


@dataclass(frozen=True)
class Call:
    """A request ready to send: checked against the service model before the task is scheduled."""

    resource: Resource
    service_id: str
    method: Callable[..., dict]
    request: dict


class Integrations:
    """Runs the calls of task resources through boto3 clients from `clients`."""

    def __init__(self, clients: ClientFactory):
        self.clients = clients

    def prepare(self, resource: Resource, parameters: Any, operation: str | None = None) -> Call:
        """The call a task makes; States.Runtime (before anything is scheduled) if the model rejects it."""
        operation = operation or resource.operation
        try:
            client = self.clients(resource.service)
        except UnknownServiceError as e:
            raise unsupported(resource.arn, str(e)) from e
        model = client.meta.service_model
        if operation not in model.operation_names:
            raise unsupported(resource.arn, f"the {model.service_id} API has no action '{resource.action}'")
        if not isinstance(parameters, dict):
            raise StatesError(RUNTIME, f"The Parameters of a {resource.arn} task must be an object")
        shape = model.operation_model(operation).input_shape
        request = _to_request(shape, parameters)
        try:
            validate_parameters(request, shape)
        except ParamValidationError as e:
            raise StatesError(RUNTIME, f"The Parameters of {resource.arn} are not valid: {e}") from e
        return Call(resource, model.service_id, getattr(client, xform_name(operation)), request)

    def send(self, call: Call) -> Any:
        """Make the call; its output as JSON, or the AWS-named error of the integration."""
        try:
            response = call.method(**call.request)
        except ClientError as e:
            raise _client_error(call.resource, call.service_id, e) from e
        except BotoCoreError as e:
            raise StatesError(f"{java_service_name(call.service_id)}.SdkClientException", str(e)) from e
        response.pop("ResponseMetadata", None)
        return _to_output(response, iso_timestamps=call.resource.family == "aws-sdk")

    def poll_job(self, resource: Resource, parameters: dict) -> tuple[str, Any]:
        """(status, Describe* output) of a .sync job; States.TaskFailed when it ended Failed or Stopped."""
        job = SYNC_JOBS[resource.action]
        described = self.send(self.prepare(resource, {job.name_field: parameters.get(job.name_field)}, job.describe))
        status = described.get(job.status_field)
        if status in JOB_FAILED:
            raise StatesError(TASK_FAILED, json.dumps(described, separators=(",", ":")))
        return status, described

    def stop_job(self, resource: Resource, parameters: dict) -> None:
        """Best effort, when the execution stops or the task times out while its job runs (as AWS does)."""
        job = SYNC_JOBS[resource.action]
        # The job may have ended meanwhile, or the service cannot stop it: nothing more to do then.
        with contextlib.suppress(StatesError):
            self.send(self.prepare(resource, {job.name_field: parameters.get(job.name_field)}, job.stop))


def _client_error(resource: Resource, service_id: str, error: ClientError) -> StatesError:
    details = error.response.get("Error", {})
    meta = error.response.get("ResponseMetadata", {})
    code, message = details.get("Code", "Unknown"), details.get("Message", "")
    status, request_id = meta.get("HTTPStatusCode", 400), meta.get("RequestId", "")
    if resource.family == "aws-sdk":
        service = java_service_name(service_id)
        name = code if code.endswith("Exception") else f"{code}Exception"
        return StatesError(
            f"{service}.{name}", f"{message} (Service: {service}, Status Code: {status}, Request ID: {request_id})"
        )
    _, name, service = _OPTIMISED[resource.family]
    return StatesError(
        name,
        f"{message} (Service: {service}; Status Code: {status}; Error Code: {code}; Request ID: {request_id}; Proxy: null)",
    )


def _to_request(shape: Shape | None, value: Any) -> Any:
    """States-language JSON -> boto3 arguments: JSON values given for string or blob members become JSON text."""
    if shape is None:
        return value
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        return {k: _to_request(shape.members.get(k), v) if k in shape.members else v for k, v in value.items()}
    if kind == "list" and isinstance(value, list):
        return [_to_request(shape.member, v) for v in value]
    if kind == "map" and isinstance(value, dict):
        return {k: _to_request(shape.value, v) for k, v in value.items()}
    if kind == "string" and isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    if kind == "blob" and not isinstance(value, (str, bytes)):
        return json.dumps(value, separators=(",", ":")).encode()
    return value


def _to_output(value: Any, iso_timestamps: bool) -> Any:
    """boto3 results -> JSON: timestamps as AWS's integrations give them (aws-sdk: ISO text; optimised: epoch ms)."""
    if isinstance(value, dict):
        return {k: _to_output(v, iso_timestamps) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_output(v, iso_timestamps) for v in value]
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        if iso_timestamps:
            return value.astimezone(dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return round(value.timestamp() * 1000)
    if isinstance(value, StreamingBody):
        value = value.read()
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return base64.b64encode(value).decode()
    return value
