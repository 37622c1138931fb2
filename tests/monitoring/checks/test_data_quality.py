"""Each data-quality check, triggered and not triggered, through run_data_quality_check."""

from __future__ import annotations

import json

import numpy as np
import pytest

from processing.monitoring.api import suggest_baseline
from processing.monitoring.checks.api import run_data_quality_check
from processing.monitoring.errors import MonitorInputError

from ..conftest import CSV, CSV_NO_HEADER

pytestmark = pytest.mark.image


def _write(path, header, rows):
    path.write_text(",".join(header) + "\n" + "".join(",".join(map(str, r)) + "\n" for r in rows))
    return path


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    rng = np.random.default_rng(0)
    folder = tmp_path_factory.mktemp("baseline")
    rows = [
        (round(float(rng.normal(10, 2)), 3), int(rng.integers(0, 5)), ["red", "green", "blue"][i % 3])
        for i in range(1000)
    ]
    _write(folder / "base.csv", ["x", "n", "color"], rows)
    suggest_baseline(folder / "base.csv", CSV, folder / "out")
    return folder / "out", rows


def _check(baseline_dir, window, constraints=None, fmt=CSV):
    return run_data_quality_check(
        baseline_constraints=constraints or baseline_dir / "constraints.json",
        baseline_statistics=baseline_dir / "statistics.json",
        output_dir=window.parent / "report",
        dataset=window,
        fmt=fmt,
    )


def _kinds(result):
    return sorted((v.constraint_check_type, v.feature_name) for v in result.violations)


def test_same_distribution_passes(baseline, tmp_path):
    folder, rows = baseline
    result = _check(folder, _write(tmp_path / "w.csv", ["x", "n", "color"], rows[:500]))
    assert result.status == "Completed" and result.violations == []
    assert result.message == "Completed: Job completed successfully with no violations."
    written = json.loads((tmp_path / "report" / "constraint_violations.json").read_text())
    assert written == {"violations": []}
    assert json.loads((tmp_path / "report" / "statistics.json").read_text())["dataset"]["item_count"] == 500


def test_data_type_check(baseline, tmp_path):
    folder, rows = baseline
    window = [(x, n + 0.5 if i == 0 else n, c) for i, (x, n, c) in enumerate(rows[:200])]
    result = _check(folder, _write(tmp_path / "w.csv", ["x", "n", "color"], window))
    assert _kinds(result) == [("data_type_check", "n")]
    assert result.violations[0].description == (
        "Data type match requirement is not met. Expected data type: Integral, Expected match: 100.0%. "
        "Observed: Only 99.5% of data is Integral."
    )
    # whole numbers in a Fractional column are not a type violation (a whole number is a valid double)
    whole = [(round(x), n, c) for x, n, c in rows[:200]]
    assert ("data_type_check", "x") not in _kinds(
        _check(folder, _write(tmp_path / "w2.csv", ["x", "n", "color"], whole))
    )


def test_completeness_check(baseline, tmp_path):
    folder, rows = baseline
    window = [(x if i % 10 else "", n, c) for i, (x, n, c) in enumerate(rows[:300])]
    result = _check(folder, _write(tmp_path / "w.csv", ["x", "n", "color"], window))
    assert ("completeness_check", "x") in _kinds(result)
    assert "Data completeness requirement is not met. Expected: 100.0%. Observed: Only 90.0%." in [
        v.description for v in result.violations if v.constraint_check_type == "completeness_check"
    ]


def test_baseline_drift_check_numeric(baseline, tmp_path):
    folder, rows = baseline
    shifted = [(round(x + 3, 3), n, c) for x, n, c in rows[:500]]
    result = _check(folder, _write(tmp_path / "w.csv", ["x", "n", "color"], shifted))
    assert _kinds(result) == [("baseline_drift_check", "x")]
    description = result.violations[0].description
    assert description.startswith("Baseline drift distance: ") and description.endswith(" exceeds threshold: 0.1")
    drift = next(f for f in result.features if f.name == "x")
    assert result.metrics["feature_baseline_drift_x"] == drift.drift > 0.3


