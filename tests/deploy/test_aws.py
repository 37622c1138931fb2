"""The deploy against moto: the latest approved package, the model, the endpoint config with data
capture, the endpoint (created, updated, left), and the inputs it refuses."""

from __future__ import annotations

import pytest

from pipelines.deploy.aws import deploy
from pipelines.deploy.errors import DeployInputError
from tests.deploy.conftest import BUCKET, GROUP, ROLE, settings, validate_request


def test_deploys_the_newest_approved_package_with_data_capture(aws):
    aws.package("Approved", version="v1")
    newest = aws.package("Approved", version="v2")
    aws.package("PendingManualApproval", version="v3")

    report = deploy(aws.clients, settings())

    assert report.model_package_arn == newest
    listing = next(p for _, op, p in aws.recorder.calls if op == "ListModelPackages")
    assert listing["SortOrder"] == "Descending" and listing["ModelApprovalStatus"] == "Approved"
    sm = aws.clients.sagemaker
    endpoint = sm.describe_endpoint(EndpointName=report.endpoint_name)
    assert endpoint["EndpointStatus"] == "InService"
    config = sm.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
    capture = config["DataCaptureConfig"]
    assert capture["InitialSamplingPercentage"] == 100
    assert capture["DestinationS3Uri"] == f"s3://{BUCKET}/datacapture"
    assert capture["CaptureOptions"] == [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}]
    assert capture["CaptureContentTypeHeader"] == {
        "CsvContentTypes": ["text/csv"],
        "JsonContentTypes": ["application/json"],
    }
    model = sm.describe_model(ModelName=config["ProductionVariants"][0]["ModelName"])
    assert model["Containers"][0]["ModelPackageName"] == newest
    assert model["ExecutionRoleArn"] == ROLE
    tags = sm.list_tags(ResourceArn=endpoint["EndpointArn"])["Tags"]
    assert {"Key": "sagemaker:deployment-stage", "Value": "staging"} in tags


def test_data_capture_config_is_the_sdks(aws):
    import boto3
    from sagemaker import Session
    from sagemaker.model_monitor import DataCaptureConfig

    from pipelines.deploy.endpoint import data_capture_config

    session = Session(boto_session=boto3.Session(region_name="us-east-1"), default_bucket=BUCKET)
    for kms in (None, "alias/capture"):
        sdk = DataCaptureConfig(
            enable_capture=True,
            sampling_percentage=100,
            destination_s3_uri="s3://b/capture",
            kms_key_id=kms,
            capture_options=["REQUEST", "RESPONSE"],
            csv_content_types=["text/csv"],
            json_content_types=["application/json"],
            sagemaker_session=session,
        )
        assert data_capture_config("s3://b/capture", kms) == sdk._to_request_dict()


def test_project_names_and_tags(aws):
    aws.package()
    report = deploy(aws.clients, settings(project_name="bc-project", project_id="p-abc123", stage="prod"))
    assert report.endpoint_name == "bc-project-prod"
    arn = aws.clients.sagemaker.describe_endpoint(EndpointName="bc-project-prod")["EndpointArn"]
    tags = {t["Key"]: t["Value"] for t in aws.clients.sagemaker.list_tags(ResourceArn=arn)["Tags"]}
    assert tags == {
        "sagemaker:deployment-stage": "prod",
        "sagemaker:project-name": "bc-project",
        "sagemaker:project-id": "p-abc123",
    }


def test_a_second_run_changes_nothing(aws):
    aws.package()
    deploy(aws.clients, settings())
    sent = len(aws.recorder.calls)

    again = deploy(aws.clients, settings())

    assert {c.action for c in again.changes} == {"unchanged"}
    second = [op for _, op, _ in aws.recorder.calls[sent:]]
    assert not [op for op in second if op.startswith(("Create", "Update", "Put"))]


