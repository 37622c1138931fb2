"""A real-time endpoint for an approved model package, with data capture.

Request builders are pure (a Step Functions definition can use their dicts as task Parameters);
the `ensure_*` functions apply them idempotently with an injected SageMaker client:
CreateModel → CreateEndpointConfig → CreateEndpoint, or UpdateEndpoint when the endpoint exists
→ wait for InService.
"""

from __future__ import annotations

from pipelines.deploy.changes import CREATED, UNCHANGED, UPDATED, Change
from pipelines.deploy.errors import DeployFailed, DeployInputError, client_error_text, error_code
from pipelines.deploy.names import content_name, validate_name

VARIANT = "AllTraffic"
CSV_CONTENT_TYPES = ["text/csv"]
JSON_CONTENT_TYPES = ["application/json"]
NOT_FOUND = ("ValidationException", "ResourceNotFound", "ResourceNotFoundException")
BUSY = ("Creating", "Updating", "SystemUpdating", "RollingBack", "UpdateRollbackFailed")


def data_capture_config(destination: str, kms_key_id: str | None = None, sampling_percentage: int = 100) -> dict:
    """DataCaptureConfig as the SDK's DataCaptureConfig declares it: request and response, and the CSV
    and JSON content types named, so SageMaker captures text instead of base64 (FORMATS.md §1.1)."""
    config = {
        "EnableCapture": True,
        "InitialSamplingPercentage": sampling_percentage,
        "DestinationS3Uri": destination,
        "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
    }
    if kms_key_id:
        config["KmsKeyId"] = kms_key_id
    config["CaptureContentTypeHeader"] = {
        "CsvContentTypes": list(CSV_CONTENT_TYPES),
        "JsonContentTypes": list(JSON_CONTENT_TYPES),
    }
    return config


def model_request(endpoint: str, package_arn: str, role_arn: str, tags: list[dict]) -> dict:
    """CreateModel from the package (`Containers=[{"ModelPackageName": arn}]`), named by its content."""
    body = {"Containers": [{"ModelPackageName": package_arn}], "ExecutionRoleArn": role_arn}
    return {"ModelName": content_name(endpoint, body), **body, "Tags": tags}


def endpoint_config_request(
    endpoint: str,
    model_name: str,
    capture: dict,
    instance_type: str,
    instance_count: int,
    tags: list[dict],
) -> dict:
    body = {
        "ProductionVariants": [
            {
                "VariantName": VARIANT,
                "ModelName": model_name,
                "InitialInstanceCount": instance_count,
                "InstanceType": instance_type,
                "InitialVariantWeight": 1.0,
            }
        ],
        "DataCaptureConfig": capture,
    }
    return {"EndpointConfigName": content_name(endpoint, body), **body, "Tags": tags}


def ensure_model(sagemaker, request: dict) -> Change:
    name = request["ModelName"]
    if _exists(sagemaker.describe_model, ModelName=name):
        return Change("Model", name, UNCHANGED, "same package and role")
    _call(sagemaker.create_model, **request)
    return Change("Model", name, CREATED, request["Containers"][0]["ModelPackageName"])


def ensure_endpoint_config(sagemaker, request: dict) -> Change:
    name = request["EndpointConfigName"]
    if _exists(sagemaker.describe_endpoint_config, EndpointConfigName=name):
        return Change("EndpointConfig", name, UNCHANGED, "same model, instances and data capture")
    _call(sagemaker.create_endpoint_config, **request)
    return Change("EndpointConfig", name, CREATED, f"capture to {request['DataCaptureConfig']['DestinationS3Uri']}")


def ensure_endpoint(sagemaker, endpoint: str, config_name: str, tags: list[dict], waiter_config: dict) -> Change:
    """Create the endpoint, or point an existing one at the config (UpdateEndpoint) unless it already is."""
    validate_name(endpoint, "endpoint name")
    current = _describe_endpoint(sagemaker, endpoint)
    if current is None:
        _call(sagemaker.create_endpoint, EndpointName=endpoint, EndpointConfigName=config_name, Tags=tags)
        return Change("Endpoint", endpoint, CREATED, config_name)
    status = current.get("EndpointStatus")
    if status == "Failed":
        raise DeployFailed(
            f"endpoint {endpoint} is Failed ({current.get('FailureReason', 'no reason given')}); "
            "delete it or deploy under another --endpoint-name"
        )
    if status in BUSY:
        wait_in_service(sagemaker, endpoint, waiter_config)
    if current.get("EndpointConfigName") == config_name:
        return Change("Endpoint", endpoint, UNCHANGED, f"already serves {config_name}")
    _call(sagemaker.update_endpoint, EndpointName=endpoint, EndpointConfigName=config_name)
    return Change("Endpoint", endpoint, UPDATED, f"{current.get('EndpointConfigName')} -> {config_name}")


def wait_in_service(sagemaker, endpoint: str, waiter_config: dict) -> None:
    """Wait for InService (boto3's endpoint_in_service waiter); a Failed endpoint raises with its reason."""
    from botocore.exceptions import WaiterError

    try:
        sagemaker.get_waiter("endpoint_in_service").wait(EndpointName=endpoint, WaiterConfig=waiter_config)
    except WaiterError as e:
        reason = (e.last_response or {}).get("FailureReason") or str(e)
        raise DeployFailed(f"endpoint {endpoint} did not reach InService: {reason}") from None


def _describe_endpoint(sagemaker, endpoint: str) -> dict | None:
    try:
        return sagemaker.describe_endpoint(EndpointName=endpoint)
    except Exception as e:
        if error_code(e) in NOT_FOUND:
            return None
        raise DeployFailed(f"DescribeEndpoint {endpoint} failed: {client_error_text(e)}") from None


def _exists(describe, **kwargs) -> bool:
    try:
        describe(**kwargs)
        return True
    except Exception as e:
        if error_code(e) in NOT_FOUND:
            return False
        raise DeployFailed(f"{describe.__name__} failed: {client_error_text(e)}") from None


def _call(operation, **kwargs):
    from botocore.exceptions import ParamValidationError

    try:
        return operation(**kwargs)
    except ParamValidationError as e:
        raise DeployInputError(str(e)) from None
    except Exception as e:
        if error_code(e):
            raise DeployFailed(f"{operation.__name__} failed: {client_error_text(e)}") from None
        raise
