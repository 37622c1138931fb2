"""`mlops deploy --aws` sets the workflow up: against moto (IAM, SNS, Step Functions, EventBridge, S3, SageMaker's
registry) it creates the roles, topic, state machine and rule, starts a deploy with the rule's input, changes
nothing the second time, and the setup's own policy allows exactly what it sent. The dry run sends nothing."""

from __future__ import annotations

import dataclasses
import json

import pytest
from click.testing import CliRunner

from pipelines.cli import main
from tests.deploy.conftest import ACCOUNT, REGION, ROLE, validate_request
from tests.deploy.test_iam import Need, check, needs_of, pass_role

STATES_ARN = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:"


def setup_needs(calls) -> list[Need]:
    """What IAM must allow for each request of the setup (the registry, S3 and Scheduler as test_iam says)."""
    found = []
    for service, operation, params in calls:
        if service == "iam":
            found.append(Need(f"iam:{operation}", f"arn:aws:iam::{ACCOUNT}:role/{params['RoleName']}"))
        elif service == "sns":
            arn = params.get("TopicArn") or f"arn:aws:sns:{REGION}:{ACCOUNT}:{params['Name']}"
            found.append(Need(f"sns:{operation}", arn))
        elif service == "stepfunctions":
            arn = params.get("stateMachineArn") or STATES_ARN + params["name"]
            found.append(Need(f"states:{operation}", arn))
            if "roleArn" in params:
                found.append(pass_role(params["roleArn"], "states.amazonaws.com"))
        elif service == "events":
            name = params.get("Name") or params["Rule"]
            found.append(Need(f"events:{operation}", f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{name}"))
            found += [pass_role(t["RoleArn"], "events.amazonaws.com") for t in params.get("Targets", [])]
        else:
            found += needs_of(service, operation, params)
    return found


@pytest.fixture
def setup_clients(aws):
    import boto3

    from pipelines.deploy.workflow.aws_setup import SetupClients

    clients = SetupClients.from_session(boto3.Session(region_name=REGION))
    for name in ("sagemaker", "s3", "sts", "stepfunctions", "events", "iam", "sns"):
        aws.recorder.attach(getattr(clients, name))
    return clients


def test_set_up_creates_the_workflow_starts_a_deploy_and_changes_nothing_the_second_time(aws, setup_clients):
    from pipelines.deploy.aws import DeploySettings
    from pipelines.deploy.iam import setup_policy
    from pipelines.deploy.workflow.aws_setup import set_up
    from pipelines.deploy.workflow.trigger import event_pattern

    package = aws.package(version="v1")
    deploy = DeploySettings(role_arn=ROLE, region=REGION, monitor_engine="processing")
    start = len(aws.recorder.calls)
    report = set_up(setup_clients, deploy, role_wait={"Delay": 0, "MaxAttempts": 1})
    first = aws.recorder.calls[start:]
    assert report.package_arn == package and report.execution_arn
    actions = {(c.kind, c.action) for c in report.changes}
    assert {("Role", "created"), ("Topic", "created"), ("StateMachine", "created"), ("Rule", "created"),
            ("RuleTarget", "created"), ("Execution", "created")} <= actions  # fmt: skip
    sfn, events, iam = setup_clients.stepfunctions, setup_clients.events, setup_clients.iam
    machine = sfn.describe_state_machine(stateMachineArn=report.state_machine_arn)
    assert machine["roleArn"] == report.workflow_role_arn
    assert json.loads(machine["definition"])["StartAt"] == "Describe package"
    rule = events.describe_rule(Name=report.as_dict()["rule"])
    assert json.loads(rule["EventPattern"]) == event_pattern(deploy.model_package_group)
    [target] = events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
    assert target["Arn"] == report.state_machine_arn and target["RoleArn"] == report.events_role_arn
    assert "<version>" in target["InputTransformer"]["InputTemplate"]
    execution = sfn.describe_execution(executionArn=report.execution_arn)
    assert json.loads(execution["input"]) == {
        "ModelPackageArn": package,
        "ModelPackageVersion": 1,
        "ModelPackageGroupName": deploy.model_package_group,
    }
    trust = iam.get_role(RoleName=report.workflow_role_arn.rsplit("/", 1)[-1])["Role"]["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Principal"] == {"Service": "states.amazonaws.com"}

    start = len(aws.recorder.calls)
    again = set_up(setup_clients, deploy, start=False)
    second = aws.recorder.calls[start:]
    assert {c.action for c in again.changes} == {"unchanged"}, [str(c) for c in again.changes]

    edited = {**trust, "Statement": [{**trust["Statement"][0], "Principal": {"Service": "lambda.amazonaws.com"}}]}
    for role in (report.workflow_role_arn, report.events_role_arn):  # someone edits the roles; the engine changes
        iam.update_assume_role_policy(RoleName=role.rsplit("/", 1)[-1], PolicyDocument=json.dumps(edited))
    start = len(aws.recorder.calls)
    changed = set_up(setup_clients, dataclasses.replace(deploy, monitor_engine="managed"), start=False)
    third = aws.recorder.calls[start:]
    assert {("Role", "updated"), ("RolePolicy", "updated"), ("StateMachine", "updated")} <= {
        (c.kind, c.action) for c in changed.changes
    }
    policy = setup_policy(report.policy_inputs())
    needs = setup_needs(first + second + third)
    check(policy, needs)
    trimmed = {**policy, "Statement": [s for s in policy["Statement"] if s["Sid"] != "PassEventsRole"]}
    with pytest.raises(AssertionError, match="not allowed"):
        check(trimmed, needs)


def test_without_an_approved_package_it_only_sets_up(aws, setup_clients):
    from pipelines.deploy.aws import DeploySettings
    from pipelines.deploy.workflow.aws_setup import set_up

    aws.package(status="PendingManualApproval")
    report = set_up(
        setup_clients, DeploySettings(role_arn=ROLE, region=REGION), role_wait={"Delay": 0, "MaxAttempts": 1}
    )
    assert report.execution_arn is None
    assert "StartExecution" not in aws.recorder.operations()


def test_given_roles_and_topic_are_used_and_not_created(aws, setup_clients):
    from pipelines.deploy.aws import DeploySettings
    from pipelines.deploy.workflow.aws_setup import set_up

    roles = {
        "workflow_role_arn": f"arn:aws:iam::{ACCOUNT}:role/mine-sfn",
        "events_role_arn": f"arn:aws:iam::{ACCOUNT}:role/mine-ev",
    }
    topic = f"arn:aws:sns:{REGION}:{ACCOUNT}:approvers"
    report = set_up(
        setup_clients,
        DeploySettings(role_arn=ROLE, region=REGION, monitor_engine="managed"),
        approval_topic_arn=topic,
        start=False,
        **roles,
    )
    operations = aws.recorder.operations()
    assert not {"CreateRole", "PutRolePolicy", "CreateTopic"} & set(operations)
    definition = json.loads(
        setup_clients.stepfunctions.describe_state_machine(stateMachineArn=report.state_machine_arn)["definition"]
    )
    assert definition["States"]["Approve production"]["Parameters"]["TopicArn"] == topic


def invoke(*args: str):
    return CliRunner().invoke(main, ["deploy", *args])


def test_the_dry_run_validates_every_request_and_sends_none(monkeypatch):
    from statelint.linter import Linter

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "nobody")  # a real call would be refused: none may be sent
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "nobody")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # and would not connect
    result = invoke("--aws", "--dry-run", "--region", "eu-west-1", "--monitor-engine", "managed")
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    operations = [r["operation"] for r in plan["requests"]]
    assert {"GetCallerIdentity", "CreateTopic", "CreateRole", "PutRolePolicy", "CreateStateMachine", "PutRule",
            "PutTargets", "StartExecution"} <= set(operations)  # fmt: skip
    assert operations.count("CreateRole") == 2
    for request in plan["requests"]:
        validate_request(request["service"], request["operation"], request["params"])
    definition = next(r["params"]["definition"] for r in plan["requests"] if r["operation"] == "CreateStateMachine")
    assert json.loads(definition) == plan["definition"] and Linter.validate(definition) == []
    assert {"workflow", "events", "setup", "model", "monitoring"} <= set(plan["iam_policies"])
    assert plan["result"]["execution_arn"] and plan["assumptions"]


DRY = ["--aws", "--dry-run", "--region", "us-east-1"]


@pytest.mark.parametrize(
    "args, message",
    [
        ([*DRY, "--direct", "--staging-endpoint-name", "s"], "only for the deploy workflow (without --direct)"),
        ([*DRY, "--stage", "prod"], "--stage: only for --direct"),
        ([*DRY, "--approval-topic-arn", "topic"], "is not an SNS topic ARN"),
        ([*DRY, "--workflow-role-arn", "admin"], "--workflow-role-arn 'admin' is not an IAM role ARN"),
        ([*DRY, "--endpoint-name", "same", "--staging-endpoint-name", "same"], "must differ"),
        (["--local", "--approval-topic-arn", "arn:aws:sns:us-east-1:123456789012:t"], "only for --aws"),
        (["--local", "--port", "8080"], "--port: only for mlops endpoint serve"),
        (["--local", "--no-start"], "--no-start: only for --aws"),
        (["--aws", "definition"], "options of `mlops deploy` itself"),
    ],
)
def test_bad_input_exits_2_and_sends_nothing(args, message, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "nobody")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "nobody")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    assert message in result.output
