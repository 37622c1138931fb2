"""`mlops deploy --local` runs the workflow (human review included), answers its gate itself and says so, and
leaves the group set up: a later `mlops registry approve` starts a deploy by itself. The gate's token is
also found the way `--aws` finds it (the execution's history)."""

from __future__ import annotations

import json
import urllib.request

from click.testing import CliRunner

from pipelines.cli import main
from tests.deploy.workflow.conftest import ROW, entered_states, executions, wait_for


def invoke(*args: str):
    return CliRunner().invoke(main, list(args))


def test_deploy_local_answers_the_gate_itself_and_serves(deploy_home, registry, model_tar, starter):
    from offline.aws import local_session
    from offline.deploy.local import local_settings

    registry.register("v1", model_tar)
    registry.approve("v1")  # the group is not set up yet: nothing starts
    result = invoke("deploy", "--local", "--endpoint-name", "bc-prod", "--capture-percentage", "50")
    assert result.exit_code == 0, result.output
    assert "Production gate approved by mlops deploy --local: you asked for this deploy on the command line" in (
        result.output
    )
    serving = next(
        line for line in result.output.splitlines() if line.startswith("Serving bc-prod at http://127.0.0.1:")
    )
    url = serving.rsplit(" ", 1)[-1]
    request = urllib.request.Request(
        f"{url}/endpoints/bc-prod/invocations", ROW.encode(), {"Content-Type": "text/csv"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.read().count(b",") == 2
    assert "staging bc-prod-staging at http://127.0.0.1:" in result.output
    sm = local_session(deploy_home).client("sagemaker")
    config = sm.describe_endpoint_config(
        EndpointConfigName=sm.describe_endpoint(EndpointName="bc-prod")["EndpointConfigName"]
    )
    assert config["DataCaptureConfig"]["InitialSamplingPercentage"] == 50
    flows = sm.list_flow_definitions()["FlowDefinitionSummaries"]
    assert [f["FlowDefinitionName"] for f in flows] and flows[0]["FlowDefinitionName"].startswith("bc-prod-review-")
    schedule = local_session(deploy_home).client("scheduler").get_schedule(Name="bc-prod-human-review")
    assert flows[0]["FlowDefinitionArn"] in schedule["Target"]["Input"]

    listed = invoke("deploy", "executions", "--json")
    assert listed.exit_code == 0 and [e["status"] for e in json.loads(listed.output)] == ["SUCCEEDED"]

    again = invoke("deploy", "--local", "--endpoint-name", "bc-prod", "--capture-percentage", "50")
    assert again.exit_code == 0, again.output
    assert "Production already served this version: no gate was needed" in again.output

    settings = local_settings(
        "BreastCancerPackageGroup", staging_endpoint="bc-prod-staging", production_endpoint="bc-prod"
    )
    before = {e["executionArn"] for e in executions(deploy_home, settings.state_machine_arn)}
    registry.register("v2", model_tar)
    approved = invoke("registry", "approve", registry.versions["v2"])  # the set-up group deploys by itself
    assert approved.exit_code == 0, approved.output
    arn = wait_for(
        lambda: next((e["executionArn"] for e in executions(deploy_home, settings.state_machine_arn)
                      if e["executionArn"] not in before), None),
        30,
        "the approval's deploy",
    )  # fmt: skip
    assert f"The approval started deploy execution {arn}" in approved.output  # said, not left to guess
    wait_for(lambda: "Approve production" in entered_states(deploy_home, arn), 120, "the gate")
    rejected = invoke("deploy", "reject", arn, "--reason", "not today")
    assert rejected.exit_code == 0, rejected.output
    described = wait_for(
        lambda: (
            (d := local_session(deploy_home).client("stepfunctions").describe_execution(executionArn=arn))["status"]
            != "RUNNING"
            and d
        ),
        60,
        "the rejected execution to end",
    )
    assert described["error"] == "Deploy.Rejected"


def test_deploy_local_refuses_what_cannot_deploy(deploy_home, registry, model_tar):
    result = invoke("deploy", "--local")
    assert result.exit_code == 2 and "has no approved model package" in result.output
    registry.register("bare", model_tar, baselines=False)
    registry.approve("bare")
    result = invoke("deploy", "--local")
    assert result.exit_code == 2 and "has no drift-check baseline" in result.output
    registry.register("pending", model_tar)
    result = invoke("deploy", "--local", "--model-package", registry.versions["pending"])
    assert result.exit_code == 2 and "is PendingManualApproval; only Approved packages deploy" in result.output
    result = invoke("deploy", "--local", "--capture-percentage", "12.5")
    assert result.exit_code == 2
    result = invoke("deploy", "--local", "--no-capture")
    assert result.exit_code == 2 and "--no-capture: only for mlops endpoint serve" in result.output


def test_the_gate_token_is_found_in_the_history_as_on_aws(deploy_home, monkeypatch):
    """A bare gate (no endpoints): `approve --aws` reads the token from GetExecutionHistory, as on AWS."""
    from offline.aws import local_session
    from offline.aws.states.backend import StepFunctionsBackend
    from pipelines.cli import deploy_workflow
    from pipelines.deploy.workflow.approval import pending_gate_token

    definition = {
        "StartAt": "Approve production",
        "States": {
            "Approve production": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sns:publish.waitForTaskToken",
                "Parameters": {
                    "TopicArn": "arn:aws:sns:us-east-1:123456789012:t",
                    "Message": {"TaskToken.$": "$$.Task.Token"},
                },
                "End": True,
            }
        },
    }
    sfn = local_session(deploy_home).client("stepfunctions")
    machine = sfn.create_state_machine(
        name="gate", definition=json.dumps(definition), roleArn="arn:aws:iam::123456789012:role/r"
    )["stateMachineArn"]
    arn = sfn.start_execution(stateMachineArn=machine)["executionArn"]
    backend = StepFunctionsBackend.for_home(deploy_home)
    pending = wait_for(lambda: backend.pending_tasks(arn), 30, "the gate")
    assert pending_gate_token(sfn, arn) == pending[0].token
    monkeypatch.setattr(deploy_workflow, "_stepfunctions", lambda on_aws, region: sfn)
    sent = []
    sfn.meta.events.register("before-parameter-build.sfn", lambda model, params, **_: sent.append((model.name, params)))
    approved = invoke("deploy", "approve", arn, "--aws")
    assert approved.exit_code == 0, approved.output
    _allowed_to_approvers(machine, sent)
    described = wait_for(
        lambda: (d := sfn.describe_execution(executionArn=arn))["status"] != "RUNNING" and d, 30, "end"
    )
    assert described["status"] == "SUCCEEDED" and json.loads(described["output"])["approvedBy"]
    refused = invoke("deploy", "approve", arn, "--aws")
    assert refused.exit_code == 2 and "waits at no production gate" in refused.output
    unknown = invoke("deploy", "approve", arn.replace("execution:gate:", "execution:gate:x"), "--aws")
    assert unknown.exit_code == 2


def _allowed_to_approvers(machine: str, sent: list[tuple[str, dict]]) -> None:
    """Every call `approve --aws` made is allowed by the approvers' policy, on the resource it named."""
    from fnmatch import fnmatchcase

    from pipelines.deploy.iam import approver_policy

    statements = approver_policy(machine)["Statement"]
    assert {name for name, _ in sent} >= {"GetExecutionHistory", "SendTaskSuccess"}
    for name, params in sent:
        resource = params.get("executionArn") or params.get("stateMachineArn") or "*"
        assert any(
            f"states:{name}" in st["Action"] and any(fnmatchcase(resource, pattern) for pattern in st["Resource"])
            for st in statements
        ), (name, resource)
