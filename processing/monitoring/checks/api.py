"""Entry points of the checks, as plain functions for the CLI, the job, schedules and reports.

    run_data_quality_check(baseline_constraints=…, baseline_statistics=…, output_dir=…,
                           dataset=… and fmt=…   or   capture_uri=…, start=…, end=…)
    run_model_quality_check(baseline_constraints=…, output_dir=…, attributes=…,
                            dataset=… and fmt=…   or   capture_uri=…, ground_truth_uri=…, start=…, end=…)

Both return a CheckResult (status, violations, per-feature measurements, CloudWatch-shaped metrics,
what the capture reader skipped) and write Model Monitor's files into output_dir: the window's
statistics.json, constraint_violations.json, and the window's own suggested constraints.json (AWS's
monitoring executions leave all three; a QualityCheck step reads the calculated baseline from the
first and the last). A window without data writes nothing and returns status NoData.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ..baselines import load_data_quality_baseline, load_model_quality_constraints
from ..batch import Batch
from ..constraints import constraints_document
from ..errors import MonitorInputError
from ..model_quality import ModelQualityAttributes, read_predictions
from ..model_quality import constraints_document as mq_constraints
from ..model_quality import statistics_document as mq_statistics
from ..outputs import CONSTRAINTS, STATISTICS, VIOLATIONS, write_documents
from ..profile import profile_batches
from ..readers import DatasetFormat, read_dataset
from ..readers.capture import CaptureStats, read_capture
from ..statistics import statistics_document
from . import data_quality, model_quality
from .data_quality import FeatureResult
from .violations import violations_document

COMPLETED, WITH_VIOLATIONS, NO_DATA = "Completed", "CompletedWithViolations", "NoData"


@dataclass
class CheckResult:
    kind: str  # data-quality | model-quality
    status: str  # Completed | CompletedWithViolations | NoData
    item_count: int
    violations: list = field(default_factory=list)
    features: list[FeatureResult] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)  # CloudWatch metric name → value
    files: list[Path] = field(default_factory=list)
    capture: CaptureStats | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def message(self) -> str:
        """Model Monitor's exit message (`NoData: …` for an empty window, this engine's addition)."""
        if self.status == NO_DATA:
            return "NoData: Job completed with no data to analyze in the window."
        return completion_message(len(self.violations))


def completion_message(violations: int) -> str:
    """Model Monitor's exit message for a finished job (AWS's wording, from a real ExitMessage)."""
    if violations == 0:
        return "Completed: Job completed successfully with no violations."
    return f"CompletedWithViolations: Job completed successfully with {violations} violations."


def run_data_quality_check(
    *,
    baseline_constraints: str | os.PathLike,
    output_dir: str | os.PathLike,
    baseline_statistics: str | os.PathLike | None = None,
    dataset: str | os.PathLike | None = None,
    fmt: DatasetFormat | None = None,
    capture_uri: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    threads: int | None = None,
) -> CheckResult:
    """Profile the window and check it; writes statistics, constraints and constraint_violations."""
    baseline = load_data_quality_baseline(baseline_constraints, baseline_statistics)
    constraints, statistics = baseline.constraints, baseline.statistics
    batches, capture = _window(dataset, fmt, capture_uri, start, end)
    if capture_uri is not None or not (fmt or DatasetFormat()).has_names:
        batches = _by_position(batches, [feature["name"] for feature in constraints["features"]])
    profile = profile_batches(batches, threads, data_quality.domains_of(constraints))
    notes = baseline.notes + _capture_notes(capture)
    if profile.item_count == 0:
        return CheckResult("data-quality", NO_DATA, 0, capture=capture, notes=notes)
    violations, features = data_quality.check(profile, constraints, statistics)
    config = constraints.get("monitoring_config")
    documents = {
        STATISTICS: statistics_document(profile),
        CONSTRAINTS: _window_constraints(profile, config),
        VIOLATIONS: violations_document(violations),
    }
    files = write_documents(output_dir, documents)
    return CheckResult(
        "data-quality",
        WITH_VIOLATIONS if violations else COMPLETED,
        profile.item_count,
        violations,
        features,
        _data_metrics(profile, features),
        files,
        capture,
        notes,
    )


def run_model_quality_check(
    *,
    baseline_constraints: str | os.PathLike,
    output_dir: str | os.PathLike,
    attributes: ModelQualityAttributes,
    dataset: str | os.PathLike | None = None,
    fmt: DatasetFormat | None = None,
    capture_uri: str | None = None,
    ground_truth_uri: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> CheckResult:
    """Metrics of the window (captured predictions merged with ground truth, or a scored dataset)."""
    constraints = load_model_quality_constraints(baseline_constraints)
    notes: list[str] = []
    capture = None
    if capture_uri is not None:
        if not ground_truth_uri:
            raise MonitorInputError("a model-quality check of captured data needs the ground-truth location")
        merge = model_quality.MergeStats()
        labels, probabilities = model_quality.merged_predictions(
            capture_uri, ground_truth_uri, start, end, attributes, merge
        )
        capture = merge.capture
        notes = _capture_notes(capture) + _merge_notes(merge)
    else:
        if dataset is None:
            raise MonitorInputError("give a dataset or a capture location")
        labels, probabilities = read_predictions(dataset, fmt or DatasetFormat(), attributes)
    if len(labels) == 0:
        return CheckResult("model-quality", NO_DATA, 0, capture=capture, notes=notes)
    statistics = mq_statistics(labels, probabilities, attributes.probability_threshold)
    violations = model_quality.check(statistics, constraints)
    documents = {
        STATISTICS: statistics,
        CONSTRAINTS: mq_constraints(statistics),
        VIOLATIONS: violations_document(violations),
    }
    files = write_documents(output_dir, documents)
    metrics = {
        name: value["value"]
        for name, value in statistics["binary_classification_metrics"].items()
        if isinstance(value, dict) and isinstance(value.get("value"), float)
    }
    status = WITH_VIOLATIONS if violations else COMPLETED
    return CheckResult("model-quality", status, len(labels), violations, [], metrics, files, capture, notes)


def _window(dataset, fmt, capture_uri, start, end):
    if (dataset is None) == (capture_uri is None):
        raise MonitorInputError("give either a dataset or a capture location, not both")
    if capture_uri is not None:
        if start and end and start >= end:
            raise MonitorInputError(f"the window's start ({start.isoformat()}) is not before its end")
        capture = CaptureStats()
        return read_capture(capture_uri, start, end, capture), capture
    return read_dataset(dataset, fmt or DatasetFormat()), None


def _by_position(batches: Iterable[Batch], names: list[str]) -> Iterator[Batch]:
    """A header-less window's columns (`_c0`, `_c1`, …) under the baseline's feature names, by position,
    as Model Monitor reads captured data ("Using baseline columns: …"); columns beyond the baseline's
    keep their positional name, so they show as extra columns."""
    taken = set(names)
    for batch in batches:
        mapping = {}
        for position, name in enumerate(batch.columns):
            if position < len(names):
                mapping[name] = names[position]
            elif name in taken:  # a baseline feature called `_cN`: keep the extra column apart from it
                mapping[name] = f"{name}_extra"
        yield batch.renamed(mapping)


def _window_constraints(profile, config) -> dict:
    from ..constraints import MonitoringConfig

    document = constraints_document(profile, MonitoringConfig())
    if isinstance(config, dict):
        document["monitoring_config"] = config  # keep the baseline's settings, as the window was judged
    return document


def _data_metrics(profile, features: list[FeatureResult]) -> dict[str, float]:
    """Model Monitor's data-quality CloudWatch metrics (feature_non_null_, feature_baseline_drift_)."""
    metrics: dict[str, float] = {}
    for feature in features:
        metrics[f"feature_non_null_{feature.name}"] = feature.completeness
        if feature.drift is not None:
            metrics[f"feature_baseline_drift_{feature.name}"] = feature.drift
    for column in profile.columns:
        if column.is_numeric and column.sum is not None:
            metrics[f"feature_data_{column.name}"] = column.mean
    return metrics


def _capture_notes(capture: CaptureStats | None) -> list[str]:
    if capture is None:
        return []
    if not capture.files_at_location:
        return ["the capture location holds no capture files (*.jsonl) at all, in any hour"]
    if not capture.malformed:
        return []
    reasons = ", ".join(f"{n} {why}" for why, n in sorted(capture.reasons.items()))
    return [f"skipped {capture.malformed} capture line(s) that could not be used ({reasons})"]


def _merge_notes(merge: model_quality.MergeStats) -> list[str]:
    notes = [f"{merge.matched_rows} of {merge.captured_rows} captured rows have ground truth"]
    if merge.malformed_ground_truth:
        notes.append(f"skipped {merge.malformed_ground_truth} ground-truth record(s) that could not be used")
    if merge.unusable_predictions:
        notes.append(f"skipped {merge.unusable_predictions} captured record(s) without a usable prediction")
    return notes
