"""Interrupting `mlops pipeline run --local`: real runner processes, real signals, real job processes.

A run is judged the way the acceptance check judges it: no process whose environment holds
MLOPS_HOME=<home> may be left, and the execution must not read Executing.
"""

import json
import os
import signal
import subprocess
from pathlib import Path

import pytest

from tests.offline.executor.conftest import cmdline, describe, home_processes, mlops, start_run, steps, wait_until

# A job that waits for a go-file in the home (the retry creates it), through a shell with a
# background child, so a job's grandchildren are part of what must end.
WAIT_FOR_GO = (
    "import os, pathlib, time\n"
    "go = pathlib.Path(os.environ['MLOPS_HOME']) / 'go'\n"
    "deadline = time.time() + 120\n"
    "while not go.exists() and time.time() < deadline: time.sleep(0.1)\n"
)
QUICK = "print('done')"


def _processing(name: str, entrypoint: list[str], depends_on=()) -> dict:
    return {
        "Name": name,
        "Type": "Processing",
        "DependsOn": list(depends_on),
        "Arguments": {
            "ProcessingResources": {"ClusterConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1}},
            "AppSpecification": {"ImageUri": "python:3", "ContainerEntrypoint": entrypoint},
            "RoleArn": "arn:aws:iam::123456789012:role/r",
        },
    }


@pytest.fixture
def definition(tmp_path) -> Path:
    steps = [
        _processing("First", ["python3", "-c", QUICK]),
        _processing("Wait", ["/bin/sh", "-c", 'python3 -c "$0" & python3 -c "$0"; wait', WAIT_FOR_GO], ["First"]),
        _processing("After", ["python3", "-c", QUICK], ["Wait"]),
    ]
    path = tmp_path / "WaitingPipeline.json"
    path.write_text(json.dumps({"Version": "2020-12-01", "Parameters": [], "Steps": steps}))
    return path


def waiting_job_started(home: Path, runner: subprocess.Popen) -> None:
    def started():
        assert runner.poll() is None, runner.stdout.read()
        return len([p for p in home_processes(home) if _is_waiting(p)]) == 3

    wait_until(started, 60, "the Wait step's shell and its two Python children run")


def _is_waiting(pid: int) -> bool:
    return b"deadline = time.time() + 120" in cmdline(pid)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_stops_the_execution_and_ends_its_jobs(home, definition, signum):
    runner = start_run(home, "--definition", str(definition))
    waiting_job_started(home, runner)
    os.kill(runner.pid, signum)
    output, _ = runner.communicate(timeout=30)
    assert runner.returncode == 128 + signum, output
    assert home_processes(home) == []  # the runner waited for its jobs to end
    execution = describe(home)
    assert execution["PipelineExecutionStatus"] == "Stopped"
    assert execution["FailureReason"] is None and execution["EndTime"]
    recorded = {name: s["StepStatus"] for name, s in steps(execution).items()}
    assert recorded == {"First": "Succeeded", "Wait": "Stopped"}  # After never started


def test_a_killed_runner_reads_failed_and_leaves_no_job(home, definition):
    runner = start_run(home, "--definition", str(definition))
    waiting_job_started(home, runner)
    runner.kill()  # SIGKILL: nothing in the runner runs
    runner.communicate(timeout=10)
    wait_until(lambda: home_processes(home) == [], 15, "the watchdog ends the dead runner's jobs")

    listed = json.loads(mlops(home, "pipeline", "list", "--json").stdout)
    assert listed[0]["PipelineExecutionStatus"] == "Failed"
    assert f"(pid {runner.pid}) ended without finishing it" in listed[0]["FailureReason"]
    execution = describe(home, listed[0]["PipelineExecutionId"])
    assert steps(execution)["Wait"]["StepStatus"] == "Failed"
    assert "ended without finishing" in steps(execution)["Wait"]["FailureReason"]
    text = mlops(home, "pipeline", "list")
    assert "Failed" in text.stdout and "Executing" not in text.stdout


def test_stop_from_another_process_then_retry_finishes_the_same_execution(home, definition):
    runner = start_run(home, "--definition", str(definition))
    waiting_job_started(home, runner)
    arn = describe(home)["PipelineExecutionArn"]

    stopped = mlops(home, "pipeline", "stop", arn)
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert stopped.stdout.splitlines()[-1].endswith(": Stopped")
    output, _ = runner.communicate(timeout=30)
    assert runner.returncode == 1, output
    assert home_processes(home) == []
    before = steps(describe(home, arn))

    (home / "go").touch()  # the Wait job finishes this time
    retried = mlops(home, "pipeline", "retry", arn, "--json", timeout=120)
    assert retried.returncode == 0, retried.stdout[-2000:] + retried.stderr[-2000:]
    execution = json.loads(retried.stdout[retried.stdout.index("{") :])
    assert execution["PipelineExecutionArn"] == arn and execution["PipelineExecutionStatus"] == "Succeeded"
    after = steps(execution)
    assert {name: s["StepStatus"] for name, s in after.items()} == dict.fromkeys(
        ("First", "Wait", "After"), "Succeeded"
    )
    assert after["First"]["StartTime"] == before["First"]["StartTime"]  # kept, not run again
    assert (after["First"]["AttemptCount"], after["Wait"]["AttemptCount"], after["After"]["AttemptCount"]) == (1, 2, 1)
    assert home_processes(home) == []
    assert len(json.loads(mlops(home, "pipeline", "list", "--json").stdout)) == 1  # the same execution


def test_stop_and_retry_refuse_what_they_cannot_do(home, definition):
    for command in ("stop", "retry"):
        unknown = mlops(home, "pipeline", command, "arn:aws:sagemaker:us-east-1:123456789012:pipeline/p/execution/nope")
        assert unknown.returncode == 2 and "no pipeline execution" in unknown.stderr

    runner = start_run(home, "--definition", str(definition))
    waiting_job_started(home, runner)
    execution_id = describe(home)["PipelineExecutionId"]
    executing = mlops(home, "pipeline", "retry", execution_id)
    assert executing.returncode == 2
    assert f"pipeline execution {execution_id} is Executing; only Failed or Stopped" in executing.stderr

    (home / "go").touch()
    output, _ = runner.communicate(timeout=60)
    assert runner.returncode == 0, output
    for command, verb in (("retry", "retried"), ("stop", "stopped")):
        refused = mlops(home, "pipeline", command, execution_id)
        assert refused.returncode == 2, refused.stdout
        assert "is Succeeded; only" in refused.stderr and f"can be {verb}" in refused.stderr
    assert describe(home, execution_id)["PipelineExecutionStatus"] == "Succeeded"  # nothing changed
