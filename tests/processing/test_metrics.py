import numpy as np
import pytest
from sklearn import metrics as sk

from processing.metrics import binary_classification_metrics

pytestmark = pytest.mark.image


@pytest.fixture
def scored():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 400)
    p = np.clip(0.35 * y + 0.65 * rng.random(400), 0, 1).round(2)  # rounding makes ties
    return y, p


def test_scalars_match_scikit_learn(scored):
    y, p = scored
    m = binary_classification_metrics(y, p, threshold=0.5)
    pred = p >= 0.5
    assert m["auc"]["value"] == pytest.approx(sk.roc_auc_score(y, p))
    assert m["accuracy"]["value"] == pytest.approx(sk.accuracy_score(y, pred))
    assert m["precision"]["value"] == pytest.approx(sk.precision_score(y, pred))
    assert m["recall"]["value"] == pytest.approx(sk.recall_score(y, pred))
    for beta, key in ((0.5, "f0_5"), (1, "f1"), (2, "f2")):
        assert m[key]["value"] == pytest.approx(sk.fbeta_score(y, pred, beta=beta))
    tn, fp, fn, tp = sk.confusion_matrix(y, pred).ravel()
    assert m["confusion_matrix"] == {"0": {"0": tn, "1": fp}, "1": {"0": fn, "1": tp}}
    assert m["false_positive_rate"]["value"] == pytest.approx(fp / (fp + tn))
    assert m["true_negative_rate"]["value"] == pytest.approx(1 - fp / (fp + tn))
    assert m["false_negative_rate"]["value"] == pytest.approx(fn / (fn + tp))


def test_curves_match_scikit_learn(scored):
    y, p = scored
    m = binary_classification_metrics(y, p)
    fpr, tpr, _ = sk.roc_curve(y, p, drop_intermediate=False)
    roc = m["receiver_operating_characteristic_curve"]
    assert np.allclose(roc["false_positive_rates"], fpr) and np.allclose(roc["true_positive_rates"], tpr)
    precision, recall, _ = sk.precision_recall_curve(y, p, drop_intermediate=False)
    pr = m["precision_recall_curve"]
    assert np.allclose(sorted(pr["recalls"]), sorted(recall))


def test_aws_documented_example_and_best_constant_classifier():
    # AWS's model-quality example: 4 rows, 1 positive; confusion {actual: {predicted: n}}.
    y = np.array([0, 0, 0, 1])
    p = np.array([0.2, 0.7, 0.8, 0.9])
    m = binary_classification_metrics(y, p)
    assert m["confusion_matrix"] == {"0": {"0": 1, "1": 2}, "1": {"0": 0, "1": 1}}
    assert m["precision"]["value"] == pytest.approx(1 / 3)
    assert m["precision_best_constant_classifier"]["value"] == 0.25
    assert m["recall_best_constant_classifier"]["value"] == 1.0
    assert m["f1_best_constant_classifier"]["value"] == pytest.approx(0.4)
    assert m["f2_best_constant_classifier"]["value"] == pytest.approx(0.625)
    assert m["accuracy"]["standard_deviation"] == "NaN"  # below 200 rows


def test_key_order_follows_model_monitor():
    m = binary_classification_metrics([0, 1, 1, 0], [0.1, 0.8, 0.6, 0.3])
    assert list(m)[:4] == ["confusion_matrix", "recall", "precision", "accuracy"]
    assert list(m)[-7:] == [
        "auc", "f0_5", "f1", "f2", "f0_5_best_constant_classifier", "f1_best_constant_classifier",
        "f2_best_constant_classifier",
    ]  # fmt: skip


def test_standard_deviation_from_200_rows(scored):
    y, p = scored
    m = binary_classification_metrics(y, p)
    assert isinstance(m["auc"]["standard_deviation"], float) and 0 < m["auc"]["standard_deviation"] < 0.1
    assert binary_classification_metrics(y, p) == m  # seeded: the same figures every run


@pytest.mark.parametrize(
    ("labels", "probabilities", "message"),
    [
        ([0, 1], [0.5], "equally long"),
        ([], [], "no rows"),
        ([0, 2], [0.1, 0.2], "0 or 1"),
        ([0, 1], [0.1, np.nan], "finite"),
    ],
)
def test_bad_input(labels, probabilities, message):
    with pytest.raises(ValueError, match=message):
        binary_classification_metrics(labels, probabilities)
