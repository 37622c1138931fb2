"""constraint_violations.json (FORMATS.md §2.4 and §4.6) and the wording of each violation.

Only data_type_check's description is known verbatim from AWS's output; baseline_drift_check's keeps
the `distance: <d> exceeds threshold: <t>` part AWS's samples parse; the other wordings follow the
same pattern and are listed as guesses in docs/monitoring.md.
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
        f"Data completeness requirement is not met. Expected completeness: {percent(expected)}%. "
        f"Observed: Only {percent(observed)}% of data is present.",
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
        f"Categorical value requirement is not met. Expected match: {percent(threshold)}%. "
        f"Observed: Only {percent(observed)}% of data is within the baseline domain.",
    )


def missing_column(feature: str, current: int, baseline: int) -> Violation:
    return Violation(
        feature,
        MISSING_COLUMN,
        f"There are missing columns in current dataset. Number of columns in current dataset: {current}, "
        f"Number of columns in baseline constraints: {baseline}",
    )


def extra_column(feature: str, current: int, baseline: int) -> Violation:
    return Violation(
        feature,
        EXTRA_COLUMN,
        f"There are extra columns in current dataset. Number of columns in current dataset: {current}, "
        f"Number of columns in baseline constraints: {baseline}",
    )


def metric(name: str, value: float, operator: str, threshold: float) -> MetricViolation:
    return MetricViolation(
        name, operator, f"Metric {name} with {java_double(value)} was {operator} {java_double(threshold)}"
    )