def test_robust_forgives_small_samples_where_simple_does_not(baseline, tmp_path):
    folder, rows = baseline
    small = [(round(x + 0.5, 3), n, c) for x, n, c in rows[:30]]
    window = _write(tmp_path / "w.csv", ["x", "n", "color"], small)
    constraints = json.loads((folder / "constraints.json").read_text())
    assert constraints["monitoring_config"]["distribution_constraints"]["comparison_method"] == "Robust"
    assert ("baseline_drift_check", "x") not in _kinds(_check(folder, window))
    constraints["monitoring_config"]["distribution_constraints"]["comparison_method"] = "Simple"
    (tmp_path / "simple.json").write_text(json.dumps(constraints))
    assert ("baseline_drift_check", "x") in _kinds(_check(folder, window, tmp_path / "simple.json"))


def test_categorical_values_and_drift(baseline, tmp_path):
    folder, rows = baseline
    window = [(x, n, "purple" if i < 100 else c) for i, (x, n, c) in enumerate(rows[:300])]
    result = _check(folder, _write(tmp_path / "w.csv", ["x", "n", "color"], window))
    assert ("categorical_values_check", "color") in _kinds(result)
    assert ("baseline_drift_check", "color") in _kinds(result)
    constraints = json.loads((folder / "constraints.json").read_text())
    constraints["monitoring_config"]["distribution_constraints"]["categorical_drift_method"] = "ChiSquared"
    (tmp_path / "chi.json").write_text(json.dumps(constraints))
    # Deequ's chi-squared compares the known categories only: a new value alone is no drift there
    assert ("baseline_drift_check", "color") not in _kinds(_check(folder, tmp_path / "w.csv", tmp_path / "chi.json"))
    mostly_red = [(x, n, "red" if i % 10 else c) for i, (x, n, c) in enumerate(rows[:300])]
    chi = _check(folder, _write(tmp_path / "r.csv", ["x", "n", "color"], mostly_red), tmp_path / "chi.json")
    assert _kinds(chi) == [("baseline_drift_check", "color")]  # a p-value far below 0.1


def test_missing_and_extra_columns(baseline, tmp_path):
    folder, rows = baseline
    missing = _check(folder, _write(tmp_path / "m.csv", ["x", "n"], [(x, n) for x, n, _ in rows[:100]]))
    assert _kinds(missing) == [("missing_column_check", "Missing columns")]
    extra = _check(folder, _write(tmp_path / "e.csv", ["x", "n", "color", "a", "b"], [(*r, 1, 2) for r in rows[:100]]))
    assert _kinds(extra) == [("extra_column_check", "Extra columns")]  # one violation for both columns
    assert extra.violations[0].description == (
        "There are extra columns in current dataset. Number of columns in current dataset: 5, "
        "Number of columns in baseline constraints: 3"
    )
    renamed = _check(folder, _write(tmp_path / "r.csv", ["x", "n", "colour"], rows[:100]))
    assert _kinds(renamed) == [("extra_column_check", "Extra columns"), ("missing_column_check", "Missing columns")]


def test_a_header_less_window_is_read_with_the_baseline_names(baseline, tmp_path):
    folder, rows = baseline
    window = tmp_path / "w.csv"
    window.write_text("".join(f"{x},{n},{c}\n" for x, n, c in rows[:200]))
    result = _check(folder, window, fmt=CSV_NO_HEADER)
    assert result.violations == [] and [f.name for f in result.features] == ["x", "n", "color"]
    report = tmp_path / "report"
    assert [f["name"] for f in json.loads((report / "statistics.json").read_text())["features"]] == ["x", "n", "color"]
    assert [f["name"] for f in json.loads((report / "constraints.json").read_text())["features"]] == ["x", "n", "color"]
    window.write_text("".join(f"{x},{n}\n" for x, n, _ in rows[:200]))  # a column short
    assert _kinds(_check(folder, window, fmt=CSV_NO_HEADER)) == [("missing_column_check", "Missing columns")]
    window.write_text("".join(f"{x},{n},{c},{c}\n" for x, n, c in rows[:200]))  # one too many
    result = _check(folder, window, fmt=CSV_NO_HEADER)
    assert _kinds(result) == [("extra_column_check", "Extra columns")]
    assert [f["name"] for f in json.loads((report / "statistics.json").read_text())["features"]][-1] == "_c3"


