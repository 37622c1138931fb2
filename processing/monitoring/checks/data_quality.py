"""The six data-quality checks of a window's profile against baseline constraints and statistics.

Per baseline feature present in the window (unless its `evaluate_constraints` is Disabled):

- data_type_check: share of present values of the baseline's type < datatype_check_threshold.
  Integral values count as Fractional ones (a whole number is a valid double; Deequ's "Numeric");
  a String feature counts only the values that are neither numbers nor booleans (AWS reports
  "Only 0.0% of data is String" for numbers in a String feature).
- completeness_check: window completeness < the feature's baseline `completeness`.
- categorical_values_check: String features with `domains`: share of present values inside the
  domain < domain_content_threshold.
- baseline_drift_check (with baseline statistics and perform_comparison Enabled, when the window's
  inferred type is the baseline's: AWS's DistanceGenerator skips a column whose types differ):
  numeric KLL distance > comparison_threshold; String features with categorical buckets on both
  sides: L∞ distance > categorical_comparison_threshold, or for ChiSquared a p-value below it.

Then one missing_column_check when baseline features are absent from the window and one
extra_column_check when the window has columns the baseline lacks. Per-feature
`monitoringConfigOverrides` (AWS's documented key) or `monitoring_config_overrides` (what the SDK's
Constraints.set_monitoring writes) override the global `monitoring_config`. The baseline files are
validated before they get here (baselines.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..analyzers.datatype import BOOLEAN, FRACTIONAL, INTEGRAL, STRING
from ..kll import KLLSketch
from ..profile import NUMERIC_TYPES, ColumnProfile, DatasetProfile
from . import violations as v
from .drift import ROBUST, categorical_chi_squared, categorical_linf, numeric_distance

ENABLED = "Enabled"


@dataclass(frozen=True)
class Settings:
    evaluate_constraints: bool = True
    datatype_check_threshold: float = 1.0
    domain_content_threshold: float = 1.0
    perform_comparison: bool = True
    comparison_threshold: float = 0.1
    comparison_method: str = ROBUST
    categorical_comparison_threshold: float = 0.1
    categorical_drift_method: str = "LInfinity"

    @classmethod
    def from_config(cls, config: dict, base: Settings | None = None) -> Settings:
        base = base or cls()
        dist = config.get("distribution_constraints", {}) if isinstance(config, dict) else {}
        merged = {**config, **dist} if isinstance(config, dict) else {}
        threshold = float(merged.get("comparison_threshold", base.comparison_threshold))
        categorical_default = threshold if "comparison_threshold" in merged else base.categorical_comparison_threshold
        return cls(
            evaluate_constraints=str(merged.get("evaluate_constraints", _flag(base.evaluate_constraints))) == ENABLED,
            datatype_check_threshold=float(merged.get("datatype_check_threshold", base.datatype_check_threshold)),
            domain_content_threshold=float(merged.get("domain_content_threshold", base.domain_content_threshold)),
            perform_comparison=str(merged.get("perform_comparison", _flag(base.perform_comparison))) == ENABLED,
            comparison_threshold=threshold,
            comparison_method=str(merged.get("comparison_method", base.comparison_method)),
            categorical_comparison_threshold=float(merged.get("categorical_comparison_threshold", categorical_default)),
            categorical_drift_method=str(merged.get("categorical_drift_method", base.categorical_drift_method)),
        )


def _flag(enabled: bool) -> str:
    return ENABLED if enabled else "Disabled"


@dataclass(frozen=True)
class FeatureResult:
    """What the checks measured for one feature (for reports and CloudWatch metrics)."""

    name: str
    completeness: float
    drift: float | None = None
    drift_threshold: float | None = None


def check(
    window: DatasetProfile, constraints: dict, statistics: dict | None = None
) -> tuple[list[v.Violation], list[FeatureResult]]:
    """Violations of the window against the baseline, and per-feature measurements."""
    settings = Settings.from_config(constraints.get("monitoring_config", {}))
    baseline_features = constraints["features"]
    baseline_stats = {f["name"]: f for f in (statistics or {}).get("features", [])}
    current = {column.name: column for column in window.columns}
    found: list[v.Violation] = []
    results: list[FeatureResult] = []
    for feature in baseline_features:
        column = current.get(feature["name"])
        if column is None:
            continue
        local = feature_settings(feature, settings)
        distance, threshold = _drift(column, baseline_stats.get(feature["name"]), local)
        results.append(FeatureResult(column.name, column.completeness, distance, threshold))
        if settings.evaluate_constraints and local.evaluate_constraints:
            found += _feature_violations(feature, column, local, distance, threshold)
    if settings.evaluate_constraints:
        names = {f["name"] for f in baseline_features}
        if not names <= current.keys():
            found.append(v.missing_columns(len(current), len(names)))
        if not current.keys() <= names:
            found.append(v.extra_columns(len(current), len(names)))
    return found, results


def feature_settings(feature: dict, settings: Settings) -> Settings:
    """A baseline feature's settings: the global ones with its overrides applied."""
    overrides = feature.get("monitoringConfigOverrides") or feature.get("monitoring_config_overrides") or {}
    return Settings.from_config(overrides, settings)


