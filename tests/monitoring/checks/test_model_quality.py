"""Model-quality checks: merge by inferenceId or eventId, metrics against scikit-learn, violations."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn import metrics as sk

from processing.monitoring.checks.api import run_model_quality_check
from processing.monitoring.checks.model_quality import check
from processing.monitoring.model_quality import ModelQualityAttributes

from ..conftest import CSV, capture_line, write_capture_file

pytestmark = pytest.mark.image
START, END = "2024-03-01T10:00:00Z", "2024-03-01T11:00:00Z"


def _ground_truth(folder, pairs, encoding="CSV"):
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    for key, labels in pairs:
        data = (
            "\n".join(map(str, labels))
            if encoding == "CSV"
            else json.dumps({"instances": [{"label": x} for x in labels]})
        )
        record = {
            "groundTruthData": {"data": data, "encoding": encoding},
            "eventMetadata": {"eventId": key},
            "eventVersion": "0",
        }
        lines.append(json.dumps(record))
    (folder / "1015.jsonl").write_text("\n".join(lines) + "\nnot json\n")


@pytest.fixture
def constraints(tmp_path):
    path = tmp_path / "constraints.json"
    rules = {
        "auc": {"threshold": 0.9, "comparison_operator": "LessThanThreshold"},
        "accuracy": {"threshold": 0.5, "comparison_operator": "LessThanThreshold"},
        "false_positive_rate": {"threshold": 0.9, "comparison_operator": "GreaterThanThreshold"},
    }
    path.write_text(json.dumps({"version": 0.0, "binary_classification_constraints": rules}))
    return path


def _captured_check(tmp_path, constraints, probability_attribute):
    """The check of tmp_path/capture merged with tmp_path/truth, all hours."""
    return run_model_quality_check(
        baseline_constraints=constraints,
        output_dir=tmp_path / "out",
        attributes=ModelQualityAttributes("label", probability_attribute=probability_attribute),
        capture_uri=str(tmp_path / "capture"),
        ground_truth_uri=str(tmp_path / "truth"),
    )


def _scored(n=120, seed=4):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    p = np.clip(0.3 * y + 0.7 * rng.random(n), 0, 1).round(4)
    return y, p


@pytest.mark.parametrize("use_inference_id", [True, False])
def test_merge_by_inference_id_or_event_id(tmp_path, constraints, use_inference_id):
    y, p = _scored()
    lines, truth = [], []
    for i in range(0, len(y), 2):  # two rows per request
        event, inference = f"event-{i}", (f"inf-{i}" if use_inference_id else None)
        lines.append(capture_line("2024-03-01T10:15:00Z", "1,2\n3,4", f"{p[i]},1\n{p[i + 1]},0", event, inference))
        truth.append((inference or event, [int(y[i]), int(y[i + 1])]))
    truth.append(("event-0" if use_inference_id else "inf-0", [1, 1]))  # the other key must not match
    write_capture_file(tmp_path / "capture", "2024/03/01/10", lines)
    _ground_truth(
        tmp_path / "truth" / "2024" / "03" / "01" / "10", truth, encoding="JSON" if use_inference_id else "CSV"
    )
    result = run_model_quality_check(
        baseline_constraints=constraints,
        output_dir=tmp_path / "out",
        attributes=ModelQualityAttributes("label", probability_attribute="0", probability_threshold=0.5),
        capture_uri=str(tmp_path / "capture"),
        ground_truth_uri=str(tmp_path / "truth"),
        start=_t(START),
        end=_t(END),
    )
    assert result.item_count == len(y)
    stats = json.loads((tmp_path / "out" / "statistics.json").read_text())["binary_classification_metrics"]
    assert stats["auc"]["value"] == pytest.approx(sk.roc_auc_score(y, p))
    assert stats["accuracy"]["value"] == pytest.approx(sk.accuracy_score(y, p >= 0.5))
    assert [v.metric_name for v in result.violations] == ["auc"]
    written = json.loads((tmp_path / "out" / "constraint_violations.json").read_text())["violations"][0]
    assert list(written) == ["constraint_check_type", "description", "metric_name"]
    assert written["description"].startswith("Metric auc with ") and written["description"].endswith(
        " was LessThanThreshold 0.9"
    )
    assert any("skipped 1 ground-truth record" in note for note in result.notes)


def test_deeply_nested_lines_are_skipped_not_fatal(tmp_path, constraints):
    y, p = _scored(n=40)
    lines = [capture_line("2024-03-01T10:15:00Z", "1,2", str(p[i]), f"e{i}") for i in range(len(y))]
    write_capture_file(tmp_path / "capture", "2024/03/01/10", [*lines, "[" * 100_000])
    _ground_truth(tmp_path / "truth", [(f"e{i}", [int(y[i])]) for i in range(len(y))])
    deep_data = json.dumps(
        {"groundTruthData": {"data": "[" * 100_000, "encoding": "JSON"}, "eventMetadata": {"eventId": "e1"}}
    )
    with open(tmp_path / "truth" / "1015.jsonl", "a") as f:
        f.write("[" * 100_000 + "\n" + deep_data + "\n")
    result = _captured_check(tmp_path, constraints, "0")
    assert result.item_count == len(y)
    assert "skipped 1 capture line(s) that could not be used (1 JSON nested too deeply)" in result.notes
    assert "skipped 3 ground-truth record(s) that could not be used" in result.notes  # 2 deep, 1 "not json"


def test_json_predictions_by_key(tmp_path, constraints):
    response = '{"predictions": [{"score": 0.9, "predicted_label": 1}, {"score": 0.2, "predicted_label": 0}]}'
    lines = [capture_line("2024-03-01T10:15:00Z", "[[1, 2], [3, 4]]", response, "e1", encoding="JSON")]
    write_capture_file(tmp_path / "capture", "2024/03/01/10", lines)
    _ground_truth(tmp_path / "truth", [("e1", [1, 0])])
    result = _captured_check(tmp_path, constraints, "score")
    assert result.item_count == 2 and result.violations == []


def test_a_scored_dataset_and_no_violation(tmp_path, constraints):
    y, _ = _scored()
    path = tmp_path / "scored.csv"
    path.write_text("p,y\n" + "".join(f"{0.9 if t else 0.1},{t}\n" for t in y))
    result = run_model_quality_check(
        baseline_constraints=constraints,
        output_dir=tmp_path / "out",
        attributes=ModelQualityAttributes("y", probability_attribute="p"),
        dataset=path,
        fmt=CSV,
    )
    assert result.status == "Completed" and result.violations == []
    window = json.loads((tmp_path / "out" / "constraints.json").read_text())  # the calculated baseline
    assert window["binary_classification_constraints"]["auc"]["threshold"] == 1.0


def test_operators():
    statistics = {"binary_classification_metrics": {"recall": {"value": 0.5}, "false_negative_rate": {"value": 0.5}}}
    rules = {
        "recall": {"threshold": 0.5, "comparison_operator": "LessThanOrEqualToThreshold"},
        "false_negative_rate": {"threshold": 0.5, "comparison_operator": "GreaterThanThreshold"},
    }
    assert [v.metric_name for v in check(statistics, {"binary_classification_constraints": rules})] == ["recall"]


def test_no_ground_truth_in_the_window_is_no_data(tmp_path, constraints):
    write_capture_file(tmp_path / "capture", "2024/03/01/10", [capture_line("2024-03-01T10:15:00Z", "1", "0.5", "e")])
    (tmp_path / "truth").mkdir()
    result = _captured_check(tmp_path, constraints, "0")
    assert result.status == "NoData" and not (tmp_path / "out").exists()


def _t(text):
    from processing.monitoring.readers.capture import parse_time

    return parse_time(text)
