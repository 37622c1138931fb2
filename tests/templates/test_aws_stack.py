"""Opt-in: the packaged product template launched in a real AWS account, then torn down by `mlops teardown`.

Runs only with `MLOPS_AWS_TESTS=1` and credentials (it creates a stack with IAM roles, a KMS key and buckets,
and costs cents); skipped otherwise. The stack is created directly by CloudFormation, without Service Catalog
or SageMaker Projects, with the template bucket `mlops template register` would use (its template is too big
for a TemplateBody) and the jobs' code in it, as register leaves it.
"""

from __future__ import annotations

import json
import os
import uuid

import pytest

from tests.templates.conftest import REGION

pytestmark = [pytest.mark.aws, pytest.mark.slow, pytest.mark.timeout(3600)]


@pytest.fixture
def session():
    if os.environ.get("MLOPS_AWS_TESTS") != "1":
        pytest.skip("deploys to a real AWS account: set MLOPS_AWS_TESTS=1 (and credentials) to run it")
    import boto3

    made = boto3.Session(region_name=os.environ.get("AWS_DEFAULT_REGION", REGION))
    if made.get_credentials() is None:
        pytest.skip("MLOPS_AWS_TESTS=1 but no AWS credentials")
    return made


def test_the_product_stack_launches_and_tears_down(session, tmp_path):
    from pipelines.teardown.aws import TeardownClients, teardown
    from pipelines.teardown.inventory import find
    from pipelines.template.package import package
    from pipelines.template.register import (
        RegisterReport,
        RegisterSettings,
        ensure_bucket,
        job_code,
        registered_template,
        upload,
    )

    region = session.region_name
    account = session.client("sts").get_caller_identity()["Account"]
    packaged = package(tmp_path, region)
    product_yaml = packaged.path("product.yaml").read_text()
    role = f"arn:aws:iam::{account}:role/service-role/mlops-sagemaker-project-launch"  # not used: no Service Catalog
    settings = RegisterSettings(region=region, account=account, launch_role_arn=role, principal_arns=())
    bucket, s3, report = settings.template_bucket, session.client("s3"), RegisterReport()
    ensure_bucket(s3, bucket, region, report)
    seed_key = f"aws-test/{uuid.uuid4().hex}/seed-code.zip"
    upload(s3, bucket, seed_key, packaged.path("seed-code.zip").read_bytes(), "application/zip", report)
    for key, body in job_code(product_yaml).items():
        upload(s3, bucket, key, body, "application/octet-stream", report)
    template_key = f"aws-test/{uuid.uuid4().hex}/product.yaml"
    upload(s3, bucket, template_key, registered_template(product_yaml, bucket, seed_key).encode(), "text/yaml", report)

    project, project_id = f"t{uuid.uuid4().hex[:8]}", f"p-{uuid.uuid4().hex[:12]}"
    cloudformation = session.client("cloudformation")
    stack = f"mlops-aws-test-{project}"
    cloudformation.create_stack(
        StackName=stack,
        TemplateURL=f"https://{bucket}.s3.{region}.amazonaws.com/{template_key}",
        Parameters=[
            {"ParameterKey": "SageMakerProjectName", "ParameterValue": project},
            {"ParameterKey": "SageMakerProjectId", "ParameterValue": project_id},
            {"ParameterKey": "PermissionsBoundaryPolicy", "ParameterValue": ""},  # no launch-role stack here
        ],
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
    )
    try:
        cloudformation.get_waiter("stack_create_complete").wait(
            StackName=stack, WaiterConfig={"Delay": 15, "MaxAttempts": 120}
        )
        outputs = {
            o["OutputKey"]: o["OutputValue"]
            for o in cloudformation.describe_stacks(StackName=stack)["Stacks"][0]["Outputs"]
        }
        machine = session.client("stepfunctions").describe_state_machine(
            stateMachineArn=outputs["DeployStateMachineArn"]
        )
        definition = json.loads(machine["definition"])
        assert "DataCaptureConfig" in json.dumps(definition) and "${" not in json.dumps(definition)
        topic = session.client("sns").get_topic_attributes(TopicArn=outputs["ApprovalTopicArn"])["Attributes"]
        assert topic["KmsMasterKeyId"] == outputs["KmsKeyArn"]
    finally:
        clients = TeardownClients.from_session(session)
        teardown(clients, find(clients, project, project_id), lambda data: True)  # a refusal raises TeardownFailed
        assert not find(clients, project, project_id).stacks, "the stack is gone"
