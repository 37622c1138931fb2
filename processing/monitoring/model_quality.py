"""Model-quality baseline for binary classification, in Model Monitor's schema (FORMATS.md §4).

Inputs are Model Monitor's attributes: the column holding P(positive) (`probability_attribute`),
the label column (`ground_truth_attribute`), the threshold turning a probability into a predicted
label (`probability_threshold_attribute`, a number), optionally the predicted-label column
(`inference_attribute`, used when there is no probability) and the label value that counts as
positive (`positive_label`, else labels must be 0/1). Columns are named as the dataset reader names
them: header names, or `_c0`, `_c1`, … without a header.

The metrics come from processing/metrics.py, the one implementation evaluate.py uses too, so the
figures a model is registered with are the figures it is monitored against. The suggested
constraints keep each scalar metric's baseline value as its threshold; a violation is a value worse
than it: `LessThanThreshold` for metrics where higher is better, `GreaterThanThreshold` for the
error rates (AWS's binary-classification choice is not published; this follows the pattern of its
regression constraints, see docs/monitoring.md).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np

from .api import BaselineResult
from .batch import TEXT, Batch
from .errors import MonitorInputError
from .outputs import CONSTRAINTS, STATISTICS, write_documents
from .readers import DatasetFormat, read_dataset

BINARY_CLASSIFICATION = "BinaryClassification"
LESS_THAN, GREATER_THAN = "LessThanThreshold", "GreaterThanThreshold"
# Metric → the operator whose truth is a violation (value <op> threshold).
CONSTRAINED_METRICS = {
    "recall": LESS_THAN,
    "precision": LESS_THAN,
    "accuracy": LESS_THAN,
    "true_positive_rate": LESS_THAN,
    "true_negative_rate": LESS_THAN,
    "false_positive_rate": GREATER_THAN,
    "false_negative_rate": GREATER_THAN,
    "auc": LESS_THAN,
    "f0_5": LESS_THAN,
    "f1": LESS_THAN,
    "f2": LESS_THAN,
}


@dataclass(frozen=True)
class ModelQualityAttributes:
    ground_truth_attribute: str
    probability_attribute: str | None = None
    inference_attribute: str | None = None
    probability_threshold: float = 0.5
    positive_label: str | None = None
    problem_type: str = BINARY_CLASSIFICATION

    def validate(self) -> None:
        if self.problem_type != BINARY_CLASSIFICATION:
            raise MonitorInputError(
                f"problem type {self.problem_type!r} is not supported; this analyzer does {BINARY_CLASSIFICATION}"
            )
        if not self.ground_truth_attribute:
            raise MonitorInputError("model quality needs ground_truth_attribute (the label column)")
        if not (self.probability_attribute or self.inference_attribute):
            raise MonitorInputError("model quality needs probability_attribute or inference_attribute")
        if not (math.isfinite(self.probability_threshold) and 0.0 <= self.probability_threshold <= 1.0):
            raise MonitorInputError(f"probability threshold must be within [0, 1], got {self.probability_threshold}")


def read_predictions(
    dataset: str | os.PathLike, fmt: DatasetFormat, attributes: ModelQualityAttributes
) -> tuple[np.ndarray, np.ndarray]:
    """(labels 0/1, probabilities) from the dataset's label and probability (or prediction) columns."""
    attributes.validate()
    score_column = attributes.probability_attribute or attributes.inference_attribute
    labels, scores = [], []
    for batch in read_dataset(dataset, fmt):
        labels.append(_labels(batch, attributes.ground_truth_attribute, attributes.positive_label))
        scores.append(_numbers(batch, score_column))
    if not labels or not sum(len(x) for x in labels):
        raise MonitorInputError(f"{dataset} has no data rows")
    return np.concatenate(labels), np.concatenate(scores)


def statistics_document(labels: np.ndarray, probabilities: np.ndarray, threshold: float) -> dict:
    from processing.metrics import binary_classification_metrics

    metrics = binary_classification_metrics(labels, probabilities, threshold)
    return {"version": 0.0, "dataset": {"item_count": len(labels)}, "binary_classification_metrics": metrics}


def constraints_document(statistics: dict) -> dict:
    metrics = statistics["binary_classification_metrics"]
    constraints = {}
    for name, operator in CONSTRAINED_METRICS.items():
        value = metrics.get(name, {}).get("value")
        if isinstance(value, float) and math.isfinite(value):
            constraints[name] = {"threshold": value, "comparison_operator": operator}
    return {"version": 0.0, "binary_classification_constraints": constraints}


def suggest_model_quality_baseline(
    dataset: str | os.PathLike, fmt: DatasetFormat, output_dir: str | os.PathLike, attributes: ModelQualityAttributes
) -> BaselineResult:
    """statistics.json (binary_classification_metrics) and constraints.json in output_dir."""
    labels, probabilities = read_predictions(dataset, fmt, attributes)
    statistics = statistics_document(labels, probabilities, attributes.probability_threshold)
    files = write_documents(output_dir, {STATISTICS: statistics, CONSTRAINTS: constraints_document(statistics)})
    return BaselineResult(len(labels), 1, files)


def _column(batch: Batch, name: str):
    if name not in batch.columns:
        shown = ", ".join(list(batch.columns)[:8])
        raise MonitorInputError(f"column {name!r} is not in the dataset (its columns: {shown})")
    return batch[name]


def _numbers(batch: Batch, name: str) -> np.ndarray:
    column = _column(batch, name)
    if not column.valid.all():
        raise MonitorInputError(f"column {name!r} has missing values")
    if column.kind != TEXT:
        return np.asarray(column.values, dtype=np.float64)
    values = []
    for i, text in enumerate(column.values.to_pylist()):
        try:
            values.append(float(text))
        except ValueError:
            raise MonitorInputError(
                f"column {name!r} holds {text[:20]!r} (row {i + 1} of a batch), not a number"
            ) from None
    array = np.array(values, dtype=np.float64)
    if not np.isfinite(array).all():
        raise MonitorInputError(f"column {name!r} holds a value that is not a finite number")
    return array


def _labels(batch: Batch, name: str, positive_label: str | None) -> np.ndarray:
    column = _column(batch, name)
    if not column.valid.all():
        raise MonitorInputError(f"label column {name!r} has missing values")
    if positive_label is not None:
        texts = column.strings().to_pylist()
        return np.array([same_label(t, positive_label) for t in texts], dtype=np.int64)
    values = _numbers(batch, name)
    if not np.isin(values, (0.0, 1.0)).all():
        bad = values[~np.isin(values, (0.0, 1.0))][0]
        raise MonitorInputError(f"label column {name!r} holds {bad!r}; labels must be 0 or 1 (or set positive_label)")
    return values.astype(np.int64)


def same_label(text: str, positive: str) -> int:
    """1 when a label cell names the positive class (as text, or as the same number), else 0."""
    if text == positive:
        return 1
    try:
        return int(float(text) == float(positive))
    except ValueError:
        return 0
