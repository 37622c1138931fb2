"""`run-pipeline` (the CodeBuild job's command) against moto standing in for SageMaker."""

import json

import boto3
import pytest
from moto import mock_aws

from pipelines import run_pipeline

ROLE = "arn:aws:iam::123456789012:role/SageMakerPipelineRole"


def test_role_arn_is_required(capsys):
    assert run_pipeline.main(["--kwargs", "{}"]) == 2
    assert "--role-arn is required" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tags", "{}"], "must be a JSON list"),
        (["--tags", '[{"Key": "a"}]'], '{"Key": ..., "Value": ...}'),
        (["--kwargs", "[]"], "must be a JSON object"),
    ],
)
def test_malformed_arguments_exit_2(args, message, capsys):
    assert run_pipeline.main(["--role-arn", ROLE, *args]) == 2
    assert message in capsys.readouterr().err


@pytest.fixture
def moto_aws(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="artifacts")
        yield boto3.client("sagemaker", region_name="us-east-1")


@pytest.mark.slow
def test_upserts_starts_and_waits(moto_aws, capsys):
    kwargs = {"region": "us-east-1", "role": ROLE, "default_bucket": "artifacts", "pipeline_name": "demo-p-1"}
    tags = [{"Key": "sagemaker:project-name", "Value": "demo"}]
    code = run_pipeline.main(["--role-arn", ROLE, "--kwargs", json.dumps(kwargs), "--tags", json.dumps(tags)])
    assert code == 0, capsys.readouterr().err[-2000:]
    pipeline = moto_aws.describe_pipeline(PipelineName="demo-p-1")
    definition = json.loads(pipeline["PipelineDefinition"])
    assert definition["Steps"][0]["Name"] == "PreprocessData"
    [execution] = moto_aws.list_pipeline_executions(PipelineName="demo-p-1")["PipelineExecutionSummaries"]
    assert execution["PipelineExecutionStatus"] == "Succeeded"
    # The code went to the artifact bucket, as on AWS.
    keys = [o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket="artifacts")["Contents"]]
    assert any(k.endswith("sourcedir.tar.gz") for k in keys)
