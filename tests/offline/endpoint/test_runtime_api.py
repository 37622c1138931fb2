"""boto3's sagemaker-runtime client, unmodified, against the host: answers and AWS's errors."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from offline.defaults import LOCAL_ACCOUNT_ID, LOCAL_REGION
from offline.traffic import runtime_client

from .conftest import ENDPOINT


@pytest.fixture(scope="module")
def runtime(host):
    return runtime_client(host.url)


def test_invoke_endpoint_csv(runtime, rows):
    response = runtime.invoke_endpoint(
        EndpointName=ENDPOINT, ContentType="text/csv", Accept="text/csv", Body=rows[0], CustomAttributes="trace=1"
    )
    assert response["ContentType"] == "text/csv"
    assert response["InvokedProductionVariant"] == "AllTraffic"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert len(response["ResponseMetadata"]["RequestId"]) == 36
    probability, label, review = response["Body"].read().decode().strip().split(",")
    assert 0 <= float(probability) <= 1 and label in "01" and review in "01"


def test_invoke_endpoint_json_with_inference_id(runtime, rows):
    body = json.dumps({"instances": [[float(v) for v in rows[1].split(",")]]})
    response = runtime.invoke_endpoint(
        EndpointName=ENDPOINT, ContentType="application/json", Body=body, InferenceId="runtime-json-1"
    )
    assert response["ContentType"] == "application/json"
    assert len(json.loads(response["Body"].read())["predictions"]) == 1


@pytest.mark.parametrize(
    ("params", "status", "words"),
    [
        ({"Body": "1,2,3"}, 400, "expected 30 features"),
        ({"Body": "", "ContentType": "text/csv"}, 400, "empty"),
        ({"Body": "1,2", "ContentType": "text/plain"}, 415, "not supported"),
        ({"Body": "ROW", "Accept": "image/png"}, 406, "accept type"),
    ],
)
def test_container_errors_are_model_errors_as_aws_reports_them(runtime, rows, params, status, words):
    params = {"ContentType": "text/csv", **params}
    if params["Body"] == "ROW":
        params["Body"] = rows[0]
    with pytest.raises(runtime.exceptions.ModelError) as raised:
        runtime.invoke_endpoint(EndpointName=ENDPOINT, **params)
    response = raised.value.response
    assert response["Error"]["Code"] == "ModelError"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 424
    assert response["OriginalStatusCode"] == status
    original = json.loads(response["OriginalMessage"])
    assert original["code"] == status and words in original["message"]
    group = f"/aws/sagemaker/Endpoints/{ENDPOINT}"
    assert response["LogStreamArn"] == f"arn:aws:logs:{LOCAL_REGION}:{LOCAL_ACCOUNT_ID}:log-group:{group}"
    message = response["Error"]["Message"]
    assert message.startswith(f'Received client error ({status}) from primary with message "{{')
    assert message.endswith(f"{group} in account {LOCAL_ACCOUNT_ID} for more information.")


def test_unknown_endpoint_is_a_validation_error(runtime, rows):
    with pytest.raises(runtime.exceptions.ValidationError) as raised:
        runtime.invoke_endpoint(EndpointName="no-such-endpoint", ContentType="text/csv", Body=rows[0])
    error = raised.value.response["Error"]
    assert error["Message"] == f"Endpoint no-such-endpoint of account {LOCAL_ACCOUNT_ID} not found."
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_header_constraints_come_from_botocores_model(runtime, rows):
    with pytest.raises(ClientError) as raised:
        runtime.invoke_endpoint(EndpointName=ENDPOINT, ContentType="text/csv", Body=rows[0], InferenceId="x" * 65)
    error = raised.value.response["Error"]
    assert error["Code"] == "ValidationError"
    assert error["Message"] == (
        f"1 validation error detected: Value '{'x' * 65}' at 'inferenceId' failed to satisfy constraint: "
        "Member must have length less than or equal to 64"
    )
    with pytest.raises(ClientError) as raised:
        runtime.invoke_endpoint(EndpointName=ENDPOINT, ContentType="text/csv", Body=rows[0], InferenceId="tab\there")
    assert "regular expression pattern" in raised.value.response["Error"]["Message"]


def test_target_variant_must_exist(runtime, rows):
    ok = runtime.invoke_endpoint(
        EndpointName=ENDPOINT, ContentType="text/csv", Body=rows[0], TargetVariant="AllTraffic"
    )
    assert ok["InvokedProductionVariant"] == "AllTraffic"
    with pytest.raises(runtime.exceptions.ValidationError):
        runtime.invoke_endpoint(EndpointName=ENDPOINT, ContentType="text/csv", Body=rows[0], TargetVariant="Canary")