def domains_of(constraints: dict) -> dict[str, list[str]]:
    """The String features' baseline domains, for the profile's DomainCompliance analyzers."""
    out = {}
    for feature in constraints.get("features", []):
        domains = (feature.get("string_constraints") or {}).get("domains")
        if isinstance(domains, list) and feature.get("inferred_type") == STRING:
            out[feature["name"]] = [str(d) for d in domains]
    return out


def _feature_violations(
    feature: dict, column: ColumnProfile, s: Settings, distance: float | None, threshold: float | None
) -> list[v.Violation]:
    found = []
    expected_type = feature.get("inferred_type")
    match = _type_match(expected_type, column.type_counts)
    if match is not None and match < s.datatype_check_threshold:
        found.append(v.data_type(column.name, expected_type, s.datatype_check_threshold, match))
    expected_completeness = feature.get("completeness")
    if isinstance(expected_completeness, (int, float)) and column.completeness < float(expected_completeness):
        found.append(v.completeness(column.name, float(expected_completeness), column.completeness))
    measured = distance is not None and threshold is not None and not math.isnan(distance)
    if measured and is_drifted(distance, threshold, s, column.is_numeric):
        found.append(v.drift(column.name, distance, threshold))
    in_domain = column.domain_match
    if in_domain is not None and not math.isnan(in_domain) and in_domain < s.domain_content_threshold:
        found.append(v.categorical(column.name, s.domain_content_threshold, in_domain))
    return found


def _type_match(expected: str | None, counts: tuple[int, int, int, int, int]) -> float | None:
    _, fractional, integral, boolean, string = counts
    present = fractional + integral + boolean + string
    if present == 0 or expected not in (FRACTIONAL, INTEGRAL, BOOLEAN, STRING):
        return None
    matching = {
        FRACTIONAL: fractional + integral,
        INTEGRAL: integral,
        BOOLEAN: boolean,
        STRING: string,
    }[expected]
    return matching / present


def is_drifted(distance: float, threshold: float, s: Settings, numeric: bool) -> bool:
    """Whether a measured distance fails baseline_drift_check."""
    if not numeric and s.categorical_drift_method == "ChiSquared":
        return distance < threshold  # a p-value: small means the distributions differ
    return distance > threshold


@dataclass(frozen=True)
class Distribution:
    """One side of a drift comparison: the inferred type, and the KLL sketch (numeric) or the category counts."""

    inferred_type: str | None
    sketch: KLLSketch | None = None
    counts: dict[str, int] | None = None

    @property
    def is_numeric(self) -> bool:
        return self.inferred_type in NUMERIC_TYPES

    @classmethod
    def of_column(cls, column: ColumnProfile) -> Distribution:
        sketch = None
        if column.is_numeric and column.kll is not None:
            sketch = KLLSketch.reconstruct(column.kll.k, column.kll.c, column.kll.data)
        counts = dict(column.histogram) if column.histogram is not None and not column.is_numeric else None
        return cls(column.inferred_type, sketch, counts)

    @classmethod
    def of_statistics(cls, feature: dict) -> Distribution:
        """A statistics.json feature (a baseline's or a window's)."""
        numeric = feature.get("numerical_statistics") or {}
        sketch = numeric.get("distribution", {}).get("kll", {}).get("sketch")
        reconstructed = None
        if sketch and sketch.get("data"):
            params = sketch.get("parameters", {})
            reconstructed = KLLSketch.reconstruct(params.get("k", 2048.0), params.get("c", 0.64), sketch["data"])
        strings = feature.get("string_statistics") or {}
        buckets = strings.get("distribution", {}).get("categorical", {}).get("buckets")
        counts = {str(b["value"]): int(b["count"]) for b in buckets} if buckets else None
        return cls(feature.get("inferred_type"), reconstructed, counts)


def drift_distance(
    baseline: dict | None, current: Distribution, s: Settings, method: str | None = None
) -> tuple[float | None, float | None]:
    """(distance, threshold) of a feature as baseline_drift_check measures it, or (None, None) when no
    comparison applies. `method` replaces the configured comparison method: Simple gives the raw L∞ distance
    before the Robust sample-size correction (reports show both)."""
    if baseline is None or not s.perform_comparison or baseline.get("inferred_type") != current.inferred_type:
        return None, None
    method = method or s.comparison_method
    if baseline.get("numerical_statistics") and current.is_numeric and current.sketch is not None:
        reference = Distribution.of_statistics(baseline).sketch
        if reference is None:
            return None, None
        return numeric_distance(reference, current.sketch, method), s.comparison_threshold
    reference_counts = Distribution.of_statistics(baseline).counts
    if reference_counts and current.counts is not None and not current.is_numeric:
        measure = categorical_chi_squared if s.categorical_drift_method == "ChiSquared" else categorical_linf
        return measure(reference_counts, current.counts, method), s.categorical_comparison_threshold
    return None, None


def _drift(column: ColumnProfile, baseline: dict | None, s: Settings) -> tuple[float | None, float | None]:
    """(distance, threshold) of the feature, or (None, None) when no comparison applies."""
    if baseline is None or not s.perform_comparison or baseline.get("inferred_type") != column.inferred_type:
        return None, None
    return drift_distance(baseline, Distribution.of_column(column), s)
