"""moto's own interpreter (LocalStack's, in moto's execute mode) as a second opinion: the same definition
runs in both, and the histories must agree on event types, their order and their details' shapes.

Known differences, asserted as such: moto lower-cases the service in aws-sdk error names (`s3.NoSuch…`,
AWS and this runtime: `S3.NoSuch…`), and its previousEventId chain differs in places (not compared).
"""

from __future__ import annotations

import json
import threading

import boto3
import pytest
from moto import mock_aws

from offline.stepfunctions.clock import SystemClock
from tests.offline.stepfunctions.conftest import ROLE, wait_until

TOPIC_NAME = "approvals"
FLOW = {
    "StartAt": "P",
    "States": {
        "P": {"Type": "Pass", "Result": {"n": 2}, "ResultPath": "$.r", "Next": "C"},
        "C": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.r.n", "NumericGreaterThan": 1, "Next": "W"}],
            "Default": "F",
        },
        "W": {"Type": "Wait", "Seconds": 0, "Next": "M"},
        "M": {
            "Type": "Map",
            "ItemsPath": "$.items",
            "MaxConcurrency": 1,
            "Iterator": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": True}}},
            "ResultPath": "$.m",
            "Next": "Par",
        },
        "Par": {
            "Type": "Parallel",
            "Branches": [
                {
                    "StartAt": "B1",
                    "States": {
                        "B1": {"Type": "Pass", "Parameters": {"f.$": "States.Format('n={}', $.r.n)"}, "End": True}
                    },
                }
            ],
            "ResultPath": "$.p",
            "Next": "Put",
        },
        "Put": {
            "Type": "Task",
            "Resource": "arn:aws:states:::aws-sdk:s3:putObject",
            "Parameters": {"Bucket": "oracle-bucket", "Key": "k", "Body.$": "States.JsonToString($.r)"},
            "ResultPath": None,
            "Next": "Get",
        },
        "Get": {
            "Type": "Task",
            "Resource": "arn:aws:states:::aws-sdk:s3:getObject",
            "Parameters": {"Bucket": "oracle-bucket", "Key": "missing"},
            "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1, "MaxAttempts": 1}],
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.err", "Next": "S"}],
            "Next": "S",
        },
        "S": {"Type": "Succeed"},
        "F": {"Type": "Fail", "Error": "X"},
    },
}
FAILING = {
    "StartAt": "Par",
    "States": {
        "Par": {
            "Type": "Parallel",
            "Branches": [
                {"StartAt": "Bad", "States": {"Bad": {"Type": "Fail", "Error": "Branch.Failed", "Cause": "why"}}}
            ],
            "End": True,
        }
    },
}


def gate(topic_arn: str) -> dict:
    return {
        "StartAt": "Approve",
        "States": {
            "Approve": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sns:publish.waitForTaskToken",
                "Parameters": {"TopicArn": topic_arn, "Message": {"TaskToken.$": "$$.Task.Token"}},
                "ResultPath": "$.approval",
                "End": True,
            }
        },
    }


@pytest.fixture
def moto_env(monkeypatch):
    for key, value in {
        "AWS_ACCESS_KEY_ID": "k",
        "AWS_SECRET_ACCESS_KEY": "s",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)


def run_in_moto(definition: dict, data: dict, approve: bool = False) -> tuple[dict, list[dict]]:
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        boto3.client("s3").create_bucket(Bucket="oracle-bucket")
        boto3.client("sns").create_topic(Name=TOPIC_NAME)
        sfn = boto3.client("stepfunctions")
        arn = sfn.create_state_machine(name="oracle", definition=json.dumps(definition), roleArn=ROLE)[
            "stateMachineArn"
        ]
        execution = sfn.start_execution(stateMachineArn=arn, input=json.dumps(data))["executionArn"]
        if approve:
            scheduled = wait_until(lambda: _scheduled(sfn, execution))
            token = json.loads(scheduled["parameters"])["Message"]["TaskToken"]
            wait_until(lambda: any(e["type"] == "TaskSubmitted" for e in _events(sfn, execution)))
            sfn.send_task_success(taskToken=token, output='{"approved": true}')
        described = wait_until(
            lambda: (d := sfn.describe_execution(executionArn=execution))["status"] != "RUNNING" and d, 30
        )
        return described, _events(sfn, execution)


def _events(sfn, execution: str) -> list[dict]:
    return sfn.get_execution_history(executionArn=execution, maxResults=1000)["events"]


def _scheduled(sfn, execution: str):
    return next((e["taskScheduledEventDetails"] for e in _events(sfn, execution) if e["type"] == "TaskScheduled"), None)


def shapes(events: list[dict]) -> list[tuple]:
    """Each event's type and the keys of its details (ids and values aside)."""
    out = []
    for event in events:
        details = [key for key in event if key.endswith("EventDetails")]
        out.append((event["type"], tuple(sorted(event[details[0]])) if details else ()))
    return out


def data_of(events: list[dict]) -> list:
    """The states' names, inputs and outputs, as JSON values."""
    out = []
    for event in events:
        for key in ("stateEnteredEventDetails", "stateExitedEventDetails"):
            if key in event:
                details = event[key]
                out.append((event["type"], details["name"], json.loads(details.get("input") or details.get("output"))))
    return out


def without_causes(rows: list) -> list:
    """The caught error's name and cause differ by design (see the module's docstring); the rest must not."""
    return [(t, n, {k: v for k, v in d.items() if k != "err"} if isinstance(d, dict) else d) for t, n, d in rows]


def test_a_flow_of_every_state_type(machines, moto_env):
    data = {"items": [1, 2]}
    moto_described, moto_events = run_in_moto(FLOW, data)
    machines.clients("s3").create_bucket(Bucket="oracle-bucket")
    ours = machines.run(FLOW, data)
    assert (moto_described["status"], ours.status) == ("SUCCEEDED", "SUCCEEDED")
    assert ours.types == [e["type"] for e in moto_events]
    assert shapes(ours.events) == shapes(moto_events)
    assert without_causes(data_of(ours.events)) == without_causes(data_of(moto_events))
    assert ours.output["err"]["Error"] == "S3.NoSuchKeyException"
    assert json.loads(moto_described["output"])["err"]["Error"] == "s3.NoSuchKeyException"  # moto's spelling


def test_a_failing_branch(machines, moto_env):
    moto_described, moto_events = run_in_moto(FAILING, {})
    ours = machines.run(FAILING, {})
    assert (moto_described["status"], moto_described["error"], moto_described["cause"]) == (
        "FAILED",
        "Branch.Failed",
        "why",
    )
    assert (ours.status, ours.description["error"], ours.description["cause"]) == ("FAILED", "Branch.Failed", "why")
    assert shapes(ours.events) == shapes(moto_events)


def test_a_token_gate(machines, moto_env):
    topic = f"arn:aws:sns:us-east-1:123456789012:{TOPIC_NAME}"
    moto_described, moto_events = run_in_moto(gate(topic), {"package": "p"}, approve=True)
    arn = machines.start(gate(topic), {"package": "p"})
    runner = threading.Thread(target=machines.finish, args=(arn,), kwargs={"clock": SystemClock()}, daemon=True)
    runner.start()
    [task] = wait_until(lambda: machines.backend.pending_tasks(arn))
    machines.backend.send_task_success(task.token, '{"approved": true}')
    runner.join(10)
    ours = machines.outcome(arn)
    assert json.loads(moto_described["output"]) == ours.output == {"package": "p", "approval": {"approved": True}}
    assert shapes(ours.events) == shapes(moto_events)
