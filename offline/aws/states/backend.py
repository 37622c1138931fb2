"""Step Functions' API rules over the execution store: ARNs, names, idempotency, pagination, error codes.

This is also the Python API for local code that needs more than boto3 offers (the deploy approval lists
an execution's pending task tokens with `pending_tasks`). Results are shaped like the API's responses.
"""

from __future__ import annotations

import base64
import json
import os
import re
import sqlite3
import time
import uuid
from collections.abc import Callable

from offline.aws.states.errors import (
    ExecutionAlreadyExists,
    ExecutionDoesNotExist,
    InvalidArn,
    InvalidDefinition,
    InvalidExecutionInput,
    InvalidName,
    InvalidOutput,
    InvalidToken,
    MissingRequiredParameter,
    StateMachineAlreadyExists,
    StateMachineDoesNotExist,
    StateMachineTypeNotSupported,
    TaskDoesNotExist,
    TaskTimedOut,
    ValidationException,
)
from offline.defaults import LOCAL_ACCOUNT_ID
from offline.home import mlops_home
from offline.state import StateDB
from offline.stepfunctions import runner
from offline.stepfunctions.definition import DefinitionError, load
from offline.stepfunctions.errors import RUNTIME
from offline.stepfunctions.store import RUNNING, Execution, ExecutionStore, PendingTask

_ARN = re.compile(r"arn:aws[a-z-]*:states:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):(?P<type>[A-Za-z]+):(?P<rest>.+)")
_ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:role/.+")
# AWS: no whitespace, brackets, wildcards, these specials or control characters; 1-80 characters.
_BAD_NAME = re.compile(r"[\s<>{}\[\]?*\"#%\\^|~`$&,;:/\x00-\x1f\x7f-\x9f]")
_TASK_GONE = "Provided task does not exist anymore"
DEFAULT_PAGE, MAX_PAGE = 100, 1000
Launcher = Callable[[str], None]  # starts the runner of an execution ARN


