"""`mlops deploy --aws --direct` (the deploy without the workflow): the dry run's plan (validated, nothing sent),
the deploy against moto, and the inputs it refuses with exit 2."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from pipelines.cli import main
from tests.deploy.conftest import BUCKET, ROLE, TEMPLATE, WORKTEAM, validate_request


def invoke(*args: str):
    return CliRunner().invoke(main, ["deploy", *args])


@pytest.mark.parametrize("engine", ["managed", "processing"])
def test_dry_run_prints_every_request_validated_and_sends_none(engine, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "nobody")  # a real call would be refused: none may be sent
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    result = invoke("--aws", "--direct", "--dry-run", "--region", "eu-west-1", "--monitor-engine", engine)
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


def route_cli_clients(monkeypatch, recorder=None, prepare=None) -> list:
    """The CLI makes its own clients: route the SageMaker calls moto lacks to a Stubber, as for the fixture's
    (and record what they send, when given a recorder; `prepare(routed)` queues answers)."""
    from pipelines.deploy.aws import AwsClients
    from tests.deploy.conftest import Routed

    made, original = [], AwsClients.from_session.__func__

    def from_session(cls, session):
        clients = original(cls, session)
        if recorder is not None:
            for client in (clients.sagemaker, clients.s3, clients.scheduler, clients.sts, clients.a2i):
                recorder.attach(client)
        made.append(Routed(clients.sagemaker))
        if prepare is not None:
            prepare(made[-1])
        return clients

    monkeypatch.setattr(AwsClients, "from_session", classmethod(from_session))
    return made


def test_deploys_against_moto_and_reports_each_resource(aws, monkeypatch):
    aws.package()
    route_cli_clients(monkeypatch)
    result = invoke("--aws", "--direct", "--region", "us-east-1", "--role-arn", ROLE, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["monitor_engine"] == "processing"
    assert report["capture_uri"] == f"s3://{BUCKET}/datacapture/{report['endpoint_name']}"
    assert {(c["kind"], c["action"]) for c in report["changes"]} >= {("Endpoint", "created"), ("Schedule", "created")}


def test_no_approved_package_exits_2(aws):
    result = invoke("--aws", "--direct", "--region", "us-east-1", "--role-arn", ROLE)
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
        (["--kms-key-id", "alias/capture"], "aws kms describe-key --key-id alias/capture"),
    ],
)
def test_bad_input_exits_2(args, message):
    result = invoke("--aws", "--direct", "--dry-run", "--region", "us-east-1", *args)
    assert result.exit_code == 2, result.output
    assert message in result.output


def test_aws_options_are_refused_with_local():
    result = invoke("--local", "--monitor-engine", "managed")
    assert result.exit_code == 2 and "--monitor-engine: only for --aws" in result.output


def test_a_real_run_needs_a_role(aws):
    result = invoke("--aws", "--direct", "--region", "us-east-1")
    assert result.exit_code == 2 and "--role-arn is required" in result.output


REVIEW = ["--review", "a2i", "--workteam-arn", WORKTEAM]


@pytest.fixture
def template_file(tmp_path):
    path = tmp_path / "review.liquid.html"
    path.write_text(TEMPLATE)
    return str(path)


def test_dry_run_with_review_prints_the_review_requests_validated(monkeypatch, starter, template_file):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "nobody")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    result = invoke(
        "--aws", "--direct", "--dry-run", "--region", "us-east-1", *REVIEW, "--task-template", template_file
    )
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    operations = [r["operation"] for r in plan["requests"]]
    review = operations[operations.index("DescribeHumanTaskUi") :]
    assert [op for op in review if not op.endswith("Object")] == [
        "DescribeHumanTaskUi", "CreateHumanTaskUi", "DescribeFlowDefinition", "CreateFlowDefinition",
        "GetSchedule", "CreateSchedule", "ListFlowDefinitions", "ListHumanTaskUis",
    ]  # fmt: skip
    ui = next(r["params"] for r in plan["requests"] if r["operation"] == "CreateHumanTaskUi")
    assert ui["UiTemplate"]["Content"] == TEMPLATE
    flow = next(r["params"] for r in plan["requests"] if r["operation"] == "CreateFlowDefinition")
    assert flow["HumanLoopConfig"]["WorkteamArn"] == WORKTEAM
    replacement = plan["review_replacement"]
    assert [r["operation"] for r in replacement["requests"] if r["operation"].startswith("Delete")] == [
        "DeleteFlowDefinition",
        "DeleteHumanTaskUi",
    ]
    assert "ListHumanLoops" in [r["operation"] for r in replacement["requests"]] and replacement["assumptions"]
    for request in plan["requests"] + replacement["requests"]:
        params = {**request["params"], "Body": b""} if request["operation"] == "PutObject" else request["params"]
        validate_request(request["service"], request["operation"], params)
    assert plan["result"]["review"]["flow_definition"] == flow["FlowDefinitionName"]
    assert set(plan["iam_policies"]) == {"deployer", "model", "monitoring", "scheduler", "review_job", "review"}
    assert any("the account is 123456789012" in a for a in plan["assumptions"])  # the work team's account


def test_the_review_packages_template_is_the_default(monkeypatch, starter):
    import sys
    import types

    package, templates = types.ModuleType("review"), types.ModuleType("review.templates")
    templates.task_template = lambda: "<crowd-form>{{ task.input.probability }}</crowd-form>"
    monkeypatch.setitem(sys.modules, "review", package)
    monkeypatch.setitem(sys.modules, "review.templates", templates)
    result = invoke("--aws", "--direct", "--dry-run", "--region", "us-east-1", *REVIEW)
    assert result.exit_code == 0, result.output
    ui = next(r["params"] for r in json.loads(result.stdout)["requests"] if r["operation"] == "CreateHumanTaskUi")
    assert ui["UiTemplate"]["Content"] == "<crowd-form>{{ task.input.probability }}</crowd-form>"


@pytest.mark.parametrize(
    "args, message",
    [
        (["--review", "a2i"], "--review a2i needs --workteam-arn"),
        (["--review", "a2i", "--task-count", "2"], "--review a2i needs --workteam-arn"),
        (["--review", "a2i", "--workteam-arn", "arn:aws:sagemaker:us-east-1:394669845002:workteam/public-crowd/default"],
         "is not a private work team's ARN"),
        ([*REVIEW, "--task-count", "4"], "--task-count 4: A2I sends each prediction to 1, 2 or 3 reviewers"),
        ([*REVIEW, "--task-title", "t" * 129], "--task-title has 129 characters; A2I takes at most 128"),
        ([*REVIEW, "--audit-rate", "-0.1"], "--audit-rate -0.1: a share between 0 and 1"),
        ([*REVIEW, "--review-role-arn", "a2i"], "--review-role-arn 'a2i' is not an IAM role ARN"),
        ([*REVIEW, "--task-template", "/nonexistent/t.html"], "'/nonexistent/t.html' does not exist"),
        (["--workteam-arn", WORKTEAM], "--workteam-arn: only with --review a2i (human review is opt-in)"),
        (["--review", "none", "--task-count", "2", "--audit-rate", "0.1"], "--task-count, --audit-rate: only with --review a2i"),
        (["--review", "a2i", "--workteam-arn", WORKTEAM.replace("us-east-1", "eu-west-1")],
         "--workteam-arn is a work team of region eu-west-1; this deploy creates the flow definition in us-east-1"),
    ],
)  # fmt: skip
def test_bad_review_input_exits_2_and_sends_nothing(aws, monkeypatch, template_file, args, message):
    from tests.deploy.conftest import Recorder

    aws.package()
    recorder = Recorder()
    route_cli_clients(monkeypatch, recorder)
    if "--workteam-arn" in args and "--task-template" not in args and "--review" in args:
        args = [*args, "--task-template", template_file]
    result = invoke("--aws", "--direct", "--region", "us-east-1", "--role-arn", ROLE, *args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert recorder.calls == []


def test_without_a_template_and_without_the_review_package_exits_2(aws, monkeypatch):
    import sys

    aws.package()
    monkeypatch.setitem(sys.modules, "review.templates", None)  # as in a checkout without the review package
    result = invoke("--aws", "--direct", "--region", "us-east-1", "--role-arn", ROLE, *REVIEW)
    assert result.exit_code == 2
    assert "--review a2i needs a task template: pass --task-template PATH" in result.output


def test_review_options_are_refused_with_local():
    result = invoke("--local", "--review", "a2i")
    assert result.exit_code == 2 and "--review: only for --aws" in result.output


def test_deploys_with_review_against_moto_and_says_where_the_answers_go(aws, monkeypatch, starter, template_file):
    from types import SimpleNamespace

    from tests.deploy import test_review as t

    aws.package()
    review = t.spec_of(t.settings(review=t.review_settings()))  # the default endpoint name
    ui, flow = t.names(review)

    def prepare(routed):
        env = SimpleNamespace(routed=routed)
        t.expect_created(env, review)
        t.expect_flows(env, t.flow_summary(review))
        t.expect_uis(env, t.ui_summary(review))

    made = route_cli_clients(monkeypatch, prepare=prepare)
    result = invoke(
        "--aws", "--direct", "--region", "us-east-1", "--role-arn", ROLE, *REVIEW, "--task-template", template_file
    )
    assert result.exit_code == 0, result.output
    made[0].done()
    endpoint = review.endpoint
    assert f"created   HumanTaskUi {ui}" in result.output
    assert f"created   FlowDefinition {flow}" in result.output
    assert f"human review: flow definition {flow}, schedule {endpoint}-human-review" in result.output
    assert f"review answers: s3://{BUCKET}/human-review/{endpoint}/output/" in result.output
