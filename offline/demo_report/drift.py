"""Per-feature drift of one window against its baseline, measured by the data-quality check's own code.

Both distances come from `processing.monitoring.checks.data_quality.drift_distance` on the baseline's and
the window's statistics.json (the KLL sketches the check compared): the raw L∞ distance (method Simple)
and the distance the check compares with the threshold (the baseline's `comparison_method`, Robust by
default: the raw distance minus the two-sample Kolmogorov–Smirnov critical value, floored at 0). For 114
rows against a few hundred training rows that correction is about 0.2, so a small window shows zeros
unless its shift is large; the raw distance beside it shows how far each feature actually moved.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from processing.monitoring.checks.data_quality import (
    Distribution,
    Settings,
    drift_distance,
    feature_settings,
    is_drifted,
)
from processing.monitoring.checks.drift import ROBUST, SIMPLE, robust
from processing.monitoring.checks.violations import DRIFT


@dataclass(frozen=True)
class FeatureDrift:
    column: str  # the baseline's column name (`_c3` in a header-less capture)
    label: str  # the data contract's name for it, when known
    raw: float | None  # L∞ distance of the two distributions
    corrected: float | None  # what the check compares with the threshold
    threshold: float | None
    flagged: bool  # the window's check reported baseline_drift_check for it
    over_threshold: bool  # the corrected distance exceeds the threshold (recomputed here)

    @property
    def name(self) -> str:
        return f"{self.label} ({self.column})" if self.label and self.label != self.column else self.column


def robust_correction(baseline_rows: int, window_rows: int) -> float | None:
    """What the Robust method subtracts from the raw distance for samples of these sizes (the check's rule)."""
    if baseline_rows <= 0 or window_rows <= 0:
        return None
    return 1.0 - robust(1.0, baseline_rows, window_rows, ROBUST)


def comparison_method(constraints: dict) -> str:
    return Settings.from_config(constraints.get("monitoring_config", {})).comparison_method


def window_drift(
    constraints: dict, baseline_statistics: dict, window_statistics: dict, flagged: set[str], labels: dict[str, str]
) -> list[FeatureDrift]:
    """Every baseline feature the window has, in the baseline's order; `flagged` holds the columns (or
    their contract names, compared without case and with `_` as a space) the check reported drifting."""
    settings = Settings.from_config(constraints.get("monitoring_config", {}))
    wanted = {_key(name) for name in flagged}
    baseline = {f.get("name"): f for f in baseline_statistics.get("features", []) if isinstance(f, dict)}
    window = {f.get("name"): f for f in window_statistics.get("features", []) if isinstance(f, dict)}
    rows = []
    for feature in constraints.get("features", []):
        column = feature.get("name")
        if column not in window:
            continue
        local = feature_settings(feature, settings)
        current = Distribution.of_statistics(window[column])
        corrected, threshold = drift_distance(baseline.get(column), current, local)
        chi_squared = not current.is_numeric and local.categorical_drift_method == "ChiSquared"
        raw = None if chi_squared else drift_distance(baseline.get(column), current, local, SIMPLE)[0]
        measured = corrected is not None and threshold is not None and not math.isnan(corrected)
        label = labels.get(column, "")
        rows.append(
            FeatureDrift(
                column=column,
                label=label,
                raw=_finite(raw),
                corrected=_finite(corrected),
                threshold=threshold,
                flagged=bool({_key(column), _key(label)} & wanted - {""}),
                over_threshold=measured and is_drifted(corrected, threshold, local, current.is_numeric),
            )
        )
    return rows


def drift_violations(violations: list) -> set[str]:
    """Feature names of the baseline_drift_check violations in a constraint_violations.json list."""
    return {
        str(v.get("feature_name"))
        for v in violations
        if isinstance(v, dict) and v.get("constraint_check_type") == DRIFT and v.get("feature_name") is not None
    }


def _key(name: str) -> str:
    """Names compare without case and with `_` as a space ("predicted_label" is "predicted label")."""
    return " ".join(name.replace("_", " ").lower().split()) if not name.startswith("_c") else name


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None
