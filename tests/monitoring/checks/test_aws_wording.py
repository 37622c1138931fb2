"""Violations named, counted and worded as Model Monitor's, against real AWS outputs.

The expected texts are read from ../shared/reference (monitoring executions' violation tables and
files, the intro notebook's capture and baseline); every test skips when that folder is absent.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from processing.monitoring.api import suggest_baseline
from processing.monitoring.checks.api import run_data_quality_check

from ..conftest import CSV, CSV_NO_HEADER, REFERENCE

pytestmark = pytest.mark.image
MORE = REFERENCE / "model-monitor-more"
CHURN = MORE / "churn-intro"
WORDING = MORE / "violations-wording"


def _need(*paths: Path) -> None:
    if not all(p.exists() for p in paths):
        pytest.skip("../shared/reference/model-monitor-more or notebook-outputs is not present")


def _aws_text(name: str) -> str:
    """A reference file's text with runs of spaces joined (pandas pads its table cells)."""
    path = WORDING / name if (WORDING / name).exists() else REFERENCE / "notebook-outputs" / name
    return " ".join(path.read_text().split())


@pytest.fixture(scope="module")
def churn(tmp_path_factory) -> Path:
    """Our baseline of the intro notebook's training data (its header names the 70 columns)."""
    _need(CHURN / "training-dataset-with-header.csv")
    out = tmp_path_factory.mktemp("churn")
    suggest_baseline(CHURN / "training-dataset-with-header.csv", CSV, out / "baseline")
    return out


def _rows(count: int) -> list[list[str]]:
    with open(CHURN / "training-dataset-with-header.csv", newline="") as f:
        return list(csv.reader(f))[1 : count + 1]


def _write(path: Path, rows) -> Path:
    with open(path, "w", newline="") as f:
        csv.writer(f).writerows(rows)
    return path


@pytest.mark.parametrize("baseline", ["ours", "aws"])
def test_the_intro_notebooks_capture_against_its_own_baseline(churn, tmp_path, baseline):
    capture = REFERENCE / "notebook-outputs" / "mm_intro_capture_csv_xgboost_churn.jsonl"
    _need(capture, CHURN / "aws_constraints.from_log_2023-02-13.json")
    hour = tmp_path / "capture" / "AllTraffic" / "2022" / "04" / "18" / "00"
    hour.mkdir(parents=True)
    shutil.copy(capture, hour / "21-48-000-capture.jsonl")
    if baseline == "aws":  # AWS's own files; its statistics: the first 33 features whose sketch the log kept
        constraints = CHURN / "aws_constraints.from_log_2023-02-13.json"
        doc = json.loads((CHURN / "aws_statistics.from_log_2023-02-13.first33features.json").read_text())
        doc["features"] = [f for f in doc["features"] if "__TRUNCATED__" not in json.dumps(f)]
        statistics = tmp_path / "statistics.json"
        statistics.write_text(json.dumps(doc))
    else:
        constraints, statistics = churn / "baseline" / "constraints.json", churn / "baseline" / "statistics.json"
    result = run_data_quality_check(
        baseline_constraints=constraints,
        baseline_statistics=statistics,
        output_dir=tmp_path / "report",
        capture_uri=str(tmp_path / "capture"),
    )
    assert result.item_count == 3
    names = {v.feature_name for v in result.violations}
    assert not [n for n in names if n.startswith("_c")]
    assert not [v for v in result.violations if "column" in v.constraint_check_type]
    churn_type = [v for v in result.violations if v.feature_name == "Churn"]
    assert [v.constraint_check_type for v in churn_type] == ["data_type_check"]  # no drift: the types differ
    assert churn_type[0].description in _aws_text("mm_intro_violations_dataframe.txt")
    assert churn_type[0].description.endswith("Observed: Only 0.0% of data is Integral.")
    window = json.loads((tmp_path / "report" / "statistics.json").read_text())
    header = (CHURN / "training-dataset-with-header.csv").read_text().split("\n", 1)[0].split(",")
    assert [f["name"] for f in window["features"]] == header
    window_constraints = json.loads((tmp_path / "report" / "constraints.json").read_text())
    assert [f["name"] for f in window_constraints["features"]] == header


def test_missing_columns_are_one_violation_worded_as_aws(churn, tmp_path):
    _need(WORDING / "galdleduc_missing_columns_df.txt")
    window = _write(tmp_path / "w.csv", (row[:-1] for row in _rows(200)))
    result = run_data_quality_check(
        baseline_constraints=churn / "baseline" / "constraints.json",
        baseline_statistics=churn / "baseline" / "statistics.json",
        output_dir=tmp_path / "report",
        dataset=window,
        fmt=CSV_NO_HEADER,
    )
    columns = [v for v in result.violations if "column" in v.constraint_check_type]
    assert [(v.feature_name, v.constraint_check_type) for v in columns] == [("Missing columns", "missing_column_check")]
    assert columns[0].description == (
        "There are missing columns in current dataset. Number of columns in current dataset: 69, "
        "Number of columns in baseline constraints: 70"
    )
    for name in ("galdleduc_missing_columns_df.txt", "immersionday_missing_columns_df.txt"):
        assert columns[0].description in _aws_text(name)
        assert "Missing columns missing_column_check" in _aws_text(name)


