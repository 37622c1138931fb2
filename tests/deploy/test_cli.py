"""`mlops deploy --aws`: the dry run's plan (validated, nothing sent), the deploy against moto, and
the inputs it refuses with exit 2."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from pipelines.cli import main
from tests.deploy.conftest import BUCKET, ROLE, validate_request


def invoke(*args: str):
    return CliRunner().invoke(main, ["deploy", *args])


@pytest.mark.parametrize("engine", ["managed", "processing"])
def test_dry_run_prints_every_request_validated_and_sends_none(engine, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "nobody")  # a real call would be refused: none may be sent
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    result = invoke("--aws", "--dry-run", "--region", "eu-west-1", "--monitor-engine", engine)
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    operations = [r["operation"] for r in plan["requests"]]
    assert operations[:2] == ["ListModelPackages", "DescribeModelPackage"]
    assert {"CreateModel", "CreateEndpointConfig", "CreateEndpoint"} <= set(operations)
    wanted = {"managed": {"CreateDataQualityJobDefinition", "CreateModelQualityJobDefinition", "CreateMonitoringSchedule"},
              "processing": {"PutObject", "CreateSchedule"}}[engine]  # fmt: skip
    assert wanted <= set(operations)
    for request in plan["requests"]:
        params = request["params"]
        if request["operation"] == "PutObject":
            params = {**params, "Body": b""}
        validate_request(request["service"], request["operation"], params)
    switch = plan["engine_switch"]
    assert switch["from_engine"] == ("processing" if engine == "managed" else "managed")
    removals = {"managed": ["DeleteSchedule"] * 2,
                "processing": ["DeleteMonitoringSchedule", "DeleteDataQualityJobDefinition",
                               "DeleteMonitoringSchedule", "DeleteModelQualityJobDefinition"]}[engine]  # fmt: skip
    assert [r["operation"] for r in switch["requests"] if r["operation"].startswith("Delete")] == removals
    assert {c["action"] for c in switch["changes"]} == {"deleted"} and switch["assumptions"]
    endpoint = plan["result"]["endpoint_name"]
    for request in switch["requests"]:
        assert next(iter(request["params"].values())).startswith(endpoint)
        validate_request(request["service"], request["operation"], request["params"])
    assert not [r for r in plan["requests"] if r["operation"].startswith("Delete")]  # nothing to remove in the plan
    config = next(r for r in plan["requests"] if r["operation"] == "CreateEndpointConfig")["params"]
    assert config["DataCaptureConfig"]["CaptureContentTypeHeader"]["CsvContentTypes"] == ["text/csv"]
    assert plan["assumptions"] and set(plan["iam_policies"]) >= {"deployer", "model", "monitoring"}


def route_cli_clients(monkeypatch) -> list:
    """The CLI makes its own clients: route the SageMaker calls moto lacks to a Stubber, as for the fixture's."""
    from pipelines.deploy.aws import AwsClients
    from tests.deploy.conftest import Routed

    made, original = [], AwsClients.from_session.__func__

    def from_session(cls, session):
        clients = original(cls, session)
        made.append(Routed(clients.sagemaker))
        return clients

    monkeypatch.setattr(AwsClients, "from_session", classmethod(from_session))
    return made


def test_deploys_against_moto_and_reports_each_resource(aws, monkeypatch):
    aws.package()
    route_cli_clients(monkeypatch)
    result = invoke("--aws", "--region", "us-east-1", "--role-arn", ROLE, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["monitor_engine"] == "processing"
    assert report["capture_uri"] == f"s3://{BUCKET}/datacapture/{report['endpoint_name']}"
    assert {(c["kind"], c["action"]) for c in report["changes"]} >= {("Endpoint", "created"), ("Schedule", "created")}


def test_no_approved_package_exits_2(aws):
    result = invoke("--aws", "--region", "us-east-1", "--role-arn", ROLE)
    assert result.exit_code == 2
    assert "has no approved model package" in result.output


@pytest.mark.parametrize(
    "args, message",
    [
        (["--monitor-engine", "clarify"], "'clarify' is not one of 'managed', 'processing'"),
        (["--report-destination", "reports/"], "--report-destination: Not an S3 URI"),
        (["--capture-destination", "s3://x/y"], "Invalid bucket name"),
        (["--ground-truth", "s3://bucket//gt"], "empty or relative path segment"),
        (["--role-arn", "admin"], "is not an IAM role ARN"),
        (["--port", "8080"], "--port: only for --local"),
        (["--header-timeout", "5"], "--header-timeout: only for --local"),
        (["--endpoint-name", "no_underscores"], "is not a valid SageMaker name"),
    ],
)
def test_bad_input_exits_2(args, message):
    result = invoke("--aws", "--dry-run", "--region", "us-east-1", *args)
    assert result.exit_code == 2, result.output
    assert message in result.output


def test_aws_options_are_refused_with_local():
    result = invoke("--local", "--monitor-engine", "managed")
    assert result.exit_code == 2 and "--monitor-engine: only for --aws" in result.output


def test_a_real_run_needs_a_role(aws):
    result = invoke("--aws", "--region", "us-east-1")
    assert result.exit_code == 2 and "--role-arn is required" in result.output
