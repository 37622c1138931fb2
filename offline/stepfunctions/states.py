"""The state types: what each does with its input, the history events it writes, Retry and Catch.

Each handler takes (name, state, input, scope) and returns (next state or None at the end, output). Data
flows as AWS describes: InputPath -> Parameters -> (the work) -> ResultSelector -> ResultPath -> OutputPath.
"""

from __future__ import annotations

import json
import random
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from offline.stepfunctions import choice, paths
from offline.stepfunctions.errors import (
    NO_CHOICE_MATCHED,
    TIMEOUT,
    ExecutionHalted,
    PathError,
    StatesError,
    matches,
    runtime_error,
)
from offline.stepfunctions.scope import Scope, carried, dumps, seconds_between
from offline.stepfunctions.store import PENDING, PendingTask
from offline.stepfunctions.tasks import JOB_SUCCEEDED, SYNC, WAIT_FOR_TASK_TOKEN, parse_resource

MAX_THREADS = 16  # Map iterations and Parallel branches run at once, at most this many per state


def run_states(machine: dict, data: Any, scope: Scope) -> Any:
    """Run a state machine (the top level, a branch, an iterator) from StartAt to its end; its output."""
    name = machine["StartAt"]
    while True:
        scope.check()
        state = machine["States"][name]
        name, data = _HANDLERS[state["Type"]](name, state, data, scope)
        if name is None:
            return data


class _State:
    """One visit of a state: its entered event, context object and path errors worded as AWS words them."""

    def __init__(self, name: str, state: dict, data: Any, scope: Scope):
        self.name, self.state, self.input, self.scope = name, state, data, scope
        self.entered_at = scope.runtime.clock.now()
        self.entered_id = scope.event(f"{state['Type']}StateEntered", {"name": name, **carried("input", data)})
        self.retries = 0

    def context(self, **extra: Any) -> dict:
        return self.scope.context(self.name, self.entered_at, self.retries, **extra)

    def paths(self, step: Callable[[], Any]) -> Any:
        try:
            return step()
        except PathError as e:
            raise runtime_error(self.name, self.entered_id, str(e)) from e

    def filtered(self, field: str, data: Any) -> Any:
        """InputPath or OutputPath applied to `data`."""
        return self.paths(lambda: paths.apply_input_path(self.state.get(field, "$"), data, self.context()))

    def effective_input(self, **context: Any) -> Any:
        """InputPath, then Parameters."""
        ctx = self.context(**context)
        data = self.filtered("InputPath", self.input)
        if "Parameters" in self.state:
            data = self.paths(lambda: paths.payload(self.state["Parameters"], data, ctx))
        return data

    def output(self, result: Any) -> Any:
        """ResultSelector, ResultPath, OutputPath."""
        ctx = self.context()
        if "ResultSelector" in self.state:
            result = self.paths(lambda: paths.payload(self.state["ResultSelector"], result, ctx))
        placed = self.paths(lambda: paths.apply_result_path(self.state.get("ResultPath", "$"), self.input, result))
        return self.filtered("OutputPath", placed)

    def exit(self, output: Any, next_state: str | None = None) -> tuple[str | None, Any]:
        self.scope.event(f"{self.state['Type']}StateExited", {"name": self.name, **carried("output", output)})
        return next_state or (None if self.state.get("End") else self.state.get("Next")), output


def _with_recovery(visit: _State, attempt: Callable[[], Any]) -> tuple[str | None, Any]:
    """Run a Task, Parallel or Map attempt; on error apply the first matching retrier, then the catchers."""
    counts: dict[int, int] = {}
    while True:
        try:
            return visit.exit(visit.output(attempt()))
        except StatesError as error:
            delay = _retry_delay(visit.state.get("Retry", []), error, counts)
            if delay is None:
                return _catch(visit, error)
            visit.retries += 1
            visit.scope.sleep(delay)


