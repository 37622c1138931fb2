"""processing/analyze.py: Model Monitor's container contract (environment, options, message file)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from processing import analyze

pytestmark = pytest.mark.image
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def dataset(tmp_path):
    path = tmp_path / "in" / "baseline.csv"
    path.parent.mkdir()
    path.write_text("0.91,1,5.5\n0.12,0,3.25\n0.47,0,4.0\n")
    return path


def test_options_win_over_the_environment(monkeypatch):
    monkeypatch.setenv("output_path", "/from/env")
    monkeypatch.setenv("dataset_format", '{"csv": {"header": false}}')
    settings = analyze.parse_settings(["--output-path", "/from/option"])
    assert settings["output_path"] == "/from/option"
    assert settings["dataset_format"] == '{"csv": {"header": false}}'
    assert settings["dataset_source"] == "/opt/ml/processing/input/baseline_dataset_input"
    assert settings["message_file"] == "/opt/ml/output/message"


def test_data_quality_baseline_from_the_environment(dataset, tmp_path, monkeypatch):
    monkeypatch.setenv("dataset_source", str(dataset.parent))
    monkeypatch.setenv("dataset_format", '{"csv": {"header": false, "output_columns_position": "START"}}')
    monkeypatch.setenv("output_path", str(tmp_path / "out"))
    assert analyze.main(["--message-file", str(tmp_path / "message")]) == 0
    stats = json.loads((tmp_path / "out" / "statistics.json").read_text())
    assert [f["name"] for f in stats["features"]] == ["_c0", "_c1", "_c2"]
    assert (tmp_path / "out" / "constraints.json").is_file()
    assert (tmp_path / "message").read_text() == "Completed: Job completed successfully with no violations."


def test_model_quality_baseline(dataset, tmp_path):
    args = ["--dataset-source", str(dataset), "--dataset-format", '{"csv": {"header": false}}']
    args += ["--output-path", str(tmp_path / "out"), "--analysis-type", "MODEL_QUALITY"]
    args += ["--probability-attribute", "_c0", "--ground-truth-attribute", "_c1"]
    args += ["--probability-threshold-attribute", "0.5", "--message-file", str(tmp_path / "message")]
    assert analyze.main(args) == 0
    stats = json.loads((tmp_path / "out" / "statistics.json").read_text())
    assert stats["binary_classification_metrics"]["accuracy"]["value"] == 1.0


def test_model_quality_check_of_a_dataset_as_a_quality_check_step(dataset, tmp_path):
    common = ["--dataset-source", str(dataset), "--dataset-format", '{"csv": {"header": false}}']
    common += ["--analysis-type", "MODEL_QUALITY", "--probability-attribute", "_c0", "--ground-truth-attribute", "_c1"]
    assert analyze.main([*common, "--output-path", str(tmp_path / "base"), "--message-file", str(tmp_path / "m")]) == 0
    constraints = json.loads((tmp_path / "base" / "constraints.json").read_text())
    constraints["binary_classification_constraints"]["accuracy"]["threshold"] = 1.5  # unreachable: a violation
    (tmp_path / "c.json").write_text(json.dumps(constraints))
    args = [*common, "--output-path", str(tmp_path / "out"), "--baseline-constraints", str(tmp_path / "c.json")]
    assert analyze.main([*args, "--message-file", str(tmp_path / "m")]) == 0
    violations = json.loads((tmp_path / "out" / "constraint_violations.json").read_text())["violations"]
    assert [v["metric_name"] for v in violations] == ["accuracy"]
    assert (tmp_path / "m").read_text() == "CompletedWithViolations: Job completed successfully with 1 violations."
    assert {p.name for p in (tmp_path / "out").iterdir()} == {
        "statistics.json",
        "constraints.json",
        "constraint_violations.json",
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--dataset-format", '{"avro": {}}'], "Failed: unknown dataset format 'avro'"),
        (["--analysis-type", "BIAS"], "Failed: analysis_type 'BIAS' is not supported"),
        (["--dataset-source", "/nonexistent"], "Failed: dataset not found: /nonexistent"),
        (["--analysis-type", "MODEL_QUALITY"], "Failed: model quality needs ground_truth_attribute"),
        (["--analysis-type", "MODEL_QUALITY", "--ground-truth-attribute", "_c1", "--probability-attribute", "_c0",
          "--probability-threshold-attribute", "half"], "Failed: probability threshold must be within [0, 1]"),
    ],
)  # fmt: skip
def test_bad_input_exits_2_with_a_failed_message(dataset, tmp_path, args, message):
    base = ["--dataset-source", str(dataset), "--dataset-format", '{"csv": {"header": false}}']
    base += ["--output-path", str(tmp_path / "out"), "--message-file", str(tmp_path / "message")]
    assert analyze.main(base + args) == 2
    assert (tmp_path / "message").read_text().startswith(message)
    assert not (tmp_path / "out").exists()


def test_runs_as_a_script_from_anywhere(dataset, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(
        dataset_source=str(dataset), output_path=str(tmp_path / "out"), dataset_format='{"csv": {"header": false}}'
    )
    script = REPO / "processing" / "analyze.py"
    done = subprocess.run(
        [sys.executable, str(script), "--message-file", str(tmp_path / "m")], cwd=tmp_path, env=env, capture_output=True
    )
    assert done.returncode == 0, done.stderr.decode()
    assert (tmp_path / "out" / "statistics.json").is_file()


def test_check_mode_against_a_baseline_with_captured_data(dataset, tmp_path):
    baseline = tmp_path / "baseline"
    args = ["--dataset-source", str(dataset), "--dataset-format", '{"csv": {"header": false}}']
    assert analyze.main([*args, "--output-path", str(baseline), "--message-file", str(tmp_path / "m0")]) == 0
    folder = tmp_path / "endpoint-input" / "ep" / "AllTraffic" / "2024" / "02" / "20" / "04"
    folder.mkdir(parents=True)
    record = {
        "captureData": {
            "endpointInput": {
                "observedContentType": "text/csv",
                "mode": "INPUT",
                "data": "zero,9.5",
                "encoding": "CSV",
            },
            "endpointOutput": {"observedContentType": "text/csv", "mode": "OUTPUT", "data": "0.5", "encoding": "CSV"},
        },
        "eventMetadata": {"eventId": "e", "inferenceTime": "2024-02-20T04:10:00Z"},
        "eventVersion": "0",
    }
    (folder / "10-00-000-a.jsonl").write_text(json.dumps(record) + "\n")
    args = ["--dataset-source", str(tmp_path / "endpoint-input")]
    args += ["--dataset-format", '{"sagemakerCaptureJson": {"captureIndexNames": ["endpointInput", "endpointOutput"]}}']
    args += ["--output-path", str(tmp_path / "report"), "--baseline-constraints", str(baseline / "constraints.json")]
    args += ["--baseline-statistics", str(baseline / "statistics.json"), "--message-file", str(tmp_path / "message")]
    args += ["--start-time", "2024-02-20T04:00:00Z", "--end-time", "2024-02-20T05:00:00Z"]
    args += ["--publish-cloudwatch-metrics", "Enabled", "--metrics-path", str(tmp_path / "metrics")]
    args += ["--sagemaker-endpoint-name", "ep", "--sagemaker-monitoring-schedule-name", "hourly"]
    assert analyze.main(args) == 0
    violations = json.loads((tmp_path / "report" / "constraint_violations.json").read_text())["violations"]
    assert violations and (tmp_path / "message").read_text() == (
        f"CompletedWithViolations: Job completed successfully with {len(violations)} violations."
    )
    metrics = [
        json.loads(line) for line in (tmp_path / "metrics" / "cloudwatch_metrics.jsonl").read_text().splitlines()
    ]
    names = {m["MetricName"] for m in metrics}
    assert {"feature_non_null__c0", "feature_baseline_drift__c2"} <= names
    assert metrics[0]["Dimensions"] == [
        {"Name": "Endpoint", "Value": "ep"},
        {"Name": "MonitoringSchedule", "Value": "hourly"},
    ]
    assert metrics[0]["Timestamp"] == "2024-02-20T05:00:00Z"
