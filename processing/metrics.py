"""Binary-classification metrics in Model Monitor's `binary_classification_metrics` shape.

One implementation serves evaluate.py (evaluation.json, the pipeline's quality gate and the
registry's ModelMetrics) and the model-quality monitor, so the figures a model is registered with
and the figures it is later monitored against are computed the same way.

Shape and conventions (see ../shared/reference/FORMATS.md §4.4, AWS's model-quality metrics page):
confusion_matrix is {actual: {predicted: count}}; the "best constant classifier" always predicts
the positive class; true_negative_rate is 1 - false_positive_rate; standard_deviation is the
string "NaN" below 200 rows, else the spread over five 80 % subsamples (AWS samples randomly, so
those figures are not reproducible bit for bit; ours use a fixed seed).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

MIN_ROWS_FOR_STD = 200
BOOTSTRAP_SAMPLES = 5
BOOTSTRAP_FRACTION = 0.8
BOOTSTRAP_SEED = 0

SCALARS = (
    "recall",
    "precision",
    "accuracy",
    "recall_best_constant_classifier",
    "precision_best_constant_classifier",
    "accuracy_best_constant_classifier",
    "true_positive_rate",
    "true_negative_rate",
    "false_positive_rate",
    "false_negative_rate",
)
F_SCORES = (
    "f0_5",
    "f1",
    "f2",
    "f0_5_best_constant_classifier",
    "f1_best_constant_classifier",
    "f2_best_constant_classifier",
)


def binary_classification_metrics(labels, probabilities, threshold: float = 0.5) -> dict:
    """Metrics of P(positive) scores against 0/1 labels; a label is predicted when p >= threshold."""
    y, p = _validated(labels, probabilities)
    values = _scalar_values(y, p, threshold)
    spread = _standard_deviations(y, p, threshold)
    fpr, tpr = roc_curve(y, p)
    precisions, recalls = precision_recall_curve(y, p)
    predicted = (p >= threshold).astype(np.int64)
    tn, fp, fn, tp = _confusion(y, predicted)
    out: dict = {"confusion_matrix": {"0": {"0": tn, "1": fp}, "1": {"0": fn, "1": tp}}}
    for name in SCALARS:
        out[name] = {"value": values[name], "standard_deviation": spread[name]}
    out["receiver_operating_characteristic_curve"] = {
        "false_positive_rates": fpr.tolist(),
        "true_positive_rates": tpr.tolist(),
    }
    out["precision_recall_curve"] = {"precisions": precisions.tolist(), "recalls": recalls.tolist()}
    for name in ("auc", *F_SCORES):
        out[name] = {"value": values[name], "standard_deviation": spread[name]}
    return out


def roc_curve(y: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """False- and true-positive rates at every distinct score, from (0, 0) to (1, 1)."""
    tps, fps = _cumulative_counts(y, p)
    positives, negatives = tps[-1], fps[-1]
    tpr = tps / positives if positives else np.zeros_like(tps, dtype=np.float64)
    fpr = fps / negatives if negatives else np.zeros_like(fps, dtype=np.float64)
    return np.concatenate([[0.0], fpr]), np.concatenate([[0.0], tpr])


def precision_recall_curve(y: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Precision and recall at every distinct score, by increasing recall, starting at recall 0."""
    tps, fps = _cumulative_counts(y, p)
    positives = tps[-1]
    precision = tps / np.maximum(tps + fps, 1)
    recall = tps / positives if positives else np.zeros_like(tps, dtype=np.float64)
    return np.concatenate([[1.0], precision]), np.concatenate([[0.0], recall])


def _validated(labels, probabilities) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(labels)
    p = np.asarray(probabilities, dtype=np.float64)
    if y.ndim != 1 or p.ndim != 1 or len(y) != len(p):
        raise ValueError(f"labels and probabilities must be 1-D and equally long ({y.shape} vs {p.shape})")
    if len(y) == 0:
        raise ValueError("no rows to compute metrics on")
    if not np.isin(y, (0, 1)).all():
        raise ValueError("labels must be 0 or 1")
    if not np.isfinite(p).all():
        raise ValueError("probabilities must be finite numbers")
    return y.astype(np.int64), p


def _cumulative_counts(y: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(-p, kind="mergesort")
    y_sorted, p_sorted = y[order], p[order]
    last_of_each_score = np.r_[np.flatnonzero(np.diff(p_sorted)), len(p_sorted) - 1]
    tps = np.cumsum(y_sorted)[last_of_each_score].astype(np.float64)
    fps = (last_of_each_score + 1 - tps).astype(np.float64)
    return tps, fps


def _confusion(y: np.ndarray, predicted: np.ndarray) -> tuple[int, int, int, int]:
    tp = int(np.sum((y == 1) & (predicted == 1)))
    tn = int(np.sum((y == 0) & (predicted == 0)))
    fp = int(np.sum((y == 0) & (predicted == 1)))
    fn = int(np.sum((y == 1) & (predicted == 0)))
    return tn, fp, fn, tp


def _scalar_values(y: np.ndarray, p: np.ndarray, threshold: float) -> dict[str, float]:
    tn, fp, fn, tp = _confusion(y, (p >= threshold).astype(np.int64))
    n = tn + fp + fn + tp
    positives, negatives = tp + fn, tn + fp
    precision = _ratio(tp, tp + fp)
    recall = _ratio(tp, positives)
    fpr = _ratio(fp, negatives)
    prevalence = positives / n
    fpr_curve, tpr_curve = roc_curve(y, p)
    values = {
        "recall": recall,
        "precision": precision,
        "accuracy": (tp + tn) / n,
        "recall_best_constant_classifier": 1.0,
        "precision_best_constant_classifier": prevalence,
        "accuracy_best_constant_classifier": prevalence,
        "true_positive_rate": recall,
        "true_negative_rate": 1.0 - fpr,
        "false_positive_rate": fpr,
        "false_negative_rate": _ratio(fn, positives),
        "auc": _trapezoid(tpr_curve, fpr_curve),
    }
    for beta, name in ((0.5, "f0_5"), (1.0, "f1"), (2.0, "f2")):
        values[name] = _f_beta(precision, recall, beta)
        values[f"{name}_best_constant_classifier"] = _f_beta(prevalence, 1.0, beta)
    return values


def _standard_deviations(y: np.ndarray, p: np.ndarray, threshold: float) -> dict[str, float | str]:
    names = (*SCALARS, "auc", *F_SCORES)
    if len(y) < MIN_ROWS_FOR_STD:
        return dict.fromkeys(names, "NaN")
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    size = int(len(y) * BOOTSTRAP_FRACTION)
    samples = [rng.choice(len(y), size=size, replace=False) for _ in range(BOOTSTRAP_SAMPLES)]
    runs = [_scalar_values(y[idx], p[idx], threshold) for idx in samples]
    return {name: _std([run[name] for run in runs]) for name in names}


def _std(values: list[float]) -> float | str:
    finite = [v for v in values if math.isfinite(v)]
    return float(np.std(finite)) if len(finite) == len(values) else "NaN"


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else math.nan


def _f_beta(precision: float, recall: float, beta: float) -> float:
    b2 = beta * beta
    denominator = b2 * precision + recall
    if not math.isfinite(denominator) or denominator == 0:
        return math.nan if not math.isfinite(denominator) else 0.0
    return (1 + b2) * precision * recall / denominator


def _trapezoid(y: np.ndarray, x: np.ndarray) -> float:
    integrate: Callable = getattr(np, "trapezoid", None) or np.trapz
    return float(integrate(y, x))