def _retry_delay(retriers: list[dict], error: StatesError, counts: dict[int, int]) -> float | None:
    for i, retrier in enumerate(retriers):
        if not matches(retrier["ErrorEquals"], error):
            continue
        attempts = counts.get(i, 0)
        if attempts >= retrier.get("MaxAttempts", 3):
            return None
        counts[i] = attempts + 1
        delay = retrier.get("IntervalSeconds", 1) * retrier.get("BackoffRate", 2.0) ** attempts
        if "MaxDelaySeconds" in retrier:
            delay = min(delay, retrier["MaxDelaySeconds"])
        return random.uniform(0, delay) if retrier.get("JitterStrategy") == "FULL" else delay
    return None


def _catch(visit: _State, error: StatesError) -> tuple[str | None, Any]:
    for catcher in visit.state.get("Catch", []):
        if matches(catcher["ErrorEquals"], error):
            output = paths.apply_result_path(catcher.get("ResultPath", "$"), visit.input, error.as_output())
            return visit.exit(output, catcher["Next"])
    raise error


# -- Pass, Wait, Choice, Succeed, Fail ---------------------------------------------------------------------


def _pass(name: str, state: dict, data: Any, scope: Scope) -> tuple[str | None, Any]:
    visit = _State(name, state, data, scope)
    result = state["Result"] if "Result" in state else visit.effective_input()
    return visit.exit(visit.output(result))


def _wait(name: str, state: dict, data: Any, scope: Scope) -> tuple[str | None, Any]:
    visit = _State(name, state, data, scope)
    data = visit.filtered("InputPath", data)
    if "Seconds" in state or "SecondsPath" in state:
        seconds = state.get("Seconds")
        if "SecondsPath" in state:
            seconds = visit.paths(lambda: paths.select(state["SecondsPath"], data, visit.context()))
        if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds < 0:
            raise runtime_error(
                name, visit.entered_id, f"The SecondsPath value {seconds!r} is not a non-negative integer"
            )
    else:
        stamp = state.get("Timestamp")
        if "TimestampPath" in state:
            stamp = visit.paths(lambda: paths.select(state["TimestampPath"], data, visit.context()))
        moment = choice.parse_timestamp(stamp)
        if moment is None:
            raise runtime_error(name, visit.entered_id, f"The timestamp {stamp!r} is not an ISO-8601 timestamp")
        seconds = max(0.0, seconds_between(scope.runtime.clock.now(), moment))
    scope.sleep(seconds)
    return visit.exit(visit.filtered("OutputPath", data))


def _choice(name: str, state: dict, data: Any, scope: Scope) -> tuple[str | None, Any]:
    visit = _State(name, state, data, scope)
    data = visit.filtered("InputPath", data)
    target = visit.paths(lambda: choice.choose(state["Choices"], data, visit.context())) or state.get("Default")
    if target is None:
        raise StatesError(NO_CHOICE_MATCHED, f"No Matches! (state '{name}', input {dumps(data)[:1000]})")
    return visit.exit(visit.filtered("OutputPath", data), target)


def _succeed(name: str, state: dict, data: Any, scope: Scope) -> tuple[str | None, Any]:
    visit = _State(name, state, data, scope)
    _, output = visit.exit(visit.filtered("OutputPath", visit.filtered("InputPath", data)))
    return None, output


def _fail(name: str, state: dict, data: Any, scope: Scope) -> tuple[str | None, Any]:
    visit = _State(name, state, data, scope)
    error, cause = state.get("Error", ""), state.get("Cause", "")
    if "ErrorPath" in state:
        error = visit.paths(lambda: _path_or_intrinsic(state["ErrorPath"], data, visit.context()))
    if "CausePath" in state:
        cause = visit.paths(lambda: _path_or_intrinsic(state["CausePath"], data, visit.context()))
    raise StatesError(str(error), str(cause))


def _path_or_intrinsic(expression: str, data: Any, ctx: dict) -> Any:
    return paths.payload({"v.$": expression}, data, ctx)["v"]


# -- Task ------------------------------------------------------------------------------------------------


def _task(name: str, state: dict, data: Any, scope: Scope) -> tuple[str | None, Any]:
    visit = _State(name, state, data, scope)
    resource = parse_resource(state["Resource"])
    return _with_recovery(visit, lambda: _run_task(visit, resource))


