"""A malformed baseline stops the job (exit 2, a message naming the file and the key), never turns
monitoring off: through the check functions and the job entry (analyze.py); `mlops monitor run`'s
answers are in tests/cli/test_monitor_cli.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from processing import analyze
from processing.monitoring.api import suggest_baseline
from processing.monitoring.baselines import (
    load_document,
    validate_data_quality_constraints,
    validate_model_quality_constraints,
    validate_statistics,
)
from processing.monitoring.checks.api import run_data_quality_check, run_model_quality_check
from processing.monitoring.errors import MonitorInputError
from processing.monitoring.model_quality import ModelQualityAttributes, suggest_model_quality_baseline

from .conftest import CSV, REFERENCE

pytestmark = pytest.mark.image


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    """A baseline (x drifts in the window, color does not) and a scored dataset's model-quality baseline."""
    folder = tmp_path_factory.mktemp("baselines")
    rows = [(i % 50 / 10, ["red", "blue"][i % 2]) for i in range(400)]
    (folder / "base.csv").write_text("x,color\n" + "".join(f"{x},{c}\n" for x, c in rows))
    (folder / "window.csv").write_text("x,color\n" + "".join(f"{x + 4},{c}\n" for x, c in rows[:100]))
    suggest_baseline(folder / "base.csv", CSV, folder / "dq")
    (folder / "scored.csv").write_text("p,y\n" + "".join(f"{0.2 + 0.6 * (i % 2)},{i % 2}\n" for i in range(40)))
    suggest_model_quality_baseline(folder / "scored.csv", CSV, folder / "mq", ModelQualityAttributes("y", "p"))
    return folder


def _edited(work: Path, tmp_path: Path, name: str, edit) -> Path:
    doc = json.loads((work / "dq" / name).read_text())
    edit(doc)
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return path


def _set(path: tuple, value):
    def edit(doc):
        holder = doc
        for key in path[:-1]:
            holder = holder[key]
        holder[path[-1]] = value

    return edit


def _check(work: Path, tmp_path: Path, constraints=None, statistics=None):
    return run_data_quality_check(
        baseline_constraints=constraints or work / "dq" / "constraints.json",
        baseline_statistics=statistics or work / "dq" / "statistics.json",
        output_dir=tmp_path / "report",
        dataset=work / "window.csv",
        fmt=CSV,
    )


def test_the_real_baseline_finds_the_drift(work, tmp_path):
    result = _check(work, tmp_path)
    assert [(v.feature_name, v.constraint_check_type) for v in result.violations] == [("x", "baseline_drift_check")]
    assert result.features[0].drift > 0.5


BAD_STATISTICS = [
    (lambda d: d.update(features="nope"), "'features' must be a non-empty list, got 'nope'"),
    (lambda d: d.update(features=[]), "'features' must be a non-empty list"),
    (lambda d: d.pop("features"), "has no 'features' list"),
    (lambda d: d["features"].__setitem__(0, "x"), "features[0] must be an object"),
    (lambda d: d["features"][0].pop("name"), "features[0] has no name"),
    (lambda d: d["features"][1].update(name="x"), "feature 'x' appears twice"),
    (lambda d: d["features"][0].update(inferred_type="Number"), "has inferred_type 'Number'; expected one of"),
    (lambda d: d["features"][0].update(numerical_statistics=[1]), "numerical_statistics must be an object"),
    (lambda d: d["features"][0].pop("numerical_statistics"), "has neither numerical_statistics nor string_statistics"),
    (
        _set(("features", 0, "numerical_statistics", "distribution", "kll", "sketch", "data"), [["a"]]),
        "feature 'x': numerical_statistics.distribution.kll.sketch.data must be a list of lists of numbers",
    ),
    (
        _set(("features", 0, "numerical_statistics", "distribution", "kll", "sketch", "parameters", "c"), "0.64"),
        "sketch.parameters.c must be a number within (0, 1)",
    ),
    (
        _set(("features", 1, "string_statistics", "distribution", "categorical", "buckets"), [{"value": "red"}]),
        "each bucket needs a value and a count >= 0",
    ),
]


