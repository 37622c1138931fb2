"""The local `states` service through unmodified boto3 clients (in-process, and once over HTTP): its
operations, AWS's error codes, and executions run by real background runner processes."""

from __future__ import annotations

import json
import os
import signal

import boto3
import pytest
from botocore.exceptions import ClientError

from offline.aws import local_session
from offline.aws.constants import DUMMY_ACCESS_KEY_ID, DUMMY_SECRET_ACCESS_KEY
from offline.aws.server import LocalAWSServer
from offline.state import StateDB
from offline.stepfunctions.runner import process_start
from offline.stepfunctions.store import ExecutionStore
from tests.offline.stepfunctions.conftest import ROLE, wait_until

PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"ok": True}, "ResultPath": "$.r", "End": True}}}
WAIT = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": True}}}
GATE = {
    "StartAt": "Approve",
    "States": {
        "Approve": {
            "Type": "Task",
            "Resource": "arn:aws:states:::sns:publish.waitForTaskToken",
            "Parameters": {"TopicArn": "arn:aws:sns:us-east-1:123456789012:t", "Message.$": "$$.Task.Token"},
            "End": True,
        }
    },
}


@pytest.fixture
def sfn(home):
    return local_session(home).client("stepfunctions")


def create(sfn, definition=PASS, name="m") -> str:
    return sfn.create_state_machine(name=name, definition=json.dumps(definition), roleArn=ROLE)["stateMachineArn"]


def finished(sfn, arn: str, timeout: float = 30) -> dict:
    return wait_until(lambda: (d := sfn.describe_execution(executionArn=arn))["status"] != "RUNNING" and d, timeout)


def code(failure) -> str:
    return failure.value.response["Error"]["Code"]


def test_state_machine_lifecycle(sfn):
    arn = create(sfn)
    assert arn == "arn:aws:states:us-east-1:123456789012:stateMachine:m"
    described = sfn.describe_state_machine(stateMachineArn=arn)
    assert (described["name"], described["status"], described["type"], described["roleArn"]) == (
        "m",
        "ACTIVE",
        "STANDARD",
        ROLE,
    )
    assert json.loads(described["definition"]) == PASS
    assert create(sfn) == arn  # the same definition and role: idempotent, as on AWS
    with pytest.raises(ClientError) as conflict:
        create(sfn, WAIT)
    assert code(conflict) == "StateMachineAlreadyExists"
    assert conflict.value.response["Error"]["Message"] == f"State Machine Already Exists: '{arn}'"
    revision = sfn.update_state_machine(stateMachineArn=arn, definition=json.dumps(WAIT))["revisionId"]
    assert revision != described["revisionId"]
    assert json.loads(sfn.describe_state_machine(stateMachineArn=arn)["definition"]) == WAIT
    create(sfn, name="other")
    assert [m["name"] for m in sfn.list_state_machines()["stateMachines"]] == ["m", "other"]
    sfn.delete_state_machine(stateMachineArn=arn)
    with pytest.raises(ClientError) as gone:
        sfn.describe_state_machine(stateMachineArn=arn)
    assert code(gone) == "StateMachineDoesNotExist"


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"name": "bad name"}, "InvalidName"),
        ({"name": "a/b"}, "InvalidName"),
        ({"name": "x" * 81}, "ValidationException"),  # the model's length limit
        ({"roleArn": "not-an-arn"}, "InvalidArn"),
        ({"definition": "{not json"}, "InvalidDefinition"),
        (
            {"definition": json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}}})},
            "InvalidDefinition",
        ),
        (
            {"definition": json.dumps({"StartAt": "A", "States": {"A": {"Type": "Nope", "End": True}}})},
            "InvalidDefinition",
        ),
        ({"type": "EXPRESS"}, "StateMachineTypeNotSupported"),
    ],
)
def test_create_state_machine_rejects_bad_input(sfn, kwargs, expected):
    params = {"name": "m", "definition": json.dumps(PASS), "roleArn": ROLE, **kwargs}
    with pytest.raises(ClientError) as bad:
        sfn.create_state_machine(**params)
    assert code(bad) == expected
    assert sfn.list_state_machines()["stateMachines"] == []  # nothing stored


def test_invalid_definition_names_the_problem(sfn):
    definition = {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}}}
    with pytest.raises(ClientError) as bad:
        sfn.create_state_machine(name="m", definition=json.dumps(definition), roleArn=ROLE)
    message = bad.value.response["Error"]["Message"]
    assert (
        message
        == "Invalid State Machine Definition: 'MISSING_TRANSITION_TARGET: Missing 'Next' target: B at /States/A/Next'"
    )