def test_a_new_package_updates_the_existing_endpoint(aws):
    aws.package(version="v1")
    first = deploy(aws.clients, settings())
    old_config = aws.clients.sagemaker.describe_endpoint(EndpointName=first.endpoint_name)["EndpointConfigName"]
    newer = aws.package(version="v2")
    from pipelines.deploy.endpoint import endpoint_config_request, model_request

    model = model_request(first.endpoint_name, newer, ROLE, [])["ModelName"]
    capture = aws.clients.sagemaker.describe_endpoint_config(EndpointConfigName=old_config)["DataCaptureConfig"]
    wanted = endpoint_config_request(first.endpoint_name, model, capture, "ml.m5.large", 1, [])["EndpointConfigName"]
    aws.routed.respond(
        "UpdateEndpoint",
        {"EndpointArn": f"arn:aws:sagemaker:us-east-1:123456789012:endpoint/{first.endpoint_name}"},
        {"EndpointName": first.endpoint_name, "EndpointConfigName": wanted},
    )

    report = deploy(aws.clients, settings())

    changes = {c.kind: c for c in report.changes}
    assert changes["Model"].action == "created" and changes["EndpointConfig"].action == "created"
    assert changes["Endpoint"].action == "updated"
    assert changes["Endpoint"].detail == f"{old_config} -> {wanted}"
    aws.routed.done()


def test_every_request_fits_botocores_shapes(aws):
    aws.package()
    deploy(aws.clients, settings())
    deploy(aws.clients, settings(monitor_engine="processing", report_destination=f"s3://{BUCKET}/other"))
    assert aws.recorder.calls
    for service, operation, params in aws.recorder.calls:
        validate_request(service, operation, params)


def test_no_approved_package(aws):
    aws.package("PendingManualApproval")
    with pytest.raises(DeployInputError, match=f"group '{GROUP}' has no approved model package"):
        deploy(aws.clients, settings())
    assert "CreateModel" not in aws.recorder.operations()


def test_a_package_without_drift_check_baselines(aws):
    arn = aws.package(baselines={})
    with pytest.raises(
        DeployInputError, match="no drift-check baseline DriftCheckBaselines.ModelDataQuality.Statistics"
    ):
        deploy(aws.clients, settings(model_package_arn=arn))
    assert "CreateModel" not in aws.recorder.operations()


def test_a_package_without_the_model_quality_baseline(aws):
    from tests.deploy.conftest import drift_check_baselines

    baselines = drift_check_baselines()
    del baselines["ModelQuality"]
    arn = aws.package(baselines=baselines)
    with pytest.raises(DeployInputError, match="DriftCheckBaselines.ModelQuality.Constraints"):
        deploy(aws.clients, settings(model_package_arn=arn))


def test_a_package_that_is_not_approved(aws):
    arn = aws.package("Rejected")
    with pytest.raises(DeployInputError, match="is Rejected; only Approved packages deploy"):
        deploy(aws.clients, settings(model_package_arn=arn))


def test_an_unknown_package(aws):
    arn = "arn:aws:sagemaker:us-east-1:123456789012:model-package/nope/9"
    with pytest.raises(DeployInputError, match="cannot be read"):
        deploy(aws.clients, settings(model_package_arn=arn))


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"monitor_engine": "clarify"}, "unknown monitor engine 'clarify'"),
        ({"capture_destination": "bucket/prefix"}, "--capture-destination: Not an S3 URI"),
        ({"report_destination": "s3://Bad_Bucket/x"}, "--report-destination: Invalid bucket name 'Bad_Bucket'"),
        ({"ground_truth": "s3://bucket//x"}, "--ground-truth: S3 URI 's3://bucket//x' has an empty or relative"),
        ({"capture_destination": "s3://bucket/../x"}, "relative path segment"),
        ({"role_arn": "my-role"}, "--role-arn 'my-role' is not an IAM role ARN"),
        ({"endpoint_name": "bad_name!"}, "endpoint name 'bad_name!' is not a valid SageMaker name"),
        ({"instance_count": 0}, "at least one instance"),
    ],
)
def test_bad_settings(overrides, message):
    with pytest.raises(DeployInputError, match=message.replace("(", r"\(").replace("?", r"\?")):
        settings(**overrides)
