"""The runner's entry point and its process bookkeeping, in-process (the background process itself is
exercised by the service tests)."""

from __future__ import annotations

import os
import subprocess
import sys

from offline.stepfunctions import runner
from tests.offline.stepfunctions.conftest import wait_until

PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}


def _unclaimed(machines, definition=PASS) -> str:
    machines.backend.launcher = lambda arn: None  # nobody runs it yet
    return machines.start(definition, {"x": 1})


def test_main_runs_an_execution(machines):
    arn = _unclaimed(machines)
    assert runner.main(["--home", str(machines.home), arn]) == 0
    execution = machines.store.execution(arn)
    assert execution.status == "SUCCEEDED"
    assert execution.runner_pid == os.getpid()
    assert runner.process_start(os.getpid()) == execution.runner_start


def test_main_refuses_an_execution_another_runner_claimed(machines):
    arn = _unclaimed(machines)
    machines.store.set_runner(arn, 1, runner.process_start(1))
    assert runner.main(["--home", str(machines.home), arn]) == 1
    assert machines.store.execution(arn).status == "RUNNING"


def test_main_on_an_unknown_execution(machines):
    assert runner.main(["--home", str(machines.home), "arn:aws:states:us-east-1:123456789012:execution:m:none"]) == 2


def test_an_interpreter_crash_still_closes_the_execution(machines, monkeypatch):
    arn = _unclaimed(machines)

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(runner, "run_execution", broken)
    assert runner.main(["--home", str(machines.home), arn]) == 1
    described = machines.backend.describe_execution(arn)
    assert described["status"] == "FAILED"
    assert described["error"] == "States.Runtime"
    assert "The local interpreter failed: RuntimeError('a bug')" in described["cause"]


def test_process_start_tells_live_exited_and_zombie_processes_apart():
    child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        assert runner.process_start(child.pid)
        child.stdin.close()
        wait_until(lambda: runner.process_start(child.pid) is None)  # exited: a zombie until reaped
    finally:
        child.wait()
    assert runner.process_start(child.pid) is None


def test_an_execution_without_a_runner_fails_after_the_grace_period(machines, monkeypatch):
    arn = _unclaimed(machines)
    assert machines.backend.describe_execution(arn)["status"] == "RUNNING"
    monkeypatch.setattr(runner, "LAUNCH_GRACE_SECONDS", 0)
    described = machines.backend.describe_execution(arn)
    assert described["status"] == "FAILED"
    assert described["cause"] == "No local runner was started for this execution within 0 s"


def test_log_path_names_machine_and_execution(tmp_path):
    path = runner.log_path(tmp_path, "arn:aws:states:us-east-1:123456789012:execution:deploy:run-7")
    assert path == tmp_path / "logs" / "stepfunctions" / "deploy.run-7.log"
