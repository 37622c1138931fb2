"""Run one execution to its end: read it from the store, interpret its definition, close it with its result.

`run_execution` is what the background runner calls; tests call it directly with an injected clock and
client factory. The execution must already exist (StartExecution wrote it and its ExecutionStarted event).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from offline.stepfunctions.clock import Clock, SystemClock
from offline.stepfunctions.errors import ExecutionHalted, StatesError
from offline.stepfunctions.scope import POLL_SECONDS, Runtime, Scope, carried, dumps
from offline.stepfunctions.states import run_states
from offline.stepfunctions.store import RUNNING, ExecutionStore
from offline.stepfunctions.tasks import ClientFactory, Integrations


def run_execution(
    store: ExecutionStore,
    execution_arn: str,
    clients: ClientFactory,
    clock: Clock | None = None,
    poll_seconds: float = POLL_SECONDS,
) -> str:
    """Interpret a RUNNING execution until it ends; returns its final status."""
    execution = store.execution(execution_arn)
    if execution is None:
        raise LookupError(f"no execution {execution_arn}")
    if execution.status != RUNNING:
        return execution.status
    clock = clock or SystemClock()
    definition = json.loads(execution.definition)
    start = datetime.fromtimestamp(execution.start_date, timezone.utc)
    deadline = start + timedelta(seconds=definition["TimeoutSeconds"]) if "TimeoutSeconds" in definition else None
    data = json.loads(execution.input)
    runtime = Runtime(store, execution, Integrations(clients), clock, poll_seconds, deadline, data, start)
    scope = Scope(runtime, last_event=store.history(execution_arn)[-1]["id"])
    try:
        output = run_states(definition, data, scope)
    except ExecutionHalted:
        pass
    except StatesError as error:
        store.close(
            execution_arn,
            "FAILED",
            clock.now().timestamp(),
            "ExecutionFailed",
            error.details(),
            scope.last_event,
            error=error.error or None,
            cause=error.cause or None,
        )
    else:
        text = dumps(output)
        store.close(
            execution_arn,
            "SUCCEEDED",
            clock.now().timestamp(),
            "ExecutionSucceeded",
            carried("output", output),
            scope.last_event,
            output=text,
        )
    return store.status(execution_arn)
