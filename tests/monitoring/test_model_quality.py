import json

import numpy as np
import pytest
from sklearn import metrics as sk

from processing.monitoring.errors import MonitorInputError
from processing.monitoring.model_quality import (
    ModelQualityAttributes,
    constraints_document,
    suggest_model_quality_baseline,
)

from .conftest import CSV, CSV_NO_HEADER

pytestmark = pytest.mark.image


@pytest.fixture
def scored_csv(tmp_path):
    rng = np.random.default_rng(11)
    y = rng.integers(0, 2, 300)
    p = np.clip(0.4 * y + 0.6 * rng.random(300), 0, 1)
    path = tmp_path / "scored.csv"
    path.write_text("probability,label\n" + "".join(f"{float(a)!r},{b}\n" for a, b in zip(p, y, strict=True)))
    return path, y, p


def test_baseline_metrics_match_scikit_learn(scored_csv, tmp_path):
    path, y, p = scored_csv
    attributes = ModelQualityAttributes("label", probability_attribute="probability", probability_threshold=0.6)
    suggest_model_quality_baseline(path, CSV, tmp_path / "out", attributes)
    stats = json.loads((tmp_path / "out" / "statistics.json").read_text())
    m = stats["binary_classification_metrics"]
    pred = p >= 0.6
    assert stats["dataset"] == {"item_count": 300}
    assert m["auc"]["value"] == pytest.approx(sk.roc_auc_score(y, p))
    assert m["precision"]["value"] == pytest.approx(sk.precision_score(y, pred))
    assert m["recall"]["value"] == pytest.approx(sk.recall_score(y, pred))
    assert m["f2"]["value"] == pytest.approx(sk.fbeta_score(y, pred, beta=2))
    tn, fp, fn, tp = sk.confusion_matrix(y, pred).ravel()
    assert m["confusion_matrix"] == {"0": {"0": tn, "1": fp}, "1": {"0": fn, "1": tp}}
    assert isinstance(m["accuracy"]["standard_deviation"], float)  # 300 rows >= 200


def test_constraints_keep_the_baseline_value_with_aws_operators(scored_csv, tmp_path):
    path, _, _ = scored_csv
    suggest_model_quality_baseline(path, CSV, tmp_path, ModelQualityAttributes("label", "probability"))
    stats = json.loads((tmp_path / "statistics.json").read_text())
    constraints = json.loads((tmp_path / "constraints.json").read_text())["binary_classification_constraints"]
    assert constraints["auc"] == {
        "threshold": stats["binary_classification_metrics"]["auc"]["value"],
        "comparison_operator": "LessThanThreshold",
    }
    assert constraints["false_positive_rate"]["comparison_operator"] == "GreaterThanThreshold"
    assert "recall_best_constant_classifier" not in constraints


def test_nan_metrics_get_no_constraint():
    stats = {"binary_classification_metrics": {"precision": {"value": float("nan")}, "auc": {"value": 0.5}}}
    assert list(constraints_document(stats)["binary_classification_constraints"]) == ["auc"]


def test_headerless_columns_and_positive_label(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("0.9,yes\n0.2,no\n0.7,no\n0.4,yes\n")
    attributes = ModelQualityAttributes("_c1", probability_attribute="_c0", positive_label="yes")
    suggest_model_quality_baseline(path, CSV_NO_HEADER, tmp_path / "out", attributes)
    m = json.loads((tmp_path / "out" / "statistics.json").read_text())["binary_classification_metrics"]
    assert m["confusion_matrix"] == {"0": {"0": 1, "1": 1}, "1": {"0": 1, "1": 1}}
    assert m["recall"]["standard_deviation"] == "NaN"  # fewer than 200 rows


@pytest.mark.parametrize(
    ("content", "attributes", "message"),
    [
        ("p,y\n0.5,1\n", ModelQualityAttributes("label", "p"), "column 'label' is not in the dataset"),
        ("p,y\n0.5,2\n", ModelQualityAttributes("y", "p"), "labels must be 0 or 1"),
        ("p,y\nhigh,1\n", ModelQualityAttributes("y", "p"), "not a number"),
        ("p,y\n0.5,\n", ModelQualityAttributes("y", "p"), "missing values"),
        ("p,y\n0.5,1\n", ModelQualityAttributes("y"), "probability_attribute or inference_attribute"),
        ("p,y\n0.5,1\n", ModelQualityAttributes("y", "p", probability_threshold=1.5), "within \\[0, 1\\]"),
        ("p,y\n0.5,1\n", ModelQualityAttributes("y", "p", problem_type="Regression"), "not supported"),
    ],
)
def test_bad_inputs(tmp_path, content, attributes, message):
    path = tmp_path / "d.csv"
    path.write_text(content)
    with pytest.raises(MonitorInputError, match=message):
        suggest_model_quality_baseline(path, CSV, tmp_path / "out", attributes)
    assert not (tmp_path / "out").exists()
