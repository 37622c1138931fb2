"""constraint_violations.json (FORMATS.md §2.4 and §4.6) and the wording of each violation.

The data-quality descriptions are AWS's, verbatim from real monitoring executions
(../shared/reference/model-monitor-more/violations-wording, notebook-outputs/mm_intro_*):
data_type_check, completeness_check, categorical_values_check, baseline_drift_check, and the one
`Missing columns` / `Extra columns` violation. docs/monitoring.md lists which wording is still a
guess (model quality's).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..javanum import java_double

DATA_TYPE, COMPLETENESS, DRIFT = "data_type_check", "completeness_check", "baseline_drift_check"
MISSING_COLUMN, EXTRA_COLUMN, CATEGORICAL = "missing_column_check", "extra_column_check", "categorical_values_check"


@dataclass(frozen=True)
class Violation:
    feature_name: str
    constraint_check_type: str
    description: str

    def document(self) -> dict:
        return {
            "feature_name": self.feature_name,
            "constraint_check_type": self.constraint_check_type,
            "description": self.description,
        }


@dataclass(frozen=True)
class MetricViolation:
    """A model-quality violation: AWS names the metric, and the check type is the operator."""

    metric_name: str
    constraint_check_type: str
    description: str

    def document(self) -> dict:
        return {
            "constraint_check_type": self.constraint_check_type,
            "description": self.description,
            "metric_name": self.metric_name,
        }


def violations_document(violations: list) -> dict:
    return {"violations": [v.document() for v in violations]}


def percent(fraction: float) -> str:
    return java_double(fraction * 100.0)


def data_type(feature: str, expected_type: str, threshold: float, observed: float) -> Violation:
    return Violation(
        feature,
        DATA_TYPE,
        f"Data type match requirement is not met. Expected data type: {expected_type}, "
        f"Expected match: {percent(threshold)}%. Observed: Only {percent(observed)}% of data is {expected_type}.",
    )


def completeness(feature: str, expected: float, observed: float) -> Violation:
    return Violation(
        feature,
        COMPLETENESS,
        f"Data completeness requirement is not met. Expected: {percent(expected)}%. Observed: Only {percent(observed)}%.",
    )


def drift(feature: str, distance: float, threshold: float) -> Violation:
    return Violation(
        feature,
        DRIFT,
        f"Baseline drift distance: {java_double(distance)} exceeds threshold: {java_double(threshold)}",
    )


def categorical(feature: str, threshold: float, observed: float) -> Violation:
    return Violation(
        feature,
        CATEGORICAL,
        f"Categorical value match requirement is not met. Expected match: {percent(threshold)}%. "
        f"Observed: {percent(observed)}% of the values match the known values.",
    )


def missing_columns(current: int, baseline: int) -> Violation:
    """One violation for every baseline feature the window lacks, as AWS reports them."""
    return Violation("Missing columns", MISSING_COLUMN, _column_count("missing", current, baseline))


def extra_columns(current: int, baseline: int) -> Violation:
    """One violation for every window column the baseline lacks."""
    return Violation("Extra columns", EXTRA_COLUMN, _column_count("extra", current, baseline))


def _column_count(kind: str, current: int, baseline: int) -> str:
    return (
        f"There are {kind} columns in current dataset. Number of columns in current dataset: {current}, "
        f"Number of columns in baseline constraints: {baseline}"
    )


def metric(name: str, value: float, operator: str, threshold: float) -> MetricViolation:
    return MetricViolation(
        name, operator, f"Metric {name} with {java_double(value)} was {operator} {java_double(threshold)}"
    )
