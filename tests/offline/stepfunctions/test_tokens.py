"""The production gate: `.waitForTaskToken` tasks record their token in the state DB and wait for
SendTaskSuccess / SendTaskFailure (sent here through a boto3 stepfunctions client), StopExecution, or
their TimeoutSeconds / HeartbeatSeconds."""

from __future__ import annotations

import json
import threading
import time

import pytest
from botocore.exceptions import ClientError

from offline.aws import local_session
from offline.stepfunctions.clock import SystemClock
from tests.offline.stepfunctions.conftest import wait_until

TOPIC = "arn:aws:sns:us-east-1:123456789012:approvals"


def gate(**task_fields) -> dict:
    return {
        "StartAt": "Approve",
        "States": {
            "Approve": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sns:publish.waitForTaskToken",
                "Parameters": {
                    "TopicArn": TOPIC,
                    "Message": {"TaskToken.$": "$$.Task.Token", "ModelPackage.$": "$.package"},
                },
                "ResultPath": "$.approval",
                "Catch": [
                    {"ErrorEquals": ["Deploy.Rejected"], "ResultPath": "$.rejection", "Next": "Rejected"},
                    {"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.failure", "Next": "Rejected"},
                ],
                "Next": "Deploy",
                **task_fields,
            },
            "Deploy": {"Type": "Pass", "End": True},
            "Rejected": {"Type": "Fail", "Error": "Deploy.Rejected", "Cause": "The production gate was rejected"},
        },
    }


class Background:
    """Interpret an execution on a thread (the runner), while the test acts as the approver."""

    def __init__(self, machines, definition, data, clock=None):
        self.machines = machines
        self.arn = machines.start(definition, data)
        self.thread = threading.Thread(target=machines.finish, args=(self.arn,), kwargs={"clock": clock}, daemon=True)
        self.thread.start()

    def pending(self):
        return wait_until(lambda: self.machines.backend.pending_tasks(self.arn))

    def outcome(self):
        self.thread.join(10)
        assert not self.thread.is_alive()
        return self.machines.outcome(self.arn)


@pytest.fixture
def sfn(machines):
    return local_session(machines.home).client("stepfunctions")


def test_gate_approved(machines, sfn):
    run = Background(machines, gate(), {"package": "arn:pkg/1"}, clock=SystemClock())
    [task] = run.pending()
    assert task.state_name == "Approve"
    assert task.resource == "arn:aws:states:::sns:publish.waitForTaskToken"
    assert task.input == {"package": "arn:pkg/1"}
    assert task.parameters == {"TopicArn": TOPIC, "Message": {"TaskToken": task.token, "ModelPackage": "arn:pkg/1"}}
    sfn.send_task_success(taskToken=task.token, output=json.dumps({"approvedBy": "alice"}))
    outcome = run.outcome()
    assert outcome.status == "SUCCEEDED"
    assert outcome.output == {"package": "arn:pkg/1", "approval": {"approvedBy": "alice"}}
    assert outcome.types[1:7] == [
        "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSubmitted", "TaskSucceeded", "TaskStateExited",
    ]  # fmt: skip
    scheduled = outcome.events_of("TaskScheduled")[0]["taskScheduledEventDetails"]
    assert (scheduled["resourceType"], scheduled["resource"]) == ("sns", "publish.waitForTaskToken")
    assert machines.backend.pending_tasks(run.arn) == []
    with pytest.raises(ClientError) as again:  # a token answers once
        sfn.send_task_success(taskToken=task.token, output="{}")
    assert again.value.response["Error"]["Code"] == "TaskTimedOut"


def test_gate_rejected(machines, sfn):
    run = Background(machines, gate(), {"package": "p"}, clock=SystemClock())
    [task] = run.pending()
    sfn.send_task_failure(taskToken=task.token, error="Deploy.Rejected", cause="AUC too low")
    outcome = run.outcome()
    assert outcome.status == "FAILED"
    assert outcome.description["error"] == "Deploy.Rejected"
    failed = outcome.events_of("TaskFailed")[0]["taskFailedEventDetails"]
    assert (failed["error"], failed["cause"]) == ("Deploy.Rejected", "AUC too low")
    exited = json.loads(outcome.events_of("TaskStateExited")[0]["stateExitedEventDetails"]["output"])
    assert exited["rejection"] == {"Error": "Deploy.Rejected", "Cause": "AUC too low"}


def test_gate_times_out(machines, sfn):
    definition = gate(TimeoutSeconds=3600)
    definition["States"]["Approve"]["Catch"] = [
        {"ErrorEquals": ["States.Timeout"], "ResultPath": "$.timeout", "Next": "Deploy"},
        {"ErrorEquals": ["States.ALL"], "Next": "Rejected"},
    ]
    outcome = machines.run(definition, {"package": "p"}, poll_seconds=300)  # the fake clock runs an hour ahead
    assert outcome.status == "SUCCEEDED"
    assert outcome.output["timeout"] == {"Error": "States.Timeout", "Cause": ""}
    assert outcome.events_of("TaskTimedOut")[0]["taskTimedOutEventDetails"]["error"] == "States.Timeout"
    assert sum(machines.clock.sleeps) == pytest.approx(3600, abs=1)
    rows = machines.store.db.query("SELECT token, status FROM sfn_task_tokens")
    assert [r["status"] for r in rows] == ["TIMED_OUT"]  # closed: answering it now is TaskTimedOut
    with pytest.raises(ClientError) as late:
        sfn.send_task_success(taskToken=rows[0]["token"], output="{}")
    assert late.value.response["Error"]["Code"] == "TaskTimedOut"
    assert late.value.response["Error"]["Message"] == "Task Timed Out: 'Provided task does not exist anymore'"


