"""What the demo report shows, gathered from `demo-summary.json` and the files it points at.

The summary says what ran; the object store holds what each step wrote (capture files, Model Monitor's
statistics.json and constraint_violations.json, the baselines). Missing or unreadable pieces become notes
on the page, never an exception: a report of a partial run still opens.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from offline.demo_report.drift import (
    FeatureDrift,
    comparison_method,
    drift_violations,
    robust_correction,
    window_drift,
)
from offline.monitoring.report_data import column_labels
from offline.store import ObjectStore, ObjectStoreError
from processing.monitoring.checks.drift import ROBUST

# The metrics shown first wherever two sets are compared; other numeric ones follow in the tables.
HEADLINE = ("accuracy", "precision", "recall", "f1", "auc")


@dataclass
class Window:
    name: str
    start: str
    end: str
    requests: int | None
    shifted: list[str]
    drift_features: list[str]
    violations: list[dict]
    report_uri: str
    prefix: str
    probabilities: list[float] = field(default_factory=list)
    features: list[FeatureDrift] = field(default_factory=list)
    method: str = "Robust"
    correction: float | None = None  # what the Robust method subtracts for this window's and the baseline's sizes
    notes: list[str] = field(default_factory=list)

    @property
    def flagged(self) -> list[FeatureDrift]:
        return [f for f in self.features if f.flagged]


@dataclass
class QualityWindow:
    window: str
    status: str
    items: int | None
    violations: list[dict]
    metrics: dict  # binary_classification_metrics of the window, {} when its statistics.json is unreadable
    note: str = ""


@dataclass
class ReportData:
    summary: dict
    review_lower: float
    review_upper: float
    windows: list[Window] | None  # None: the summary has no windows
    review: dict | None
    quality: list[QualityWindow] | None
    retrain: dict | None
    shadow: dict | None
    deploys: list[dict] | None
    notes: list[str] = field(default_factory=list)


def gather(home: Path, summary: dict) -> ReportData:
    from processing.contract import load_contract

    if not isinstance(summary, dict):
        raise TypeError(f"the demo summary must be a JSON object, not {type(summary).__name__}")
    contract = load_contract()
    store = ObjectStore.for_home(home)
    predictions = summary.get("predictions") if isinstance(summary.get("predictions"), dict) else {}
    data = ReportData(
        summary=summary,
        review_lower=_number(predictions.get("lower"), contract.review_lower),
        review_upper=_number(predictions.get("upper"), contract.review_upper),
        windows=None,
        review=_dict(summary, "human_review"),
        quality=None,
        retrain=_dict(summary, "retrain"),
        shadow=_dict(summary, "shadow"),
        deploys=_list(summary, "deploys"),
    )
    raw_windows = _list(summary, "windows")
    if raw_windows is not None:
        data.windows = [_window(store, w, i, contract.features) for i, w in enumerate(raw_windows, 1)]
        _read_probabilities(store, summary, data.windows, contract)
    monitoring = _list(summary, "monitoring")
    if monitoring is not None:
        found = [m for m in monitoring if isinstance(m, dict) and m.get("kind") == "model-quality"]
        data.quality = [_quality(store, m) for m in found] or None
    return data


def _window(store: ObjectStore, raw: object, number: int, features) -> Window:
    if not isinstance(raw, dict):
        raw = {}
    window = Window(
        name=str(raw.get("name") or f"window {number}"),
        start=str(raw.get("start", "")),
        end=str(raw.get("end", "")),
        requests=raw.get("requests") if isinstance(raw.get("requests"), int) else None,
        shifted=_strings(raw.get("shifted_features")),
        drift_features=_strings(raw.get("drift_features")),
        violations=[v for v in raw.get("violations") or [] if isinstance(v, dict)],
        report_uri=str(raw.get("report_uri") or "").rstrip("/"),
        prefix=str(raw.get("inference_id_prefix") or ""),
    )
    constraints = _json(store, raw.get("baseline_constraints_uri"), "the baseline's constraints.json", window.notes)
    baseline = _json(store, raw.get("baseline_statistics_uri"), "the baseline's statistics.json", window.notes)
    statistics, checked = {}, {}
    if window.report_uri:
        statistics = _json(store, f"{window.report_uri}/statistics.json", "the window's statistics.json", window.notes)
        checked = _json(store, f"{window.report_uri}/constraint_violations.json", "", [])
    else:
        window.notes.append("the summary gives no report location for this window")
    if constraints and baseline and statistics:
        columns = [f.get("name", "") for f in constraints.get("features", []) if isinstance(f, dict)]
        labels = dict(zip(columns, column_labels(columns, features), strict=True))
        flagged = drift_violations(checked.get("violations", []) if isinstance(checked, dict) else [])
        flagged |= drift_violations(window.violations) | set(window.drift_features)
        window.method = comparison_method(constraints)
        if window.method == ROBUST:
            window.correction = robust_correction(_rows(baseline), _rows(statistics))
        window.features = window_drift(constraints, baseline, statistics, flagged, labels)
    return window


def _read_probabilities(store: ObjectStore, summary: dict, windows: list[Window], contract) -> None:
    from offline.demo_report.predictions import probabilities_by_prefix

    endpoint = _dict(summary, "endpoint") or {}
    capture = endpoint.get("capture_uri")
    prefixes = [w.prefix for w in windows if w.prefix]
    for window in windows:
        if not window.prefix:
            window.notes.append("the summary gives no inference-id prefix for this window's predictions")
    if not prefixes:
        return
    try:
        root = store.path(str(capture).rstrip("/")) if capture else None
    except (ObjectStoreError, ValueError) as e:
        root = None
        windows[0].notes.append(f"the endpoint's capture location {capture!r} is not usable: {e}")
    if root is None or not root.exists():
        for window in windows:
            window.notes.append(f"no captured data at {capture or 'the endpoint capture location (not given)'}")
        return
    found = probabilities_by_prefix(root, prefixes, contract)
    for window in windows:
        window.probabilities = found.get(window.prefix, []) if window.prefix else []


def _quality(store: ObjectStore, raw: dict) -> QualityWindow:
    report_uri = str(raw.get("report_uri") or "").rstrip("/")
    notes: list[str] = []
    statistics = {}
    if report_uri:
        statistics = _json(store, f"{report_uri}/statistics.json", "the model-quality statistics.json", notes)
    metrics = statistics.get("binary_classification_metrics", {})
    return QualityWindow(
        window=str(raw.get("window", "")),
        status=str(raw.get("status", "")),
        items=raw.get("items") if isinstance(raw.get("items"), int) else None,
        violations=[v for v in raw.get("violations") or [] if isinstance(v, dict)],
        metrics=metrics if isinstance(metrics, dict) else {},
        note="; ".join(notes) if report_uri else "the summary gives no report location",
    )


def metric_values(metrics: object) -> dict[str, float]:
    """Name -> value of the scalar metrics of evaluation.json (its binary_classification_metrics, or the
    whole document) or of a plain {name: number} map, in their order; non-numbers are left out."""
    if not isinstance(metrics, dict):
        return {}
    inner = metrics.get("binary_classification_metrics")
    if isinstance(inner, dict):
        metrics = inner
    values = {}
    for name, value in metrics.items():
        if isinstance(value, dict):
            value = value.get("value")
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            values[str(name)] = float(value)
    return values


def ordered(names) -> list[str]:
    """Headline metrics first, then the others in their order."""
    names = list(dict.fromkeys(names))
    return [n for n in HEADLINE if n in names] + [n for n in names if n not in HEADLINE]


def _json(store: ObjectStore, uri: object, what: str, notes: list[str]) -> dict:
    if not uri:
        if what:
            notes.append(f"the summary does not say where {what} is")
        return {}
    try:
        document = json.loads(store.get_bytes(str(uri)))
    except (FileNotFoundError, ObjectStoreError, ValueError, OSError) as e:
        if what:
            notes.append(f"{what} could not be read at {uri}: {type(e).__name__}")
        return {}
    return document if isinstance(document, dict) else {}


def _rows(statistics: dict) -> int:
    count = (statistics.get("dataset") or {}).get("item_count")
    return count if isinstance(count, int) and not isinstance(count, bool) else 0


def _dict(summary: dict, key: str) -> dict | None:
    value = summary.get(key)
    return value if isinstance(value, dict) and value else None


def _list(summary: dict, key: str) -> list | None:
    value = summary.get(key)
    return value if isinstance(value, list) and value else None


def _strings(value: object) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def _number(value: object, default: float) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else default
