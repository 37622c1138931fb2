"""What the monitoring report shows, gathered from the schedules' records and Model Monitor's files."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from offline.monitoring.schedules import DATA_QUALITY, MODEL_QUALITY, Execution, Schedule, ScheduleStore
from offline.store import ObjectStore


@dataclass
class FeatureRow:
    column: str  # the capture's column name (_c3 ...)
    label: str  # the data contract's name for it, when known
    distance: float | None
    threshold: float
    baseline_completeness: float | None
    completeness: float | None
    violations: list[str] = field(default_factory=list)

    @property
    def drifted(self) -> bool:
        return self.distance is not None and self.distance > self.threshold


@dataclass
class ReportData:
    endpoint: str
    generated_at: str
    executions: list[Execution]
    data_quality: Execution | None = None
    features: list[FeatureRow] = field(default_factory=list)
    model_quality: Execution | None = None
    model_metrics: dict = field(default_factory=dict)  # binary_classification_metrics of the window
    model_thresholds: dict = field(default_factory=dict)  # metric -> (threshold, operator)
    probabilities: list[float] = field(default_factory=list)
    review_lower: float = 0.1
    review_upper: float = 0.9
    drift_method: str = "Robust"  # the baseline's comparison_method


def collect(endpoint: str, schedules: ScheduleStore, store: ObjectStore, generated_at: str) -> ReportData:
    """The report of an endpoint: every execution, the latest data- and model-quality windows."""
    from processing.contract import load_contract

    contract = load_contract()
    mine = schedules.list(endpoint)
    if not mine:
        raise LookupError(f"no monitoring schedule for endpoint {endpoint!r}: run `mlops monitor schedule` first")
    executions = schedules.executions(endpoint=endpoint)
    data = ReportData(
        endpoint, generated_at, executions, review_lower=contract.review_lower, review_upper=contract.review_upper
    )
    by_name = {s.name: s for s in mine}
    for kind in (DATA_QUALITY, MODEL_QUALITY):
        latest = _latest(executions, by_name, kind)
        if latest is None:
            continue
        schedule = by_name[latest.schedule]
        if kind == DATA_QUALITY:
            data.data_quality = latest
            data.features = _features(schedule, latest, schedules, store, contract.features)
            config = _json(store, schedule.baseline_constraints).get("monitoring_config", {})
            data.drift_method = config.get("distribution_constraints", {}).get("comparison_method", "Robust")
        else:
            data.model_quality = latest
            data.model_metrics, data.model_thresholds = _model_quality(schedule, latest, store)
    data.probabilities = _probabilities(mine, executions, store)
    return data


def _latest(executions: list[Execution], schedules: dict[str, Schedule], kind: str) -> Execution | None:
    candidates = [e for e in executions if schedules[e.schedule].kind == kind and e.report_uri]
    return candidates[-1] if candidates else None


def _features(schedule, execution, schedules, store, names) -> list[FeatureRow]:
    constraints = _json(store, schedule.baseline_constraints)
    config = constraints.get("monitoring_config", {}).get("distribution_constraints", {})
    threshold = float(config.get("comparison_threshold", 0.1))
    metrics = schedules.metrics(execution.schedule, execution.window_start)
    by_feature: dict[str, list[str]] = {}
    for violation in execution.violations:
        by_feature.setdefault(violation.get("feature_name", ""), []).append(violation["constraint_check_type"])
    rows = []
    features = constraints.get("features", [])
    labels = column_labels([f["name"] for f in features], names)
    for feature, label in zip(features, labels, strict=True):
        column = feature["name"]
        rows.append(
            FeatureRow(
                column=column,
                label=label,
                distance=metrics.get(f"feature_baseline_drift_{column}"),
                threshold=threshold,
                baseline_completeness=feature.get("completeness"),
                completeness=metrics.get(f"feature_non_null_{column}"),
                violations=by_feature.get(column, []),
            )
        )
    return rows


OUTPUT_LABELS = ("probability", "predicted label", "needs review")  # the handler's answer, in its CSV order


def column_labels(columns: list[str], features: Sequence[str]) -> list[str]:
    """The data contract's name of each baseline column ("" when unknown): header-less captures name their
    columns `_c0…` by position, the endpoint's output columns first, then the contract's features."""
    offset = len(columns) - len(features)  # the endpoint's output columns come first
    labels = []
    for index, column in enumerate(columns):
        label = features[index - offset] if 0 <= index - offset < len(features) and column.startswith("_c") else ""
        if not label and 0 <= index < min(offset, len(OUTPUT_LABELS)):
            label = OUTPUT_LABELS[index]
        labels.append(label)
    return labels


def _model_quality(schedule, execution, store) -> tuple[dict, dict]:
    statistics = _json(store, f"{execution.report_uri}/statistics.json")
    constraints = _json(store, schedule.baseline_constraints).get("binary_classification_constraints", {})
    thresholds = {name: (c.get("threshold"), c.get("comparison_operator")) for name, c in constraints.items()}
    return statistics.get("binary_classification_metrics", {}), thresholds


def _probabilities(schedules: list[Schedule], executions: list[Execution], store: ObjectStore) -> list[float]:
    """The first output column of every captured answer in the windows the report covers."""
    from processing.monitoring.readers.capture import CaptureStats, read_records

    data_quality = [s for s in schedules if s.kind == DATA_QUALITY] or schedules
    windows = [e for e in executions if e.schedule in {s.name for s in data_quality}]
    if not windows:
        return []
    start = datetime.fromisoformat(windows[0].window_start.replace("Z", "+00:00"))
    end = datetime.fromisoformat(windows[-1].window_end.replace("Z", "+00:00"))
    schedule = data_quality[0]
    root = store.path(f"{schedule.capture_uri.rstrip('/')}/{schedule.endpoint}")
    values = []
    for record in read_records(root, start, end, CaptureStats()):
        for row in record.outputs:
            try:
                value = float(row[0]) if row and row[0] is not None else math.nan
            except ValueError:
                continue
            if math.isfinite(value):
                values.append(value)
    return values


def _json(store: ObjectStore, uri: str) -> dict:
    try:
        return json.loads(store.get_bytes(uri))
    except (FileNotFoundError, json.JSONDecodeError):
        return {}
