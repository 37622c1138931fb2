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


@pytest.fixture
def baseline(tmp_path):
    path = tmp_path / "base.csv"
    path.write_text("".join(f"0.{i % 9 + 1},{i % 2},{i * 0.5}\n" for i in range(400)))
    out = tmp_path / "baseline"
    args = ["monitor", "suggest-baseline", "--dataset", str(path), "--no-header", "--output", str(out)]
    assert CliRunner().invoke(main, args).exit_code == 0
    return out


def _capture(root, hour, rows, when):
    folder = root / "endpoint" / "AllTraffic" / hour
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    for i, (output, features) in enumerate(rows):
        record = {
            "captureData": {
                "endpointInput": {
                    "observedContentType": "text/csv",
                    "mode": "INPUT",
                    "data": features,
                    "encoding": "CSV",
                },
                "endpointOutput": {
                    "observedContentType": "text/csv",
                    "mode": "OUTPUT",
                    "data": output,
                    "encoding": "CSV",
                },
            },
            "eventMetadata": {"eventId": f"e{i}", "inferenceTime": when},
            "eventVersion": "0",
        }
        lines.append(json.dumps(record))
    (folder / "00-00-000-x.jsonl").write_text("\n".join(lines) + "\n{broken\n")


def test_run_on_a_capture_window(baseline, tmp_path, monkeypatch):
    monkeypatch.setenv("MLOPS_HOME", str(tmp_path / "home"))
    root = tmp_path / "home" / "s3" / "bucket" / "capture"
    _capture(
        root,
        "2024/05/01/13",
        [(f"0.{i % 9 + 1},{i % 2}", f"{i * 0.5 + 500}") for i in range(200)],
        "2024-05-01T13:30:00Z",
    )
    args = ["monitor", "run", "--kind", "data-quality", "--baseline-constraints", str(baseline / "constraints.json")]
    args += ["--baseline-statistics", str(baseline / "statistics.json"), "--capture-uri", "s3://bucket/capture"]
    args += ["--start", "2024-05-01T13:00:00Z", "--end", "2024-05-01T14:00:00Z", "--output", str(tmp_path / "report")]
    result = CliRunner().invoke(main, [*args, "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["status"] == "CompletedWithViolations" and report["item_count"] == 200
    assert {(v["feature_name"], v["constraint_check_type"]) for v in report["violations"]} == {
        ("_c2", "baseline_drift_check")
    }
    assert "skipped 1 capture line(s)" in result.stderr
    assert (tmp_path / "report" / "constraint_violations.json").is_file()


def test_run_on_an_empty_window_is_no_data(baseline, tmp_path):
    _capture(tmp_path / "capture", "2024/05/01/12", [("0.5,1", "1")], "2024-05-01T12:30:00Z")  # the hour before
    args = ["monitor", "run", "--kind", "data-quality", "--baseline-constraints", str(baseline / "constraints.json")]
    args += ["--start", "2024-05-01T13:00:00Z", "--end", "2024-05-01T14:00:00Z", "--output", str(tmp_path / "report")]
    result = CliRunner().invoke(main, [*args, "--capture-uri", str(tmp_path / "capture")])
    assert result.exit_code == 0
    assert result.stdout.startswith("NoData:")
    assert not (tmp_path / "report").exists()
    # a location that does not exist holds no capture at all: bad input, said so, not an empty hour
    result = CliRunner().invoke(main, [*args, "--capture-uri", str(tmp_path / "none")])
    assert result.exit_code == 2
    assert f"capture location {tmp_path / 'none'} does not exist: it holds no captured data at all" in result.output
    result = CliRunner().invoke(main, [*args, "--capture-uri", "s3://bucket/none", "--json"], env=_home(tmp_path))
    assert result.exit_code == 2 and "none does not exist" in result.output


def _home(tmp_path) -> dict[str, str]:
    return {"MLOPS_HOME": str(tmp_path / "home")}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ([], "give --dataset or --capture-uri"),
        (["--capture-uri", "/x"], "needs --start and --end"),
        (["--capture-uri", "/x", "--start", "noon", "--end", "2024-01-01T00:00:00Z"], "not an ISO-8601 time"),
        (["--capture-uri", "/x", "--start", "2024-01-02T00:00:00Z", "--end", "2024-01-01T00:00:00Z"], "is not before"),
        (["--dataset", "/x", "--capture-uri", "/y", "--start", "2024-01-01T00:00:00Z", "--end", "2024-01-02T00:00:00Z"],
         "give --dataset or --capture-uri"),
    ],
)  # fmt: skip
def test_run_bad_input(baseline, tmp_path, extra, message):
    args = ["monitor", "run", "--kind", "data-quality", "--baseline-constraints", str(baseline / "constraints.json")]
    result = CliRunner().invoke(main, [*args, *extra, "--output", str(tmp_path / "report")])
    assert result.exit_code == 2 and message in result.output
    assert not (tmp_path / "report").exists()