def test_execution_runs_in_a_background_runner_process(sfn, home):
    arn = create(sfn)
    started = sfn.start_execution(stateMachineArn=arn, name="run-1", input='{"in": 1}')
    assert started["executionArn"] == "arn:aws:states:us-east-1:123456789012:execution:m:run-1"
    described = finished(sfn, started["executionArn"])
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"in": 1, "r": {"ok": True}}
    execution = ExecutionStore(StateDB.for_home(home)).execution(started["executionArn"])
    assert execution.runner_pid not in (None, os.getpid())
    assert execution.runner_start
    assert (home / "logs" / "stepfunctions" / "m.run-1.log").read_text().count("ended SUCCEEDED") == 1
    history = sfn.get_execution_history(executionArn=started["executionArn"])["events"]
    assert [e["type"] for e in history] == [
        "ExecutionStarted",
        "PassStateEntered",
        "PassStateExited",
        "ExecutionSucceeded",
    ]
    machine = sfn.describe_state_machine_for_execution(executionArn=started["executionArn"])
    assert machine["stateMachineArn"] == arn and json.loads(machine["definition"]) == PASS


def test_execution_names_follow_aws_reuse_rules(sfn):
    arn = create(sfn, WAIT)
    first = sfn.start_execution(stateMachineArn=arn, name="deploy-1", input="{}")
    again = sfn.start_execution(stateMachineArn=arn, name="deploy-1", input="{}")
    assert again["executionArn"] == first["executionArn"]  # running, same input: idempotent
    assert again["startDate"] == first["startDate"]
    with pytest.raises(ClientError) as other_input:
        sfn.start_execution(stateMachineArn=arn, name="deploy-1", input='{"x": 1}')
    assert code(other_input) == "ExecutionAlreadyExists"
    sfn.stop_execution(executionArn=first["executionArn"])
    with pytest.raises(ClientError) as closed:
        sfn.start_execution(stateMachineArn=arn, name="deploy-1", input="{}")
    assert code(closed) == "ExecutionAlreadyExists"
    assert closed.value.response["Error"]["Message"] == f"Execution Already Exists: '{first['executionArn']}'"


def test_stop_execution_reaches_the_runner_process(sfn, home):
    arn = create(sfn, WAIT)
    execution = sfn.start_execution(stateMachineArn=arn)["executionArn"]
    store = ExecutionStore(StateDB.for_home(home))
    wait_until(lambda: any(e["type"] == "WaitStateEntered" for e in store.history(execution)), 30)
    sfn.stop_execution(executionArn=execution, error="Stopped.ByUser", cause="test")
    pid = store.execution(execution).runner_pid
    wait_until(lambda: process_start(pid) is None)  # the runner noticed the stop and exited
    described = sfn.describe_execution(executionArn=execution)
    assert (described["status"], described["error"], described["cause"]) == ("ABORTED", "Stopped.ByUser", "test")
    types = [e["type"] for e in sfn.get_execution_history(executionArn=execution)["events"]]
    assert types == ["ExecutionStarted", "WaitStateEntered", "ExecutionAborted"]


def test_approval_from_another_process(sfn, home):
    """The runner process waits on the token; this process answers it through boto3."""
    execution = sfn.start_execution(stateMachineArn=create(sfn, GATE), input='{"package": "p"}')["executionArn"]
    from offline.aws.states.backend import StepFunctionsBackend

    backend = StepFunctionsBackend.for_home(home)
    [task] = wait_until(lambda: backend.pending_tasks(execution), 30)
    sfn.send_task_success(taskToken=task.token, output='{"approved": true}')
    described = finished(sfn, execution)
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"approved": True}


def test_a_dead_runner_reads_failed_never_running(sfn, home):
    execution = sfn.start_execution(stateMachineArn=create(sfn, GATE))["executionArn"]
    store = ExecutionStore(StateDB.for_home(home))
    wait_until(lambda: store.pending_tasks(execution), 30)
    pid = store.execution(execution).runner_pid
    os.kill(pid, signal.SIGKILL)  # the runner this test started
    described = wait_until(lambda: (d := sfn.describe_execution(executionArn=execution))["status"] != "RUNNING" and d)
    assert described["status"] == "FAILED"
    assert described["error"] == "States.Runtime"
    assert f"(pid {pid}) ended without finishing it" in described["cause"]
    assert described["cause"].endswith(".log")
    assert store.pending_tasks(execution) == []
    last = sfn.get_execution_history(executionArn=execution, reverseOrder=True)["events"][0]
    assert last["type"] == "ExecutionFailed"
    listed = sfn.list_executions(stateMachineArn=described["stateMachineArn"])["executions"]
    assert [e["status"] for e in listed] == ["FAILED"]


