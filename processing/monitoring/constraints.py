"""constraints.json as Model Monitor suggests it (FORMATS.md §2.3), from a dataset profile.

Per feature: name, inferred type and completeness; numeric features `is_non_negative` (min >= 0);
String features with a histogram `domains` (their values in bucket order, without Deequ's
"NullValue" placeholder for missing cells). `monitoring_config` holds the analyzer's defaults, which
callers may override (comparison method, thresholds, categorical drift method).
"""

from __future__ import annotations

from dataclasses import dataclass

from .analyzers.datatype import BOOLEAN, STRING
from .analyzers.histogram import NULL_VALUE
from .profile import ColumnProfile, DatasetProfile

VERSION = 0.0
COMPARISON_METHODS = ("Simple", "Robust")
CATEGORICAL_DRIFT_METHODS = ("LInfinity", "ChiSquared")


@dataclass(frozen=True)
class MonitoringConfig:
    """The analyzer's defaults (its `analytics_input.py`), as written into constraints.json."""

    evaluate_constraints: str = "Enabled"
    emit_metrics: str = "Enabled"
    datatype_check_threshold: float = 1.0
    domain_content_threshold: float = 1.0
    perform_comparison: str = "Enabled"
    comparison_threshold: float = 0.1
    comparison_method: str = "Robust"
    categorical_comparison_threshold: float | None = None  # default: comparison_threshold
    categorical_drift_method: str = "LInfinity"

    def document(self) -> dict:
        categorical = self.categorical_comparison_threshold
        return {
            "evaluate_constraints": self.evaluate_constraints,
            "emit_metrics": self.emit_metrics,
            "datatype_check_threshold": float(self.datatype_check_threshold),
            "domain_content_threshold": float(self.domain_content_threshold),
            "distribution_constraints": {
                "perform_comparison": self.perform_comparison,
                "comparison_threshold": float(self.comparison_threshold),
                "comparison_method": self.comparison_method,
                "categorical_comparison_threshold": float(
                    self.comparison_threshold if categorical is None else categorical
                ),
                "categorical_drift_method": self.categorical_drift_method,
            },
        }


def constraints_document(profile: DatasetProfile, config: MonitoringConfig | None = None) -> dict:
    return {
        "version": VERSION,
        "features": [feature_constraints(column) for column in profile.columns],
        "monitoring_config": (config or MonitoringConfig()).document(),
    }


def feature_constraints(column: ColumnProfile) -> dict:
    feature: dict = {"name": column.name, "inferred_type": column.inferred_type, "completeness": column.completeness}
    if column.is_numeric and column.min is not None:
        feature["num_constraints"] = {"is_non_negative": column.min >= 0}
    elif column.inferred_type in (STRING, BOOLEAN) and column.histogram is not None:
        feature["string_constraints"] = {"domains": [v for v, _ in column.histogram if v != NULL_VALUE]}
    return feature