def _run_task(visit: _State, resource) -> Any:
    scope, runtime = visit.scope, visit.scope.runtime
    token = secrets.token_urlsafe(96) if resource.pattern == WAIT_FOR_TASK_TOKEN else None
    params = visit.effective_input(**({"Task": {"Token": token}} if token else {}))
    timeout = _seconds(visit, "TimeoutSeconds")
    heartbeat = _seconds(visit, "HeartbeatSeconds")
    call = None if (resource.family == "sns" and token) else runtime.integrations.prepare(resource, params)
    kind = {"resourceType": resource.resource_type, "resource": resource.resource}
    scheduled = {**kind, "region": runtime.execution.region, "parameters": dumps(params)}
    if timeout is not None:
        scheduled["timeoutInSeconds"] = timeout
    if heartbeat is not None:
        scheduled["heartbeatInSeconds"] = heartbeat
    scope.event("TaskScheduled", scheduled)
    scope.event("TaskStarted", kind)
    started = runtime.clock.now()
    try:
        if token:
            output = _wait_for_token(visit, resource, call, token, params, started, timeout, heartbeat)
        else:
            output = runtime.integrations.send(call)
            if resource.pattern == SYNC:
                scope.event("TaskSubmitted", {**kind, **carried("output", output)})
                output = _poll_job(visit, resource, params, started, timeout)
            elif timeout is not None and seconds_between(started, runtime.clock.now()) > timeout:
                raise StatesError(TIMEOUT)
    except StatesError as error:
        scope.event("TaskTimedOut" if error.error == TIMEOUT else "TaskFailed", {**kind, **error.details()})
        raise
    scope.event("TaskSucceeded", {**kind, **carried("output", output)})
    return output


def _seconds(visit: _State, field: str) -> int | None:
    if field in visit.state:
        return visit.state[field]
    if f"{field}Path" in visit.state:
        value = visit.paths(lambda: paths.select(visit.state[f"{field}Path"], visit.input, visit.context()))
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise runtime_error(
                visit.name, visit.entered_id, f"{field}Path must select a positive integer, not {value!r}"
            )
        return value
    return None


def _poll_job(visit: _State, resource, params: dict, started, timeout: int | None) -> Any:
    runtime = visit.scope.runtime
    while True:
        status, described = runtime.integrations.poll_job(resource, params)
        if status == JOB_SUCCEEDED:
            return described
        if timeout is not None and seconds_between(started, runtime.clock.now()) >= timeout:
            runtime.integrations.stop_job(resource, params)
            raise StatesError(TIMEOUT)
        try:
            visit.scope.sleep(runtime.poll_seconds)
        except ExecutionHalted:
            runtime.integrations.stop_job(resource, params)
            raise


def _wait_for_token(visit: _State, resource, call, token: str, params, started, timeout, heartbeat) -> Any:
    scope, runtime = visit.scope, visit.scope.runtime
    store = runtime.store
    store.add_token(
        PendingTask(token, runtime.execution.arn, visit.name, resource.arn, visit.input, params, started.timestamp())
    )
    try:
        submitted = runtime.integrations.send(call) if call is not None else {}
    except StatesError as error:
        store.resolve_token(token, "FAILED", runtime.clock.now().timestamp(), error=error.error, cause=error.cause)
        raise
    kind = {"resourceType": resource.resource_type, "resource": resource.resource}
    scope.event("TaskSubmitted", {**kind, **carried("output", submitted)})
    beats, last_beat = 0, started
    while True:
        row = store.token(token)
        if row["status"] == "SUCCEEDED":
            return json.loads(row["output"])
        if row["status"] == "FAILED":
            raise StatesError(row["error"] or "", row["cause"] or "")
        if row["status"] != PENDING:
            raise ExecutionHalted(runtime.execution.arn)
        now = runtime.clock.now()
        if row["heartbeats"] != beats:
            beats, last_beat = row["heartbeats"], now
        expired = None
        if timeout is not None and seconds_between(started, now) >= timeout:
            expired = StatesError(TIMEOUT)
        elif heartbeat is not None and seconds_between(last_beat, now) >= heartbeat:
            expired = StatesError(TIMEOUT, heartbeat=True)
        if expired and store.resolve_token(token, "TIMED_OUT", now.timestamp()) == PENDING:
            raise expired
        if not expired:
            scope.sleep(runtime.poll_seconds)