def test_run_with_unreadable_baseline(tmp_path):
    (tmp_path / "c.json").write_text("{not json")
    (tmp_path / "d.csv").write_text("a\n1\n")
    args = ["monitor", "run", "--kind", "data-quality", "--baseline-constraints", str(tmp_path / "c.json")]
    result = CliRunner().invoke(main, [*args, "--dataset", str(tmp_path / "d.csv"), "--output", str(tmp_path / "o")])
    assert result.exit_code == 2 and "is not valid JSON" in result.output
    args[-1] = str(tmp_path / "missing.json")
    result = CliRunner().invoke(main, [*args, "--dataset", str(tmp_path / "d.csv"), "--output", str(tmp_path / "o")])
    assert result.exit_code == 2 and "baseline constraints not found" in result.output


def test_run_with_a_malformed_baseline_exits_2(tmp_path):
    """A bad baseline used to switch the checks off (`{"features": "nope"}`: "Completed", exit 0)."""
    (tmp_path / "base.csv").write_text("x,color\n" + "".join(f"{i % 50 / 10},{'ab'[i % 2]}\n" for i in range(400)))
    (tmp_path / "w.csv").write_text("x,color\n" + "".join(f"{i % 50 / 10 + 4},{'ab'[i % 2]}\n" for i in range(100)))
    baseline = tmp_path / "baseline"
    args = ["monitor", "suggest-baseline", "--dataset", str(tmp_path / "base.csv"), "--output", str(baseline)]
    assert CliRunner().invoke(main, args).exit_code == 0

    def run(statistics, constraints=baseline / "constraints.json", output=tmp_path / "report"):
        args = ["monitor", "run", "--kind", "data-quality", "--baseline-constraints", str(constraints)]
        args += ["--baseline-statistics", str(statistics), "--dataset", str(tmp_path / "w.csv")]
        return CliRunner().invoke(main, [*args, "--output", str(output)])

    real = run(baseline / "statistics.json", output=tmp_path / "real")
    assert real.exit_code == 0 and "baseline_drift_check       x: Baseline drift distance: 0." in real.stdout
    (tmp_path / "nope.json").write_text('{"features": "nope"}')
    constraints = json.loads((baseline / "constraints.json").read_text())
    constraints["monitoring_config"]["distribution_constraints"]["comparison_threshold"] = "high"
    (tmp_path / "high.json").write_text(json.dumps(constraints))
    cases = [
        (tmp_path / "nope.json", baseline / "constraints.json", "'features' must be a non-empty list, got 'nope'"),
        (baseline / "constraints.json", baseline / "constraints.json", "is a constraints.json (no per-feature stat"),
        (baseline, baseline / "constraints.json", f"baseline statistics {baseline} is a directory; give the JSON"),
        (baseline / "statistics.json", tmp_path / "high.json", "comparison_threshold must be a number within [0, 1]"),
    ]
    for statistics, constraints, message in cases:
        result = run(statistics, constraints)
        assert result.exit_code == 2 and message in result.output, result.output
    assert not (tmp_path / "report").exists()