def test_a_string_feature_receiving_numbers(baseline, tmp_path):
    folder, rows = baseline
    window = [(x, n, i if i % 4 else c) for i, (x, n, c) in enumerate(rows[:200])]
    result = _check(folder, _write(tmp_path / "w.csv", ["x", "n", "color"], window))
    assert ("data_type_check", "color") in _kinds(result)
    assert (
        "Data type match requirement is not met. Expected data type: String, Expected match: 100.0%. "
        "Observed: Only 25.0% of data is String."
    ) in [v.description for v in result.violations]


def test_no_drift_check_when_the_window_has_another_type(baseline, tmp_path):
    """AWS's DistanceGenerator: "Inferred data type don't match for column …" and no distance."""
    folder, rows = baseline
    window = [(x, n + 10.5, c) for x, n, c in rows[:200]]  # n: Integral in the baseline, far away and Fractional now
    kinds = _kinds(_check(folder, _write(tmp_path / "w.csv", ["x", "n", "color"], window)))
    assert ("data_type_check", "n") in kinds and ("baseline_drift_check", "n") not in kinds


def test_overrides_and_disabled_evaluation(baseline, tmp_path):
    folder, rows = baseline
    shifted = _write(tmp_path / "w.csv", ["x", "n", "color"], [(round(x + 3, 3), n, c) for x, n, c in rows[:500]])
    constraints = json.loads((folder / "constraints.json").read_text())
    constraints["features"][0]["monitoringConfigOverrides"] = {"comparison_threshold": 0.9}
    (tmp_path / "o.json").write_text(json.dumps(constraints))
    assert _check(folder, shifted, tmp_path / "o.json").violations == []
    constraints["features"][0]["monitoringConfigOverrides"] = {}
    constraints["features"][0]["monitoring_config_overrides"] = {"evaluate_constraints": "Disabled"}
    (tmp_path / "d.json").write_text(json.dumps(constraints))
    assert _check(folder, shifted, tmp_path / "d.json").violations == []
    constraints["monitoring_config"]["evaluate_constraints"] = "Disabled"
    missing = _write(tmp_path / "m.csv", ["x"], [(x,) for x, _, _ in rows[:10]])
    (tmp_path / "g.json").write_text(json.dumps(constraints))
    assert _check(folder, missing, tmp_path / "g.json").violations == []


def test_an_aws_made_baseline_checks_our_window(aai540, tmp_path):
    text = (aai540 / "train_data.csv").read_text().splitlines()
    header = text[0].split(",")
    price, state = header.index("price"), header.index("state")
    rows = []
    for i, line in enumerate(text[1:3001]):
        cells = line.split(",")
        if len(cells) != len(header):
            continue  # lines with quoted commas: keep the sample simple
        cells[price] = repr(float(cells[price]) * 3)
        if i < 30:
            cells[state] = "Atlantis"
        rows.append(cells)
    window = _write(tmp_path / "w.csv", header, rows)
    result = run_data_quality_check(
        baseline_constraints=aai540 / "constraints.json",
        baseline_statistics=aai540 / "statistics.json",
        output_dir=tmp_path / "report",
        dataset=window,
        fmt=CSV,
    )
    kinds = _kinds(result)
    assert ("baseline_drift_check", "price") in kinds
    assert ("categorical_values_check", "state") in kinds
    assert ("baseline_drift_check", "bedrooms") not in kinds


def test_no_data_in_the_window(baseline, tmp_path):
    folder, _ = baseline
    (tmp_path / "no-capture").mkdir()
    result = run_data_quality_check(
        baseline_constraints=folder / "constraints.json",
        output_dir=tmp_path / "report",
        capture_uri=str(tmp_path / "no-capture"),
    )
    assert result.status == "NoData" and result.item_count == 0
    assert result.message.startswith("NoData:")
    assert result.notes == ["the capture location holds no capture files (*.jsonl) at all, in any hour"]
    assert not (tmp_path / "report").exists()


def test_a_capture_location_that_does_not_exist_is_bad_input(baseline, tmp_path):
    folder, _ = baseline
    with pytest.raises(MonitorInputError, match="no-capture does not exist: it holds no captured data at all"):
        run_data_quality_check(
            baseline_constraints=folder / "constraints.json",
            output_dir=tmp_path / "report",
            capture_uri=str(tmp_path / "no-capture"),
        )
    assert not (tmp_path / "report").exists()