def test_extra_columns_are_one_violation_worded_as_aws(tmp_path):
    """22 baseline columns and a window of 23, the counts of AWS's own extra-columns table."""
    _need(CHURN / "training-dataset-with-header.csv", WORDING / "apmalinsky_extra_columns_df_2025-10-20.txt")
    rows = _rows(300)
    _write(tmp_path / "base.csv", (row[:22] for row in rows))
    suggest_baseline(tmp_path / "base.csv", CSV_NO_HEADER, tmp_path / "baseline")
    result = run_data_quality_check(
        baseline_constraints=tmp_path / "baseline" / "constraints.json",
        baseline_statistics=tmp_path / "baseline" / "statistics.json",
        output_dir=tmp_path / "report",
        dataset=_write(tmp_path / "w.csv", (row[:23] for row in rows)),
        fmt=CSV_NO_HEADER,
    )
    assert [v.document() for v in result.violations] == [
        {
            "feature_name": "Extra columns",
            "constraint_check_type": "extra_column_check",
            "description": "There are extra columns in current dataset. Number of columns in current dataset: 23, "
            "Number of columns in baseline constraints: 22",
        }
    ]
    assert result.violations[0].description in _aws_text("apmalinsky_extra_columns_df_2025-10-20.txt")


@pytest.fixture(scope="module")
def categorical(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("categorical")
    _write(out / "base.csv", [["color", "size"], *([["red", "1.5"], ["blue", "2.5"]] * 200)])
    suggest_baseline(out / "base.csv", CSV, out / "baseline")
    return out


def _window_check(folder: Path, tmp_path: Path, colors, sizes=None):
    sizes = sizes or ["2.0"] * len(colors)
    return run_data_quality_check(
        baseline_constraints=folder / "baseline" / "constraints.json",
        baseline_statistics=folder / "baseline" / "statistics.json",
        output_dir=tmp_path / "report",
        dataset=_write(tmp_path / "w.csv", zip(colors, sizes, strict=True)),
        fmt=CSV_NO_HEADER,
    )


def _description(result, feature: str, check: str) -> str:
    (found,) = [
        v.description for v in result.violations if (v.feature_name, v.constraint_check_type) == (feature, check)
    ]
    return found


def test_completeness_categorical_and_string_wording(categorical, tmp_path):
    _need(WORDING / "brightsparc_violations_df_2020.txt", WORDING / "packt_weather_violations_df_2021-08.txt")
    brightsparc, packt = (
        _aws_text("brightsparc_violations_df_2020.txt"),
        _aws_text("packt_weather_violations_df_2021-08.txt"),
    )
    half_missing = _window_check(categorical, tmp_path, ["red", ""] * 20)
    described = _description(half_missing, "color", "completeness_check")
    assert described == "Data completeness requirement is not met. Expected: 100.0%. Observed: Only 50.0%."
    assert described in brightsparc
    half_unknown = _window_check(categorical, tmp_path, ["red", "green"] * 20)
    described = _description(half_unknown, "color", "categorical_values_check")
    assert described == (
        "Categorical value match requirement is not met. Expected match: 100.0%. "
        "Observed: 50.0% of the values match the known values."
    )
    assert described in brightsparc
    numbers = _window_check(categorical, tmp_path, [str(i) for i in range(40)])
    described = _description(numbers, "color", "data_type_check")
    assert described == (
        "Data type match requirement is not met. Expected data type: String, Expected match: 100.0%. "
        "Observed: Only 0.0% of data is String."
    )
    assert described in packt
    half_numbers = _window_check(categorical, tmp_path, ["red", "7"] * 20)
    assert _description(half_numbers, "color", "data_type_check") in brightsparc  # "Only 50.0% of data is String."


def test_percentages_are_printed_as_aws_prints_them(categorical, tmp_path):
    """9 of 1,009 values present: AWS printed "Only 0.8919722497522299%" (a real monitoring log)."""
    _need(WORDING / "dsoa_constraint_violations.from_log_2020-02-04.json")
    aws = json.loads((WORDING / "dsoa_constraint_violations.from_log_2020-02-04.json").read_text())["violations"]
    result = _window_check(categorical, tmp_path, ["red"] * 9 + [""] * 1000)
    described = _description(result, "color", "completeness_check")
    assert described == next(v["description"] for v in aws if v["constraint_check_type"] == "completeness_check")
