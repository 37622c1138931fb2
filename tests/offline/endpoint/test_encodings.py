"""CSV and JSON clients of the same rows: the same predictions, the same capture types, the same verdict.

The capture records the answer verbatim, and Model Monitor types each output cell from its text, so
the JSON answer must spell its columns as the data-quality baseline holds them (evaluate.py:
probability, predicted label 0/1, needs-review 0/1). Two real endpoints get the same 40 rows, one as
CSV and one as JSON; the analyzer checks both capture windows against the baseline of the training rows.
"""

from __future__ import annotations

import json

import pytest

from offline.endpoint import start_endpoint
from processing.monitoring.api import suggest_baseline
from processing.monitoring.checks.api import run_data_quality_check
from processing.monitoring.readers import DatasetFormat

from .conftest import Client, capture_root


@pytest.fixture(scope="module")
def baseline(tmp_path_factory, contract, model_tar, splits_dir):
    """The data-quality baseline the build pipeline registers: evaluate.py's dataset, profiled."""
    from processing.evaluate import run

    work = tmp_path_factory.mktemp("baseline")
    run(
        contract,
        model_tar,
        splits_dir / "test" / "test.csv",
        splits_dir / "train" / "train.csv",
        work / "evaluation",
        work / "data-quality",
        work / "model-quality",
    )
    suggest_baseline(work / "data-quality" / "dataset.csv", DatasetFormat("csv", header=False), work / "dq")
    return work / "dq"


def _send(url: str, bodies: list[str], content_type: str) -> list[bytes]:
    client = Client(url)
    try:
        answers = []
        for body in bodies:
            status, headers, answer = client.post("/invocations", body, content_type)
            assert status == 200, answer
            assert headers["content-type"] == content_type
            answers.append(answer)
        return answers
    finally:
        client.close()


def _check(baseline, home, name, out):
    return run_data_quality_check(
        baseline_constraints=baseline / "constraints.json",
        baseline_statistics=baseline / "statistics.json",
        capture_uri=str(capture_root(home, name)),
        output_dir=out,
    )


def _inferred_types(out) -> dict[str, str]:
    statistics = json.loads((out / "statistics.json").read_text())
    return {feature["name"]: feature["inferred_type"] for feature in statistics["features"]}


def test_csv_and_json_traffic_of_the_same_rows_get_the_same_verdict(model_tar, baseline, rows, tmp_path):
    home = tmp_path / "home"
    sample = rows[:40]
    bodies = {
        "text/csv": sample,
        "application/json": [json.dumps([float(cell) for cell in row.split(",")]) for row in sample],
    }
    answers = {}
    for content_type, name in (("text/csv", "enc-csv"), ("application/json", "enc-json")):
        endpoint = start_endpoint(model_data=model_tar, endpoint_name=name, workers=1, home=home)
        try:
            answers[content_type] = _send(endpoint.url, bodies[content_type], content_type)
        finally:
            summary = endpoint.stop()  # a graceful stop publishes every record
        assert summary["captured"] == 40

    results = {name: _check(baseline, home, name, tmp_path / name) for name in ("enc-csv", "enc-json")}
    assert results["enc-csv"].item_count == results["enc-json"].item_count == 40
    assert results["enc-csv"].violations == results["enc-json"].violations
    assert not [v for v in results["enc-json"].violations if v.constraint_check_type == "data_type_check"]
    types = {name: _inferred_types(tmp_path / name) for name in results}
    assert types["enc-csv"] == types["enc-json"]
    assert types["enc-json"]["_c2"] == "Integral"

    # The JSON answer holds the CSV answer's three columns, spelled the same way.
    for csv_answer, json_answer in zip(answers["text/csv"], answers["application/json"], strict=True):
        [prediction] = json.loads(json_answer)["predictions"]
        assert list(prediction) == ["score", "predicted_label", "needs_review"]
        score, label, review = csv_answer.decode().strip().split(",")
        assert json.dumps(prediction["score"]) == score
        assert prediction["predicted_label"] == int(label) and prediction["needs_review"] == int(review)
        assert type(prediction["predicted_label"]) is int and type(prediction["needs_review"]) is int