class StepFunctionsBackend:
    def __init__(self, db: StateDB, home: str | os.PathLike, launcher: Launcher | None = None):
        self.home = mlops_home(home)
        self.store = ExecutionStore(db)
        self.launcher = launcher or (lambda arn: runner.launch(self.home, self.store, arn))

    @classmethod
    def for_home(cls, home: str | os.PathLike | None = None) -> StepFunctionsBackend:
        path = mlops_home(home)
        return cls(StateDB.for_home(path), path)

    # -- state machines --------------------------------------------------------------------------------

    def create_state_machine(self, region: str, params: dict) -> dict:
        name = _check_name(params["name"])
        kind = params.get("type", "STANDARD")
        if kind != "STANDARD":
            raise StateMachineTypeNotSupported(f"The local runtime runs STANDARD state machines only, not {kind}")
        _check_definition(params["definition"])
        _check_role(params["roleArn"])
        arn = f"arn:aws:states:{region}:{LOCAL_ACCOUNT_ID}:stateMachine:{name}"
        existing = self.store.state_machine(arn)
        if existing is not None:
            same = (existing["definition"], existing["role_arn"]) == (params["definition"], params["roleArn"])
            if not same:
                raise StateMachineAlreadyExists(arn)
            return {"stateMachineArn": arn, "creationDate": existing["creation_date"]}
        document = {
            key: params[key] for key in ("loggingConfiguration", "tracingConfiguration", "tags") if key in params
        }
        machine = {
            "arn": arn,
            "region": region,
            "name": name,
            "definition": params["definition"],
            "role_arn": params["roleArn"],
            "type": kind,
            "creation_date": time.time(),
            "revision_id": uuid.uuid4().hex,
            "document": document,
        }
        self.store.put_state_machine(machine)
        return {"stateMachineArn": arn, "creationDate": machine["creation_date"]}

    def describe_state_machine(self, arn: str) -> dict:
        machine = self._machine(arn)
        document = machine["document"]
        return {
            "stateMachineArn": arn,
            "name": machine["name"],
            "status": "ACTIVE",
            "definition": machine["definition"],
            "roleArn": machine["role_arn"],
            "type": machine["type"],
            "creationDate": machine["creation_date"],
            "loggingConfiguration": document.get(
                "loggingConfiguration", {"level": "OFF", "includeExecutionData": False}
            ),
            "tracingConfiguration": document.get("tracingConfiguration", {"enabled": False}),
            "revisionId": machine["revision_id"],
        }

    def update_state_machine(self, params: dict) -> dict:
        machine = self._machine(params["stateMachineArn"])
        changes = ("definition", "roleArn", "loggingConfiguration", "tracingConfiguration")
        if not any(key in params for key in changes):
            raise MissingRequiredParameter(
                "Either the definition, the role ARN, the LoggingConfiguration, or the TracingConfiguration must be specified"
            )
        if "definition" in params:
            _check_definition(params["definition"])
            machine["definition"] = params["definition"]
        if "roleArn" in params:
            machine["role_arn"] = _check_role(params["roleArn"])
        for key in changes[2:]:
            if key in params:
                machine["document"][key] = params[key]
        machine["revision_id"] = uuid.uuid4().hex
        self.store.put_state_machine(machine)
        return {"updateDate": time.time(), "revisionId": machine["revision_id"]}

    def delete_state_machine(self, arn: str) -> None:
        """Running executions go on with the definition they started with, as on AWS."""
        _parse_arn(arn, "stateMachine")
        self.store.delete_state_machine(arn)

    def list_state_machines(self, region: str, params: dict) -> dict:
        items = [
            {"stateMachineArn": m["arn"], "name": m["name"], "type": m["type"], "creationDate": m["creation_date"]}
            for m in self.store.state_machines(region)
        ]
        page, token = _page(items, params, "stateMachines")
        return {"stateMachines": page, "nextToken": token}

    def _machine(self, arn: str) -> dict:
        _parse_arn(arn, "stateMachine")
        machine = self.store.state_machine(arn)
        if machine is None:
            raise StateMachineDoesNotExist(arn)
        return machine

    # -- executions ------------------------------------------------------------------------------------

    def start_execution(self, params: dict) -> dict:
        machine = self._machine(params["stateMachineArn"])
        name = _check_name(params.get("name") or str(uuid.uuid4()))
        text = params.get("input", "{}")
        try:
            json.loads(text)
        except ValueError as e:
            raise InvalidExecutionInput(str(e)) from e
        region = _parse_arn(machine["arn"], "stateMachine")["region"]
        arn = f"arn:aws:states:{region}:{LOCAL_ACCOUNT_ID}:execution:{machine['name']}:{name}"
        now = time.time()
        execution = Execution(
            arn=arn,
            state_machine_arn=machine["arn"],
            name=name,
            region=region,
            status=RUNNING,
            input=text,
            start_date=now,
            definition=machine["definition"],
            role_arn=machine["role_arn"],
            trace_header=params.get("traceHeader"),
        )
        started = {"input": text, "inputDetails": {"truncated": False}, "roleArn": machine["role_arn"]}
        try:
            self.store.create_execution(execution, started)
        except sqlite3.IntegrityError:
            existing = self.store.execution(arn)
            if existing.status == RUNNING and existing.input == text:  # AWS: the same request is idempotent
                return {"executionArn": arn, "startDate": existing.start_date}
            raise ExecutionAlreadyExists(arn) from None
        try:
            self.launcher(arn)
        except OSError as e:
            self.store.fail(arn, time.time(), RUNTIME, f"The local runner could not be started: {e}")
        return {"executionArn": arn, "startDate": now}

    def describe_execution(self, arn: str) -> dict:
        execution = self._execution(arn)
        out = {
            "executionArn": arn,
            "stateMachineArn": execution.state_machine_arn,
            "name": execution.name,
            "status": execution.status,
            "startDate": execution.start_date,
            "stopDate": execution.stop_date,
            "input": execution.input,
            "inputDetails": {"included": True},
            "output": execution.output,
            "error": execution.error,
            "cause": execution.cause,
            "traceHeader": execution.trace_header,
        }
        if execution.output is not None:
            out["outputDetails"] = {"included": True}
        return out

    def describe_state_machine_for_execution(self, arn: str) -> dict:
        execution = self._execution(arn)
        return {
            "stateMachineArn": execution.state_machine_arn,
            "name": execution.state_machine_name,
            "definition": execution.definition,
            "roleArn": execution.role_arn,
            "updateDate": execution.start_date,
        }

    def get_execution_history(self, params: dict) -> dict:
        arn = params["executionArn"]
        self._execution(arn)
        events = self.store.history(arn)
        if params.get("reverseOrder"):
            events.reverse()
        if params.get("includeExecutionData", True) is False:
            events = [_without_data(event) for event in events]
        page, token = _page(events, params, arn)
        return {"events": page, "nextToken": token}

    def list_executions(self, params: dict) -> dict:
        if "mapRunArn" in params:
            raise ValidationException("Map Runs (distributed Map) are not supported by the local runtime")
        if "stateMachineArn" not in params:
            raise ValidationException("Must provide a StateMachine ARN or a MapRun ARN")
        machine_arn = params["stateMachineArn"]
        if self.store.state_machine(_check_arn(machine_arn, "stateMachine")) is None:
            raise StateMachineDoesNotExist(machine_arn)
        executions = self.store.executions(machine_arn)
        executions = [runner.reap_if_dead(self.store, e, self.home) for e in executions]
        wanted = params.get("statusFilter")
        items = [
            {
                "executionArn": e.arn,
                "stateMachineArn": e.state_machine_arn,
                "name": e.name,
                "status": e.status,
                "startDate": e.start_date,
                "stopDate": e.stop_date,
            }
            for e in executions
            if wanted is None or e.status == wanted
        ]
        page, token = _page(items, params, machine_arn + (wanted or ""))
        return {"executions": page, "nextToken": token}

    def stop_execution(self, params: dict) -> dict:
        arn = params["executionArn"]
        execution = self._execution(arn)
        if execution.status == RUNNING:
            details = {key: params[key] for key in ("error", "cause") if params.get(key) is not None}
            self.store.close(arn, "ABORTED", time.time(), "ExecutionAborted", details, **details)
        return {"stopDate": self.store.execution(arn).stop_date}

    def _execution(self, arn: str) -> Execution:
        _parse_arn(arn, "execution")
        execution = self.store.execution(arn)
        if execution is None:
            raise ExecutionDoesNotExist(arn)
        return runner.reap_if_dead(self.store, execution, self.home)

    # -- task tokens -----------------------------------------------------------------------------------

    def send_task_success(self, token: str, output: str) -> None:
        try:
            json.loads(output)
        except ValueError as e:
            raise InvalidOutput(str(e)) from e
        self._resolve(token, "SUCCEEDED", output=output)

    def send_task_failure(self, token: str, error: str | None = None, cause: str | None = None) -> None:
        self._resolve(token, "FAILED", error=error, cause=cause)

    def send_task_heartbeat(self, token: str) -> None:
        self._live_token(token)
        self._closed_token(self.store.heartbeat(token))

    def pending_tasks(self, execution_arn: str) -> list[PendingTask]:
        """The tasks of an execution waiting for SendTaskSuccess/Failure: token, state name, input, parameters."""
        self._execution(execution_arn)
        return self.store.pending_tasks(execution_arn)

    def _resolve(self, token: str, status: str, **fields) -> None:
        self._live_token(token)
        self._closed_token(self.store.resolve_token(token, status, time.time(), **fields))

    def _live_token(self, token: str) -> None:
        row = self.store.token(token)
        if row is None:
            raise InvalidToken("Invalid token")
        self._execution(row["execution_arn"])  # a dead runner's tokens close with it

    @staticmethod
    def _closed_token(previous: str | None) -> None:
        if previous is None:
            raise InvalidToken("Invalid token")
        if previous.startswith("EXECUTION_"):
            raise TaskDoesNotExist(_TASK_GONE)
        if previous != "PENDING":
            raise TaskTimedOut(_TASK_GONE)


