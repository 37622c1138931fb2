"""The production gate of a deploy execution, through the Step Functions API (AWS or the local `states` service).

Step Functions has no call that lists an execution's task tokens; its history has them: the gate's
`TaskScheduled` event carries the task's parameters with `$$.Task.Token` resolved (the SNS message the
approvers receive holds the same token). `pending_gate_token` finds the gate that was scheduled and has not
been answered, timed out or closed with the execution; `answer` sends SendTaskSuccess or SendTaskFailure
(`Deploy.Rejected`, the reason as the cause).
"""

from __future__ import annotations

import json

from pipelines.deploy.errors import DeployFailed, DeployInputError, client_error_text, error_code

GATE = "Approve production"
REJECTED = "Deploy.Rejected"
_ENDED = ("TaskSucceeded", "TaskFailed", "TaskTimedOut")


def history(sfn, execution_arn: str) -> list[dict]:
    try:
        pages = sfn.get_paginator("get_execution_history").paginate(executionArn=execution_arn)
        return [event for page in pages for event in page["events"]]
    except Exception as e:
        if error_code(e) in ("ExecutionDoesNotExist", "InvalidArn"):
            raise DeployInputError(f"no execution {execution_arn}: {client_error_text(e)}") from None
        if error_code(e):
            raise DeployFailed(f"GetExecutionHistory failed: {client_error_text(e)}") from None
        raise


def pending_gate_token(sfn, execution_arn: str) -> str:
    """The task token of the execution's unanswered production gate; DeployInputError when there is none."""
    events = history(sfn, execution_arn)
    state, token = None, None
    for event in events:
        kind = event["type"]
        if kind == "TaskStateEntered":
            state = event["stateEnteredEventDetails"]["name"]
        elif kind == "TaskScheduled" and state == GATE:
            token = _token(event["taskScheduledEventDetails"].get("parameters"))
        elif (kind in _ENDED and state == GATE) or (kind.startswith("Execution") and kind != "ExecutionStarted"):
            token = None
    if token is None:
        described = sfn.describe_execution(executionArn=execution_arn)
        raise DeployInputError(f"execution {execution_arn} is {described['status']} and waits at no production gate")
    return token


def answer(sfn, token: str, approve: bool, by: str, reason: str | None = None) -> None:
    try:
        if approve:
            sfn.send_task_success(taskToken=token, output=json.dumps({"approvedBy": by, "reason": reason or ""}))
        else:
            sfn.send_task_failure(
                taskToken=token, error=REJECTED, cause=f"rejected by {by}: {reason or 'no reason given'}"
            )
    except Exception as e:
        if error_code(e) in ("InvalidToken", "TaskDoesNotExist", "TaskTimedOut"):
            raise DeployInputError(f"the production gate cannot be answered: {client_error_text(e)}") from None
        if error_code(e):
            raise DeployFailed(f"answering the production gate failed: {client_error_text(e)}") from None
        raise


def _token(parameters: str | None) -> str | None:
    try:
        found = json.loads(parameters or "{}")
    except ValueError:
        return None
    message = found.get("Message")
    if isinstance(message, str):
        try:
            message = json.loads(message)
        except ValueError:
            return None
    return message.get("TaskToken") if isinstance(message, dict) else None