# -- Parallel and Map ------------------------------------------------------------------------------------


def _parallel(name: str, state: dict, data: Any, scope: Scope) -> tuple[str | None, Any]:
    visit = _State(name, state, data, scope)

    def attempt() -> list:
        branch_input = visit.effective_input()
        scope.event("ParallelStateStarted")
        runs = [(lambda child, b=branch: run_states(b, branch_input, child)) for branch in state["Branches"]]
        try:
            results = _concurrently(scope, runs, len(runs))
        except StatesError:
            scope.event("ParallelStateFailed")
            raise
        scope.event("ParallelStateSucceeded")
        return results

    return _with_recovery(visit, attempt)


def _map(name: str, state: dict, data: Any, scope: Scope) -> tuple[str | None, Any]:
    visit = _State(name, state, data, scope)
    processor = state.get("ItemProcessor") or state["Iterator"]
    selector_key = "ItemSelector" if "ItemSelector" in state else "Parameters"

    def attempt() -> list:
        ctx = visit.context()
        effective = visit.paths(lambda: paths.apply_input_path(state.get("InputPath", "$"), data, ctx))
        items = visit.paths(lambda: paths.select(state.get("ItemsPath", "$"), effective, ctx))
        if not isinstance(items, list):
            raise runtime_error(name, visit.entered_id, f"The ItemsPath selects {dumps(items)[:200]}, not an array")
        scope.event("MapStateStarted", {"length": len(items)})

        def iteration(index: int, item: Any) -> Callable[[Scope], Any]:
            def run(child: Scope) -> Any:
                detail = {"name": name, "index": index}
                child.event("MapIterationStarted", detail)
                item_input = item
                if selector_key in state:
                    item_ctx = visit.context(Map={"Item": {"Index": index, "Value": item}})
                    item_input = visit.paths(lambda: paths.payload(state[selector_key], effective, item_ctx))
                try:
                    output = run_states(processor, item_input, child)
                except StatesError as error:
                    child.event("MapIterationFailed", detail)
                    raise error
                except ExecutionHalted:
                    if child.parent is not None and child.parent.cancelled.is_set():
                        child.event("MapIterationAborted", detail)
                    raise
                child.event("MapIterationSucceeded", detail)
                return output

            return run

        runs = [iteration(i, item) for i, item in enumerate(items)]
        limit = state.get("MaxConcurrency", 0) or len(runs)
        try:
            results = _concurrently(scope, runs, limit)
        except StatesError:
            scope.event("MapStateFailed")
            raise
        scope.event("MapStateSucceeded")
        return results

    return _with_recovery(visit, attempt)


def _concurrently(scope: Scope, runs: list[Callable[[Scope], Any]], limit: int) -> list:
    """Run branches in child scopes; the first failure cancels the rest and is raised once all have stopped."""
    if not runs:
        return []
    group = scope.child()
    failures: list[StatesError] = []
    lock = threading.Lock()
    children = [group.child() for _ in runs]

    def guarded(run: Callable[[Scope], Any], child: Scope) -> Any:
        try:
            return run(child)
        except StatesError as error:
            with lock:
                failures.append(error)
            group.cancelled.set()
            return None
        except ExecutionHalted:
            return None

    with ThreadPoolExecutor(max_workers=max(1, min(limit, MAX_THREADS)), thread_name_prefix="sfn") as pool:
        futures = [pool.submit(guarded, run, child) for run, child in zip(runs, children, strict=True)]
        results = [future.result() for future in futures]
    scope.last_event = max([scope.last_event] + [child.last_event for child in children])
    if failures:
        raise failures[0]
    scope.check()  # halted from outside (stop, timeout): unwind
    return results


_HANDLERS: dict[str, Callable[[str, dict, Any, Scope], tuple[str | None, Any]]] = {
    "Pass": _pass,
    "Wait": _wait,
    "Choice": _choice,
    "Succeed": _succeed,
    "Fail": _fail,
    "Task": _task,
    "Parallel": _parallel,
    "Map": _map,
}
