"""The executor on small definitions whose Processing steps are real Python subprocesses."""

import json
import re
import time
from pathlib import Path

import pytest

from offline.executor.definition import load_definition
from offline.executor.engine import PipelineExecution
from offline.executor.executions import ExecutionStore
from offline.state import StateDB
from offline.store import ObjectStore
from tests.offline.executor.conftest import home_processes

BUCKET = "s3://sagemaker-us-east-1-123456789012"
WRITE = """
import json, pathlib, sys, time
out = pathlib.Path(sys.argv[1]); out.mkdir(parents=True, exist_ok=True)
start = time.time(); time.sleep(float(sys.argv[2]))
(out / "times.json").write_text(json.dumps({"start": start, "end": time.time(), "text": sys.argv[3]}))
"""


def _output(step: str, name: str = "out") -> dict:
    uri = {"Std:Join": {"On": "/", "Values": [BUCKET, {"Get": "Execution.PipelineExecutionId"}, step, name]}}
    return {
        "OutputName": name,
        "S3Output": {"S3Uri": uri, "LocalPath": "/opt/ml/processing/output", "S3UploadMode": "EndOfJob"},
    }


def processing(name, code, args=(), inputs=(), outputs=None, **extra) -> dict:
    return {
        "Name": name,
        "Type": "Processing",
        "Arguments": {
            "ProcessingResources": {
                "ClusterConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1}
            },
            "AppSpecification": {
                "ImageUri": "python:3",
                "ContainerEntrypoint": ["python3", "-c", code],
                "ContainerArguments": list(args),
            },
            "RoleArn": "arn:aws:iam::123456789012:role/r",
            "ProcessingInputs": list(inputs),
            "ProcessingOutputConfig": {"Outputs": [_output(name)] if outputs is None else outputs},
        },
        **extra,
    }


def step_input(step: str, local: str = "/opt/ml/processing/input") -> dict:
    uri = {"Get": f"Steps.{step}.ProcessingOutputConfig.Outputs['out'].S3Output.S3Uri"}
    return {
        "InputName": "in",
        "S3Input": {"S3Uri": uri, "LocalPath": local, "S3DataType": "S3Prefix", "S3InputMode": "File"},
    }


def run(home, steps, parameters=None, overrides=None):
    definition = load_definition({"Version": "2020-12-01", "Parameters": parameters or [], "Steps": steps})
    execution = PipelineExecution(definition, "TestPipeline", overrides or {}, home=home)
    return execution.run(), execution


def _times(home, record, step):
    uri = f"{BUCKET}/{record.execution_id}/{step}/out/times.json"
    return json.loads(ObjectStore.for_home(home).get_bytes(uri))


def test_independent_steps_run_at_the_same_time(tmp_path):
    steps = [processing(n, WRITE, ["/opt/ml/processing/output", "1.0", n]) for n in ("A", "B")]
    record, _ = run(tmp_path, steps)
    assert record.status == "Succeeded"
    a, b = _times(tmp_path, record, "A"), _times(tmp_path, record, "B")
    assert a["start"] < b["end"] and b["start"] < a["end"]  # their runs overlap


def test_data_and_explicit_dependencies_order_steps(tmp_path):
    copy = "import pathlib, sys; src = next(pathlib.Path(sys.argv[1]).glob('*.json')).read_text(); out = pathlib.Path(sys.argv[2]); out.mkdir(parents=True, exist_ok=True); (out / 'copy.json').write_text(src)"
    steps = [
        processing("B", copy, ["/opt/ml/processing/input", "/opt/ml/processing/output"], inputs=[step_input("A")]),
        processing("A", WRITE, ["/opt/ml/processing/output", "0", "from A"]),
        processing("C", WRITE, ["/opt/ml/processing/output", "0", "after B"], DependsOn=["B"]),
    ]
    record, execution = run(tmp_path, steps)
    assert record.status == "Succeeded"
    copied = ObjectStore.for_home(tmp_path).get_bytes(f"{BUCKET}/{record.execution_id}/B/out/copy.json")
    assert json.loads(copied)["text"] == "from A"
    recorded = {s["step_name"]: s for s in execution.executions.steps(record.execution_id)}
    assert (
        recorded["A"]["ended_at"]
        <= recorded["B"]["started_at"]
        <= recorded["B"]["ended_at"]
        <= recorded["C"]["started_at"]
    )


def test_a_failing_script_fails_its_step_with_the_scripts_error(tmp_path):
    steps = [
        processing("Bad", "import sys; print('reading input...'); raise ValueError('column mean radius is missing')"),
        processing("After", WRITE, ["/opt/ml/processing/output", "0", "x"], inputs=[step_input("Bad")]),
    ]
    record, execution = run(tmp_path, steps)
    assert record.status == "Failed" and record.failure_reason == "Step failure: One or multiple steps failed."
    [bad] = execution.executions.steps(record.execution_id)  # "After" never started
    assert bad["status"] == "Failed"
    assert "ValueError: column mean radius is missing" in bad["failure_reason"]
    assert bad["failure_reason"].startswith("AlgorithmError:")
    log = Path(bad["log_path"]).read_text()
    assert "reading input..." in log and "Traceback" in log