BAD_CONSTRAINTS = [
    (lambda d: d.update(features={"x": 1}), "'features' must be a non-empty list"),
    (lambda d: d["features"][0].update(completeness="all"), "feature 'x': completeness must be a number within"),
    (lambda d: d["features"][0].update(completeness=1.5), "completeness must be a number within [0, 1], got 1.5"),
    (
        _set(("monitoring_config", "distribution_constraints", "comparison_threshold"), "0.1"),
        "monitoring_config: distribution_constraints: comparison_threshold must be a number within [0, 1], got '0.1'",
    ),
    (_set(("monitoring_config", "datatype_check_threshold"), True), "datatype_check_threshold must be a number"),
    (_set(("monitoring_config", "distribution_constraints", "comparison_method"), "robust"), "must be one of Robust"),
    (_set(("monitoring_config", "evaluate_constraints"), "yes"), "evaluate_constraints must be one of Enabled"),
    (_set(("monitoring_config", "distribution_constraints"), 0.1), "distribution_constraints must be an object"),
    (_set(("features", 1, "string_constraints", "domains"), "red"), "string_constraints.domains must be a list"),
    (
        _set(
            ("features", 0, "monitoring_config_overrides"), {"distribution_constraints": {"comparison_threshold": -1}}
        ),
        "feature 'x': monitoring_config_overrides: distribution_constraints: comparison_threshold must be a number",
    ),
]


@pytest.mark.parametrize(
    ("name", "edit", "message"),
    [("statistics.json", *case) for case in BAD_STATISTICS] + [("constraints.json", *case) for case in BAD_CONSTRAINTS],
)
def test_a_bad_baseline_file_stops_the_check(work, tmp_path, name, edit, message):
    bad = _edited(work, tmp_path, name, edit)
    with pytest.raises(MonitorInputError) as error:
        _check(work, tmp_path, **{name.split(".")[0]: bad})
    assert str(error.value).startswith(f"baseline {name.split('.')[0]} {bad}")
    assert message in str(error.value)
    assert not (tmp_path / "report").exists()


def test_swapped_mismatched_and_missing_files(work, tmp_path):
    dq = work / "dq"
    with pytest.raises(MonitorInputError, match=r"is a constraints.json \(no per-feature statistics\), not a stat"):
        _check(work, tmp_path, statistics=dq / "constraints.json")
    with pytest.raises(MonitorInputError, match="is a statistics.json .*, not a constraints.json"):
        _check(work, tmp_path, constraints=dq / "statistics.json")
    with pytest.raises(MonitorInputError, match="has no 'features' list: it holds binary_classification_constraints"):
        _check(work, tmp_path, constraints=work / "mq" / "constraints.json")
    with pytest.raises(MonitorInputError, match="holds model-quality metrics"):
        _check(work, tmp_path, statistics=work / "mq" / "statistics.json")
    with pytest.raises(MonitorInputError, match=f"baseline statistics {dq} is a directory; give the JSON file itself"):
        _check(work, tmp_path, statistics=dq)
    other = _edited(
        work, tmp_path, "statistics.json", lambda d: [f.update(name=f"other_{f['name']}") for f in d["features"]]
    )
    with pytest.raises(MonitorInputError, match="describes none of the constraints' features .*same baseline"):
        _check(work, tmp_path, statistics=other)
    with pytest.raises(MonitorInputError, match="is an S3 URI, and this job reads and writes local paths only"):
        _check(work, tmp_path, statistics="s3://bucket/statistics.json")
    assert not (tmp_path / "report").exists()


def test_statistics_missing_some_features_are_a_note(work, tmp_path):
    partial = _edited(work, tmp_path, "statistics.json", lambda d: d["features"].pop(0))
    result = _check(work, tmp_path, statistics=partial)
    assert result.violations == []  # x is not compared any more: the note says so
    assert result.notes == [
        f"baseline statistics {partial} has no statistics for 1 feature(s) (x): no drift check for them"
    ]


BAD_MODEL_QUALITY = [
    ({"binary_classification_constraints": []}, "binary_classification_constraints must be a non-empty object"),
    ({"binary_classification_constraints": {}}, "binary_classification_constraints must be a non-empty object"),
    ({"binary_classification_constraints": {"auc": 0.9}}, "constraint 'auc' must be an object"),
    (
        {"binary_classification_constraints": {"aucc": {"threshold": 0.9, "comparison_operator": "LessThanThreshold"}}},
        "constraint 'aucc' names no binary-classification metric (known: recall, precision",
    ),
    (
        {
            "binary_classification_constraints": {
                "auc": {"threshold": "0.9", "comparison_operator": "LessThanThreshold"}
            }
        },
        "constraint 'auc': threshold must be a finite number, got '0.9'",
    ),
    (
        {"binary_classification_constraints": {"auc": {"threshold": 0.9, "comparison_operator": "Below"}}},
        "constraint 'auc' has an unknown comparison_operator 'Below'",
    ),
    ({"regression_constraints": {"mae": {"threshold": 1}}}, "holds regression_constraints; this analyzer checks Bin"),
    ({"version": 0.0}, "holds no binary_classification_constraints"),
]