def test_states_task_failed_does_not_catch_the_timeout(machines):
    outcome = machines.run(gate(TimeoutSeconds=60), {"package": "p"}, poll_seconds=10)
    assert outcome.status == "FAILED"
    assert outcome.description["error"] == "States.Timeout"


def test_heartbeats_keep_the_task_alive_and_their_absence_times_it_out(machines, sfn):
    definition = gate(HeartbeatSeconds=1)
    definition["States"]["Approve"]["Catch"] = [
        {"ErrorEquals": ["States.HeartbeatTimeout"], "ResultPath": "$.heartbeat", "Next": "Rejected"}
    ]
    run = Background(machines, definition, {"package": "p"}, clock=SystemClock())
    [task] = run.pending()
    for _ in range(3):
        time.sleep(0.4)
        sfn.send_task_heartbeat(taskToken=task.token)
    sfn.send_task_success(taskToken=task.token, output='{"ok": true}')
    assert run.outcome().status == "SUCCEEDED"  # 1.2 s of work with heartbeats under 1 s apart

    outcome = machines.run(definition, {"package": "p"})  # nobody beats: the fake clock passes 1 s
    assert outcome.description["error"] == "Deploy.Rejected"
    assert json.loads(outcome.events_of("TaskStateExited")[0]["stateExitedEventDetails"]["output"])["heartbeat"] == {
        "Error": "States.Timeout",
        "Cause": "",
    }
    assert outcome.events_of("TaskScheduled")[0]["taskScheduledEventDetails"]["heartbeatInSeconds"] == 1


def test_stop_execution_while_waiting(machines, sfn):
    run = Background(machines, gate(), {"package": "p"}, clock=SystemClock())
    [task] = run.pending()
    stopped = sfn.stop_execution(executionArn=run.arn, cause="superseded")
    outcome = run.outcome()
    assert outcome.status == "ABORTED"
    assert outcome.description["stopDate"] == pytest.approx(stopped["stopDate"].timestamp(), abs=0.001)
    assert outcome.events[-1]["type"] == "ExecutionAborted"
    assert outcome.events[-1]["executionAbortedEventDetails"] == {"cause": "superseded"}
    assert [e["type"] for e in outcome.events].count("ExecutionAborted") == 1
    assert machines.backend.pending_tasks(run.arn) == []
    with pytest.raises(ClientError) as late:
        sfn.send_task_success(taskToken=task.token, output="{}")
    assert late.value.response["Error"]["Code"] == "TaskDoesNotExist"


def test_aws_sdk_wait_for_task_token_makes_the_call(machines, sfn):
    s3 = machines.clients("s3")
    s3.create_bucket(Bucket="tokens")
    definition = {
        "StartAt": "Ask",
        "States": {
            "Ask": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:s3:putObject.waitForTaskToken",
                "Parameters": {"Bucket": "tokens", "Key": "request.json", "Body": {"token.$": "$$.Task.Token"}},
                "End": True,
            }
        },
    }
    run = Background(machines, definition, {}, clock=SystemClock())
    [task] = run.pending()
    written = wait_until(lambda: _read(s3, "tokens", "request.json"))
    assert written == {"token": task.token}  # a worker finds the token where the task put it
    sfn.send_task_success(taskToken=written["token"], output='"done"')
    outcome = run.outcome()
    assert outcome.output == "done"
    submitted = json.loads(outcome.events_of("TaskSubmitted")[0]["taskSubmittedEventDetails"]["output"])
    assert "ETag" in submitted


def _read(s3, bucket, key):
    try:
        return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    except ClientError:
        return None


def test_bad_tokens_and_outputs(machines, sfn):
    with pytest.raises(ClientError) as bad:
        sfn.send_task_success(taskToken="not-a-token", output="{}")
    assert bad.value.response["Error"]["Code"] == "InvalidToken"
    run = Background(machines, gate(), {"package": "p"}, clock=SystemClock())
    [task] = run.pending()
    with pytest.raises(ClientError) as invalid:
        sfn.send_task_success(taskToken=task.token, output="{not json")
    assert invalid.value.response["Error"]["Code"] == "InvalidOutput"
    assert machines.backend.pending_tasks(run.arn)  # still waiting: nothing was lost
    sfn.send_task_failure(taskToken=task.token)
    outcome = run.outcome()
    assert outcome.status == "FAILED"  # States.TaskFailed caught it, then the Fail state
    failed = outcome.events_of("TaskFailed")[0]["taskFailedEventDetails"]
    assert "error" not in failed and "cause" not in failed
