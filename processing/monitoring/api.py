"""The engine's entry points as plain functions, for the CLI, the job entry and other callers.

    suggest_baseline(dataset, DatasetFormat("csv", header=True), output_dir)
        → statistics.json + constraints.json (data quality)
    profile_dataset(dataset, fmt) → DatasetProfile (no files)

Model-quality baselines and the checks live in `model_quality.py` and `checks/`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .constraints import MonitoringConfig, constraints_document
from .errors import MonitorInputError
from .outputs import CONSTRAINTS, STATISTICS, write_documents
from .profile import DatasetProfile, profile_batches
from .readers import DatasetFormat, read_dataset
from .statistics import statistics_document


@dataclass(frozen=True)
class BaselineResult:
    item_count: int
    features: int
    files: list[Path]


def profile_dataset(dataset: str | os.PathLike, fmt: DatasetFormat, threads: int | None = None) -> DatasetProfile:
    """Every column's statistics, in one streaming pass over the dataset."""
    profile = profile_batches(read_dataset(dataset, fmt), threads)
    if profile.item_count == 0:
        raise MonitorInputError(f"{dataset} has no data rows")
    return profile


def suggest_baseline(
    dataset: str | os.PathLike,
    fmt: DatasetFormat,
    output_dir: str | os.PathLike,
    config: MonitoringConfig | None = None,
    threads: int | None = None,
) -> BaselineResult:
    """Model Monitor's data-quality baseline: statistics.json and constraints.json in output_dir."""
    profile = profile_dataset(dataset, fmt, threads)
    documents = {
        STATISTICS: statistics_document(profile),
        CONSTRAINTS: constraints_document(profile, config),
    }
    files = write_documents(output_dir, documents)
    return BaselineResult(profile.item_count, len(profile.columns), files)
