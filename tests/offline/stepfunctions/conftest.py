"""Run state machines through the real store and interpreter, in the test's process, with a virtual clock.

Every definition a test runs is first held to statelint (PyPI statelint 3.1.0), so the tests exercise only
state machines AWS would accept.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from statelint.linter import Linter

from offline.aws.states.backend import StepFunctionsBackend
from offline.state import StateDB
from offline.stepfunctions.interpreter import run_execution
from offline.stepfunctions.runner import local_clients, process_start

ROLE = "arn:aws:iam::123456789012:role/sfn-local"


class FakeClock:
    """Virtual time: sleeps return at once and move the clock; each sleep is recorded."""

    def __init__(self):
        self.moment = datetime.now(timezone.utc)
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self.moment

    def sleep(self, seconds: float, interrupted) -> bool:
        with self._lock:
            self.sleeps.append(seconds)
        if interrupted():
            return True
        with self._lock:
            self.moment += timedelta(seconds=seconds)
        time.sleep(0.001)  # let other threads (an approver, a sibling branch) run
        return False


@dataclass
class Outcome:
    arn: str
    status: str
    description: dict
    events: list[dict]

    @property
    def output(self):
        return json.loads(self.description["output"])

    @property
    def types(self) -> list[str]:
        return [e["type"] for e in self.events]

    def events_of(self, event_type: str) -> list[dict]:
        return [e for e in self.events if e["type"] == event_type]


def lint(definition: dict) -> list[str]:
    return Linter.validate(json.dumps(definition))


class Machines:
    """Create a state machine, start it (the runner is this test), interpret it in the foreground."""

    def __init__(self, home: Path):
        self.home = home
        self.backend = StepFunctionsBackend(StateDB.for_home(home), home, launcher=self._claim)
        self.store = self.backend.store
        self.clock = FakeClock()
        self._clients = None
        self._count = 0

    def _claim(self, arn: str) -> None:
        self.store.set_runner(arn, os.getpid(), process_start(os.getpid()))

    @property
    def clients(self):
        if self._clients is None:
            self._clients = local_clients(self.home)
        return self._clients

    def start(self, definition: dict, data=None, name: str | None = None) -> str:
        problems = lint(definition)
        assert not problems, problems
        self._count += 1
        machine = self.backend.create_state_machine(
            "us-east-1", {"name": f"m{self._count}", "definition": json.dumps(definition), "roleArn": ROLE}
        )
        params = {"stateMachineArn": machine["stateMachineArn"], "input": json.dumps({} if data is None else data)}
        if name:
            params["name"] = name
        return self.backend.start_execution(params)["executionArn"]

    def finish(self, arn: str, clients=None, clock=None, poll_seconds: float = 0.05) -> Outcome:
        status = run_execution(self.store, arn, clients or self.clients, clock or self.clock, poll_seconds)
        return self.outcome(arn, status)

    def outcome(self, arn: str, status: str | None = None) -> Outcome:
        description = self.backend.describe_execution(arn)
        events = self.backend.get_execution_history({"executionArn": arn, "maxResults": 1000})["events"]
        return Outcome(arn, status or description["status"], description, events)

    def run(self, definition: dict, data=None, **kwargs) -> Outcome:
        return self.finish(self.start(definition, data), **kwargs)


@pytest.fixture
def machines(tmp_path) -> Machines:
    machines = Machines(tmp_path / "home")
    yield machines
    stop_running(machines.home)


@pytest.fixture
def home(tmp_path) -> Path:
    """A home whose executions are stopped at teardown, so no background runner outlives its test."""
    home = tmp_path / "home"
    yield home
    stop_running(home)


def stop_running(home: Path) -> None:
    if not (home / "state.db").exists():
        return
    backend = StepFunctionsBackend.for_home(home)
    for row in backend.store.db.query("SELECT arn FROM sfn_executions WHERE status = 'RUNNING'"):
        backend.stop_execution({"executionArn": row["arn"], "cause": "the test ended"})


def wait_until(predicate, timeout: float = 10.0, interval: float = 0.02):
    """Poll `predicate` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")
