"""`mlops monitor` with click's CliRunner."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from pipelines.cli import main


@pytest.fixture
def dataset(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("a,b\n1,x\n2,y\n-3,x\n")
    return path


def test_help_of_every_monitor_command():
    for args in (["monitor", "--help"], ["monitor", "suggest-baseline", "--help"]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, result.output
        assert "Usage" in result.output


def test_suggest_baseline_writes_both_files(dataset, tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["monitor", "suggest-baseline", "--dataset", str(dataset), "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert "3 rows x 2 features" in result.output
    constraints = json.loads((out / "constraints.json").read_text())
    assert constraints["features"][0]["num_constraints"] == {"is_non_negative": False}


def test_no_header_and_monitoring_config_options(dataset, tmp_path):
    out = tmp_path / "out"
    args = ["monitor", "suggest-baseline", "--dataset", str(dataset), "--no-header", "--output", str(out)]
    args += [
        "--comparison-method",
        "Simple",
        "--comparison-threshold",
        "0.2",
        "--categorical-drift-method",
        "ChiSquared",
    ]
    assert CliRunner().invoke(main, args).exit_code == 0
    doc = json.loads((out / "constraints.json").read_text())
    assert [f["name"] for f in doc["features"]] == ["_c0", "_c1"]
    assert doc["monitoring_config"]["distribution_constraints"] == {
        "perform_comparison": "Enabled",
        "comparison_threshold": 0.2,
        "comparison_method": "Simple",
        "categorical_comparison_threshold": 0.2,
        "categorical_drift_method": "ChiSquared",
    }


def test_model_quality_kind(tmp_path):
    path = tmp_path / "scored.csv"
    path.write_text("p,y\n0.9,1\n0.1,0\n0.6,0\n0.3,1\n")
    out = tmp_path / "out"
    args = ["monitor", "suggest-baseline", "--kind", "model-quality", "--dataset", str(path), "--output", str(out)]
    args += ["--probability-attribute", "p", "--ground-truth-attribute", "y", "--probability-threshold", "0.5"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "binary_classification_constraints" in json.loads((out / "constraints.json").read_text())


@pytest.mark.parametrize(
    ("content", "extra", "message"),
    [
        (None, [], "dataset not found"),
        (b"", [], "is empty"),
        (b"a,b\n1,2\n3\n", [], "ragged rows are not accepted"),
        (b"a\n\xff\n", [], "not UTF-8"),
        (b"a\n1\n", ["--format", "avro"], "Invalid value for '--format'"),
        (b"a\n1\n", ["--kind", "model-quality"], "needs --ground-truth-attribute"),
    ],
)
def test_bad_input_exits_2_and_writes_nothing(tmp_path, content, extra, message):
    path = tmp_path / "bad.csv"
    if content is not None:
        path.write_bytes(content)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["monitor", "suggest-baseline", "--dataset", str(path), "--output", str(out), *extra]
    )
    assert result.exit_code == 2
    assert message in result.output
    assert not out.exists()