def test_a_reused_pid_is_not_taken_for_the_runner(home, sfn):
    execution = sfn.start_execution(stateMachineArn=create(sfn, WAIT))["executionArn"]
    store = ExecutionStore(StateDB.for_home(home))
    runner = wait_until(lambda: store.execution(execution).runner_start and store.execution(execution), 30)
    os.kill(runner.runner_pid, signal.SIGKILL)
    with store.db.transaction() as conn:  # the pid now names this (live) process, started at another time
        conn.execute(
            "UPDATE sfn_executions SET runner_pid = ?, runner_start = '1' WHERE arn = ?", (os.getpid(), execution)
        )
    assert sfn.describe_execution(executionArn=execution)["status"] == "FAILED"


def test_history_pages_and_options(sfn):
    execution = sfn.start_execution(stateMachineArn=create(sfn), input='{"secret": 1}')["executionArn"]
    finished(sfn, execution)
    first = sfn.get_execution_history(executionArn=execution, maxResults=3)
    assert [e["id"] for e in first["events"]] == [1, 2, 3]
    rest = sfn.get_execution_history(executionArn=execution, maxResults=3, nextToken=first["nextToken"])
    assert [e["id"] for e in rest["events"]] == [4] and "nextToken" not in rest
    reverse = sfn.get_execution_history(executionArn=execution, reverseOrder=True)["events"]
    assert [e["id"] for e in reverse] == [4, 3, 2, 1]
    bare = sfn.get_execution_history(executionArn=execution, includeExecutionData=False)["events"]
    assert "input" not in bare[0]["executionStartedEventDetails"]
    assert bare[0]["executionStartedEventDetails"]["roleArn"] == ROLE
    paginated = [
        e["id"]
        for page in sfn.get_paginator("get_execution_history").paginate(
            executionArn=execution, PaginationConfig={"PageSize": 1}
        )
        for e in page["events"]
    ]
    assert paginated == [1, 2, 3, 4]
    with pytest.raises(ClientError) as bad:
        sfn.get_execution_history(executionArn=execution, nextToken="garbage")
    assert code(bad) == "InvalidToken"


def test_list_executions_filters_and_pages(sfn):
    arn = create(sfn)
    arns = [sfn.start_execution(stateMachineArn=arn, name=f"e{i}")["executionArn"] for i in range(3)]
    for execution in arns:
        finished(sfn, execution)
    listed = sfn.list_executions(stateMachineArn=arn, maxResults=2)
    assert len(listed["executions"]) == 2 and listed["nextToken"]
    everything = [
        e["name"]
        for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=arn)
        for e in page["executions"]
    ]
    assert sorted(everything) == ["e0", "e1", "e2"]
    assert sfn.list_executions(stateMachineArn=arn, statusFilter="FAILED")["executions"] == []


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (
            lambda sfn: sfn.describe_execution(executionArn="arn:aws:states:us-east-1:123456789012:execution:m:none"),
            "ExecutionDoesNotExist",
        ),
        (
            lambda sfn: sfn.describe_execution(executionArn="arn:aws:states:us-east-1:123456789012:stateMachine:m"),
            "InvalidArn",
        ),
        (lambda sfn: sfn.describe_execution(executionArn="nonsense"), "InvalidArn"),
        (
            lambda sfn: sfn.start_execution(stateMachineArn="arn:aws:states:us-east-1:123456789012:stateMachine:none"),
            "StateMachineDoesNotExist",
        ),
        (lambda sfn: sfn.start_execution(stateMachineArn=create(sfn), input="{nope"), "InvalidExecutionInput"),
        (lambda sfn: sfn.start_execution(stateMachineArn=create(sfn), name="has space"), "InvalidName"),
        (lambda sfn: sfn.list_executions(stateMachineArn=create(sfn), maxResults=5000), "ValidationException"),
        (lambda sfn: sfn.list_executions(), "ValidationException"),
        (
            lambda sfn: sfn.stop_execution(executionArn="arn:aws:states:us-east-1:123456789012:execution:m:none"),
            "ExecutionDoesNotExist",
        ),
        (lambda sfn: sfn.send_task_heartbeat(taskToken="x"), "InvalidToken"),
        (lambda sfn: sfn.update_state_machine(stateMachineArn=create(sfn)), "MissingRequiredParameter"),
    ],
)
def test_errors(sfn, call, expected):
    with pytest.raises(ClientError) as failure:
        call(sfn)
    assert code(failure) == expected
    assert failure.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_over_http(home):
    with LocalAWSServer(home) as server:
        sfn = boto3.client(
            "stepfunctions",
            endpoint_url=server.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id=DUMMY_ACCESS_KEY_ID,
            aws_secret_access_key=DUMMY_SECRET_ACCESS_KEY,
        )
        execution = sfn.start_execution(stateMachineArn=create(sfn), input='{"in": 2}')["executionArn"]
        assert json.loads(finished(sfn, execution)["output"]) == {"in": 2, "r": {"ok": True}}
        with pytest.raises(ClientError) as missing:
            sfn.describe_execution(executionArn=execution + "x")
        assert code(missing) == "ExecutionDoesNotExist"
