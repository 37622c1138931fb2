"""Where a piece of an execution runs: the top level, a Parallel branch or a Map iteration.

A scope writes history events chained by previousEventId, tells its states when to stop (the execution was
closed elsewhere, a sibling branch failed, the execution's TimeoutSeconds passed) and builds the context
object that `$$` paths read.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from offline.stepfunctions.clock import Clock, iso
from offline.stepfunctions.errors import TIMEOUT, ExecutionHalted
from offline.stepfunctions.store import RUNNING, Execution, ExecutionStore
from offline.stepfunctions.tasks import Integrations

POLL_SECONDS = 0.5  # task tokens and .sync jobs


@dataclass
class Runtime:
    """What every scope of one execution shares."""

    store: ExecutionStore
    execution: Execution
    integrations: Integrations
    clock: Clock
    poll_seconds: float
    deadline: datetime | None  # the state machine's TimeoutSeconds
    input: Any
    start: datetime

    def context(self) -> dict:
        execution = self.execution
        return {
            "Execution": {
                "Id": execution.arn,
                "Input": self.input,
                "Name": execution.name,
                "RoleArn": execution.role_arn,
                "StartTime": iso(self.start),
                "RedriveCount": 0,
            },
            "StateMachine": {"Id": execution.state_machine_arn, "Name": execution.state_machine_name},
        }


class Scope:
    def __init__(self, runtime: Runtime, last_event: int, parent: Scope | None = None):
        self.runtime = runtime
        self.parent = parent
        self.last_event = last_event
        self.cancelled = threading.Event()

    def child(self) -> Scope:
        """A scope for one branch or iteration, chained after this scope's latest event."""
        return Scope(self.runtime, self.last_event, self)

    def event(self, event_type: str, details: dict | None = None) -> int:
        runtime = self.runtime
        when = runtime.clock.now().timestamp()
        self.last_event = runtime.store.append_event(runtime.execution.arn, when, event_type, details, self.last_event)
        return self.last_event

    def context(self, state: str, entered: datetime, retry_count: int = 0, **extra: Any) -> dict:
        context = self.runtime.context()
        context["State"] = {"EnteredTime": iso(entered), "Name": state, "RetryCount": retry_count}
        context.update(extra)
        return context

    def interrupted(self) -> bool:
        scope: Scope | None = self
        while scope is not None:
            if scope.cancelled.is_set():
                return True
            scope = scope.parent
        runtime = self.runtime
        if runtime.deadline is not None and runtime.clock.now() >= runtime.deadline:
            return True
        return runtime.store.status(runtime.execution.arn) != RUNNING

    def check(self) -> None:
        """Raise ExecutionHalted when this scope must stop; close the execution if its own timeout passed."""
        if not self.interrupted():
            return
        runtime = self.runtime
        if runtime.deadline is not None and runtime.clock.now() >= runtime.deadline:
            runtime.store.close(
                runtime.execution.arn,
                "TIMED_OUT",
                runtime.clock.now().timestamp(),
                "ExecutionTimedOut",
                {"error": TIMEOUT, "cause": "The execution ran longer than the state machine's TimeoutSeconds"},
                error=TIMEOUT,
            )
        raise ExecutionHalted(runtime.execution.arn)

    def sleep(self, seconds: float) -> None:
        """Wait (a Wait state, a retry interval, a poll), cut short when the scope must stop."""
        if seconds > 0:
            deadline = self.runtime.deadline
            if deadline is not None:
                seconds = min(seconds, max(0.0, (deadline - self.runtime.clock.now()).total_seconds()))
            self.runtime.clock.sleep(seconds, self.interrupted)
        self.check()


def dumps(value: Any) -> str:
    """JSON as the history and DescribeExecution carry it (compact)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def carried(key: str, value: Any) -> dict:
    """An event's data member and its details: {"output": "…", "outputDetails": {"truncated": false}}."""
    return {key: dumps(value), f"{key}Details": {"truncated": False}}


def seconds_between(start: datetime, end: datetime) -> float:
    return (end - start) / timedelta(seconds=1)
