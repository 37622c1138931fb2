"""The real build pipeline run as a user runs it: `mlops pipeline run --local` processes, interrupted or side by side."""

import json
import signal

import pytest

from tests.offline.executor.conftest import cmdline, describe, home_processes, mlops, start_run, wait_until

pytestmark = pytest.mark.slow


def test_ctrl_c_mid_run_stops_the_build_pipeline_and_its_jobs(home):
    runner = start_run(home)
    wait_until(lambda: any(b"runproc.sh" in cmdline(p) for p in home_processes(home)), 120, "a job's runproc.sh runs")
    runner.send_signal(signal.SIGINT)
    output, _ = runner.communicate(timeout=60)
    assert runner.returncode == 130, output[-2000:]
    assert home_processes(home) == []
    execution = describe(home)
    assert execution["PipelineExecutionStatus"] == "Stopped"
    assert "Stopped" in {s["StepStatus"] for s in execution["Steps"]}


def test_two_runs_at_once_in_one_home_both_register(home):
    runs = [start_run(home, "--json") for _ in range(2)]
    outputs = [run.communicate(timeout=600)[0] for run in runs]
    for run, output in zip(runs, outputs, strict=True):
        assert run.returncode == 0, output[-3000:]
    executions = [json.loads(output[output.index("{") :]) for output in outputs]
    assert {e["PipelineExecutionStatus"] for e in executions} == {"Succeeded"}
    registered = sorted(
        s["Metadata"]["ModelPackageArn"] for e in executions for s in e["Steps"] if s["StepType"] == "RegisterModel"
    )
    assert [arn.rsplit("/", 1)[1] for arn in registered] == ["1", "2"]
    packages = json.loads(mlops(home, "registry", "list", "--json").stdout)
    assert sorted(p["ModelPackageVersion"] for p in packages) == [1, 2]