@pytest.mark.parametrize(("doc", "message"), BAD_MODEL_QUALITY)
def test_bad_model_quality_constraints_stop_the_check(work, tmp_path, doc, message):
    (tmp_path / "c.json").write_text(json.dumps(doc))
    with pytest.raises(MonitorInputError) as error:
        run_model_quality_check(
            baseline_constraints=tmp_path / "c.json",
            output_dir=tmp_path / "report",
            attributes=ModelQualityAttributes("y", "p"),
            dataset=work / "scored.csv",
            fmt=CSV,
        )
    assert f"baseline constraints {tmp_path / 'c.json'}" in str(error.value) and message in str(error.value)
    assert not (tmp_path / "report").exists()


def test_model_quality_given_data_quality_constraints(work):
    with pytest.raises(MonitorInputError, match="is a data-quality baseline's constraints, not a model-quality one"):
        validate_model_quality_constraints(load_document(work / "dq" / "constraints.json", "c"), "c")


@pytest.mark.parametrize("kind", ["DATA_QUALITY", "MODEL_QUALITY"])
def test_the_job_entry_fails_the_job(work, tmp_path, kind):
    (tmp_path / "nope.json").write_text('{"features": "nope", "binary_classification_constraints": 1}')
    args = ["--dataset-source", str(work / ("window.csv" if kind == "DATA_QUALITY" else "scored.csv"))]
    args += ["--output-path", str(tmp_path / "out"), "--message-file", str(tmp_path / "message")]
    args += ["--analysis-type", kind, "--baseline-constraints", str(tmp_path / "nope.json")]
    if kind == "MODEL_QUALITY":
        args += ["--probability-attribute", "p", "--ground-truth-attribute", "y"]
    assert analyze.main(args) == 2
    message = (tmp_path / "message").read_text()
    assert message.startswith(f"Failed: baseline constraints {tmp_path / 'nope.json'}")
    assert (
        "'features' must be a non-empty list" if kind == "DATA_QUALITY" else "must be a non-empty object"
    ) in message
    assert not (tmp_path / "out").exists()
    args[args.index("--baseline-constraints") + 1] = str(work / "dq" / "constraints.json")
    assert analyze.main([*args, "--baseline-statistics", str(work / "dq")]) == 2
    wanted = "is a directory" if kind == "DATA_QUALITY" else "is a data-quality baseline's constraints"
    assert wanted in (tmp_path / "message").read_text()
    assert not (tmp_path / "out").exists()


def test_the_job_entry_refuses_s3_uris(work, tmp_path):
    args = ["--dataset-source", "s3://bucket/capture", "--dataset-format", '{"sagemakerCaptureJson": {}}']
    args += ["--output-path", str(tmp_path / "out"), "--message-file", str(tmp_path / "message")]
    args += ["--baseline-constraints", str(work / "dq" / "constraints.json"), "--start-time", "2024-01-01T00:00:00Z"]
    assert analyze.main([*args, "--end-time", "2024-01-01T01:00:00Z"]) == 2
    assert (
        (tmp_path / "message")
        .read_text()
        .startswith(
            "Failed: capture location s3://bucket/capture is an S3 URI, and this job reads and writes local paths only"
        )
    )


def test_every_real_baseline_file_passes(tmp_path):
    files = sorted(REFERENCE.glob("**/*.json")) if REFERENCE.is_dir() else []
    if not files:
        pytest.skip("../shared/reference is not present")
    checked = 0
    for path in files:
        text = path.read_text()
        if "__TRUNCATED__" in text:
            continue  # cut by whoever saved the log, not as AWS wrote it
        doc = json.loads(text)
        if "features" in doc and "monitoring_config" in doc:
            validate_data_quality_constraints(doc, str(path))
        elif "features" in doc and "dataset" in doc:
            validate_statistics(doc, str(path))
        elif "binary_classification_constraints" in doc:
            validate_model_quality_constraints(doc, str(path))
        else:
            continue
        checked += 1
    assert checked >= 10