def _parse_arn(arn: str, kind: str) -> dict:
    match = _ARN.fullmatch(arn or "")
    if match is None:
        raise InvalidArn(f"Invalid ARN prefix: {arn}")
    if match["type"] != kind:
        raise InvalidArn(f"Resource type not valid in this context: {match['type']}")
    return match.groupdict()


def _check_arn(arn: str, kind: str) -> str:
    _parse_arn(arn, kind)
    return arn


def _check_name(name: str) -> str:
    if not 1 <= len(name) <= 80 or _BAD_NAME.search(name):
        raise InvalidName(name)
    return name


def _check_role(role_arn: str) -> str:
    if not _ROLE_ARN.fullmatch(role_arn):
        raise InvalidArn(f"Invalid ARN prefix: {role_arn}")
    return role_arn


def _check_definition(text: str) -> dict:
    try:
        return load(text)
    except DefinitionError as e:
        raise InvalidDefinition(str(e)) from e


def _without_data(event: dict) -> dict:
    out = {}
    for key, value in event.items():
        if isinstance(value, dict):
            value = {k: v for k, v in value.items() if k not in ("input", "output", "inputDetails", "outputDetails")}
        out[key] = value
    return out


def _page(items: list, params: dict, scope: str) -> tuple[list, str | None]:
    """One page of `items`; the token is opaque to clients and bound to the listing it came from."""
    size = params.get("maxResults") or DEFAULT_PAGE
    offset = 0
    token = params.get("nextToken")
    if token:
        try:
            decoded = json.loads(base64.urlsafe_b64decode(token.encode()))
            offset = int(decoded["offset"])
            if decoded["scope"] != scope or offset < 0:
                raise ValueError(token)
        except (ValueError, KeyError, TypeError) as e:
            raise InvalidToken(token) from e
    page = items[offset : offset + min(size, MAX_PAGE)]
    following = offset + len(page)
    if following >= len(items):
        return page, None
    return page, base64.urlsafe_b64encode(json.dumps({"scope": scope, "offset": following}).encode()).decode()
