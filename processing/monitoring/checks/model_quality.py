"""Model-quality checks: a window's metrics against the baseline's binary-classification constraints,
and the merge of captured predictions with ground truth (FORMATS.md §4).

A captured record is joined with the ground-truth record whose `eventMetadata.eventId` equals the
capture's inferenceId when it has one, else its eventId (AWS's rule). Ground truth `data` holds one
label per predicted row: CSV lines, or JSON (`{"instances": [{"label": 1}, …]}`, a list, or one
value). Predictions come from the captured output: `probability_attribute` / `inference_attribute`
name a column index for CSV output ("0") or a key of each prediction for JSON output ("score").
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np

from ..errors import MonitorInputError
from ..model_quality import ModelQualityAttributes, same_label
from ..paths import local_path
from ..readers.capture import CapturedRecord, CaptureStats, capture_root, read_records
from ..readers.jsonl import parse_line
from . import violations as v

OPERATORS = {
    "LessThanThreshold": lambda value, threshold: value < threshold,
    "GreaterThanThreshold": lambda value, threshold: value > threshold,
    "LessThanOrEqualToThreshold": lambda value, threshold: value <= threshold,
    "GreaterThanOrEqualToThreshold": lambda value, threshold: value >= threshold,
}


def check(statistics: dict, constraints: dict) -> list[v.MetricViolation]:
    """Violations of the window's binary_classification_metrics against the baseline constraints
    (validated: baselines.validate_model_quality_constraints)."""
    metrics = statistics.get("binary_classification_metrics", {})
    found = []
    for name, rule in constraints["binary_classification_constraints"].items():
        operator, threshold = rule["comparison_operator"], rule["threshold"]
        value = metrics.get(name, {}).get("value")
        if not isinstance(value, (int, float)) or math.isnan(value):
            continue  # e.g. auc of a window holding one class only
        if OPERATORS[operator](float(value), float(threshold)):
            found.append(v.metric(name, float(value), operator, float(threshold)))
    return found


@dataclass
class MergeStats:
    captured_rows: int = 0
    matched_rows: int = 0
    ground_truth_records: int = 0
    malformed_ground_truth: int = 0
    unusable_predictions: int = 0
    capture: CaptureStats = field(default_factory=CaptureStats)


def merged_predictions(
    capture_uri: str,
    ground_truth_uri: str,
    start: datetime | None,
    end: datetime | None,
    attributes: ModelQualityAttributes,
    stats: MergeStats,
) -> tuple[np.ndarray, np.ndarray]:
    """(labels, probabilities) of the window's captured rows that have ground truth."""
    attributes.validate()
    predictions: dict[str, list[float]] = {}
    for record in read_records(capture_root(capture_uri), start, end, stats.capture):
        scores = _scores(record, attributes)
        stats.captured_rows += len(record.outputs)
        if scores is None:
            stats.unusable_predictions += 1
            continue
        predictions.setdefault(record.merge_key, []).extend(scores)
    labels, probabilities = [], []
    for key, truth in _ground_truth(local_path(ground_truth_uri, "ground truth"), set(predictions), attributes, stats):
        scores = predictions.pop(key)
        if len(truth) != len(scores):
            stats.malformed_ground_truth += 1
            continue
        labels.extend(truth)
        probabilities.extend(scores)
    stats.matched_rows = len(labels)
    return np.array(labels, dtype=np.int64), np.array(probabilities, dtype=np.float64)


def _scores(record: CapturedRecord, attributes: ModelQualityAttributes) -> list[float] | None:
    """P(positive) per row (or the predicted label when there is no probability attribute)."""
    attribute = attributes.probability_attribute or attributes.inference_attribute
    scores = []
    for row in record.outputs:
        cell = _pick(row, attribute, record)
        try:
            value = float(cell) if cell is not None else math.nan
        except ValueError:
            return None
        if not math.isfinite(value):
            return None
        scores.append(value)
    return scores


def _pick(row: list[str | None], attribute: str, record: CapturedRecord) -> str | None:
    """The cell an attribute names: a column index ("0") or, for JSON responses, a key ("score",
    also written as a path such as "predictions[*].score")."""
    if attribute.isdigit():
        index = int(attribute)
        return row[index] if index < len(row) else None
    key = attribute.replace("$.", "").split(".")[-1]
    if key in record.output_keys:
        index = record.output_keys.index(key)
        return row[index] if index < len(row) else None
    raise MonitorInputError(
        f"attribute {attribute!r} names no output column: give the column's index (e.g. '0') for CSV output "
        "or a key of the JSON predictions"
    )


def _ground_truth(
    root: Path, wanted: set[str], attributes: ModelQualityAttributes, stats: MergeStats
) -> Iterable[tuple[str, list[int]]]:
    if not root.exists():
        raise MonitorInputError(f"ground truth not found: {root}")
    files = [root] if root.is_file() else sorted(root.rglob("*.jsonl"))
    for path in files:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                if not line.strip():
                    continue
                parsed = _ground_truth_record(line, attributes)
                if parsed is None:
                    stats.malformed_ground_truth += 1
                    continue
                stats.ground_truth_records += 1
                key, labels = parsed
                if key in wanted:
                    wanted.discard(key)
                    yield key, labels


def _ground_truth_record(line: str, attributes: ModelQualityAttributes) -> tuple[str, list[int]] | None:
    """(event id, labels) of one ground-truth line; None for a line that cannot be used (counted)."""
    try:
        return _parse_ground_truth(line, attributes)
    except RecursionError:  # JSON nested deeper than the parser goes: unusable like any malformed line
        return None


def _parse_ground_truth(line: str, attributes: ModelQualityAttributes) -> tuple[str, list[int]] | None:
    try:
        doc = json.loads(line)
        key = str(doc["eventMetadata"]["eventId"])
        data = doc["groundTruthData"]
        encoding = str(data.get("encoding", "CSV")).upper()
        raw = data["data"]
    except (json.JSONDecodeError, KeyError, TypeError, AttributeError):
        return None
    try:
        values = _label_values(raw, encoding)
        return key, [_label(value, attributes.positive_label) for value in values]
    except ValueError:
        return None


def _label_values(raw: object, encoding: str) -> list[str]:
    if encoding == "JSON":
        doc = parse_line(raw) if isinstance(raw, str) else raw
        if isinstance(doc, dict):
            doc = doc.get("instances", doc.get("labels", [doc]))
        if not isinstance(doc, list):
            doc = [doc]
        return [str(next(iter(item.values())) if isinstance(item, dict) else item) for item in doc]
    return [line.split(",")[0].strip() for line in str(raw).splitlines() if line.strip()]


def _label(text: str, positive: str | None) -> int:
    if positive is not None:
        return same_label(text, positive)
    value = float(text)
    if value not in (0.0, 1.0):
        raise ValueError(text)
    return int(value)