def test_an_input_matching_no_object_fails_clearly(tmp_path):
    missing = {
        "InputName": "data",
        "S3Input": {
            "S3Uri": f"{BUCKET}/nothing-here/",
            "LocalPath": "/opt/ml/processing/input",
            "S3DataType": "S3Prefix",
        },
    }
    record, execution = run(tmp_path, [processing("P", "pass", inputs=[missing])])
    [step] = execution.executions.steps(record.execution_id)
    assert "No S3 objects found under S3 URL" in step["failure_reason"] and "nothing-here" in step["failure_reason"]


REPORT = "import json, pathlib, sys; out = pathlib.Path(sys.argv[1]); out.mkdir(parents=True, exist_ok=True); (out / 'report.json').write_text(json.dumps({'metrics': {'score': 0.7}}))"


def _gated(threshold_default=0.5):
    score = {"Std:JsonGet": {"PropertyFile": {"Get": "Steps.Eval.PropertyFiles.Report"}, "Path": "metrics.score"}}
    parameters = [{"Name": "Threshold", "Type": "Float", "DefaultValue": threshold_default}]
    steps = [
        processing(
            "Eval",
            REPORT,
            ["/opt/ml/processing/output"],
            PropertyFiles=[{"PropertyFileName": "Report", "OutputName": "out", "FilePath": "report.json"}],
        ),
        {
            "Name": "Gate",
            "Type": "Condition",
            "Arguments": {
                "Conditions": [
                    {"Type": "GreaterThanOrEqualTo", "LeftValue": score, "RightValue": {"Get": "Parameters.Threshold"}}
                ],
                "IfSteps": [processing("Accept", WRITE, ["/opt/ml/processing/output", "0", "ok"])],
                "ElseSteps": [
                    {
                        "Name": "TooLow",
                        "Type": "Fail",
                        "Arguments": {
                            "ErrorMessage": {
                                "Std:Join": {
                                    "On": " ",
                                    "Values": ["score", score, "is below", {"Get": "Parameters.Threshold"}],
                                }
                            }
                        },
                    }
                ],
            },
        },
    ]
    return steps, parameters


def test_condition_on_a_property_file_takes_the_if_branch(tmp_path):
    steps, parameters = _gated()
    record, execution = run(tmp_path, steps, parameters)
    assert record.status == "Succeeded"
    recorded = {s["step_name"]: s for s in execution.executions.steps(record.execution_id)}
    assert set(recorded) == {"Eval", "Gate", "Accept"}  # the else branch is not recorded
    assert recorded["Gate"]["metadata"] == {"Outcome": True}


def test_a_fail_step_fails_the_execution_with_its_message(tmp_path):
    steps, parameters = _gated()
    record, execution = run(tmp_path, steps, parameters, overrides={"Threshold": "0.9"})
    assert record.status == "Failed"
    assert record.failure_reason == "score 0.7 is below 0.9"
    recorded = {s["step_name"]: s["status"] for s in execution.executions.steps(record.execution_id)}
    assert recorded == {"Eval": "Succeeded", "Gate": "Succeeded", "TooLow": "Failed"}


def test_executions_are_recorded_durably(tmp_path):
    steps, parameters = _gated()
    record, _ = run(tmp_path, steps, parameters)
    store = ExecutionStore(StateDB.for_home(tmp_path))  # a fresh connection, as another process would
    assert store.get(record.execution_id[:6]).status == "Succeeded"
    assert store.get(record.execution_arn).parameters == {"Threshold": 0.5}
    assert [r.execution_id for r in store.list()] == [record.execution_id]
    with pytest.raises(LookupError, match="no pipeline execution"):
        store.get("zzzz")


def test_what_a_job_leaves_running_ends_with_it_as_with_a_container(tmp_path):
    leaves_a_helper = ["-c", "import subprocess; subprocess.Popen(['sleep', '60']); print('main part done')"]
    started = time.monotonic()
    record, execution = run(tmp_path, [_entrypoint("Leaves", leaves_a_helper)])
    assert record.status == "Succeeded"
    assert time.monotonic() - started < 30  # the helper holds the job's output open; nobody waits for it
    assert home_processes(tmp_path) == []


def test_the_stopping_condition_ends_a_job_that_keeps_running(tmp_path):
    endless = ["-c", "import time; print('working', flush=True); time.sleep(60)"]
    step = _entrypoint("Endless", endless)
    step["Arguments"]["StoppingCondition"] = {"MaxRuntimeInSeconds": 1}
    started = time.monotonic()
    record, execution = run(tmp_path, [step])
    assert record.status == "Failed" and time.monotonic() - started < 30
    [recorded] = execution.executions.steps(record.execution_id)
    assert recorded["failure_reason"] == "the job ran longer than its 1 s stopping condition"
    assert home_processes(tmp_path) == []


def _entrypoint(name: str, python_args: list[str]) -> dict:
    step = processing(name, "", [])
    step["Arguments"]["AppSpecification"]["ContainerEntrypoint"] = ["python3", *python_args]
    return step


def test_the_job_log_ends_with_its_exit_code_and_cpu_time(tmp_path):
    busy = ["-c", "import time; end = time.process_time() + 0.3\nwhile time.process_time() < end: pass"]
    record, execution = run(tmp_path, [_entrypoint("Busy", busy)])
    [step] = execution.executions.steps(record.execution_id)
    last = Path(step["log_path"]).read_text().splitlines()[-1]
    match = re.fullmatch(r"\[job exited with code 0 after ([\d.]+) s; ([\d.]+) s CPU\]", last)
    assert match, last
    wall, cpu = float(match[1]), float(match[2])
    assert 0.3 <= cpu < 5 and wall >= 0.3  # it burned 0.3 s of CPU
