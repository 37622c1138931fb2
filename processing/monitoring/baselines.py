"""The baseline files a check reads, validated before anything is judged.

A check trusts its baseline: read leniently, a malformed one turns monitoring off without a word
(`{"features": "nope"}` as statistics.json used to mean "no drift", exit 0). So every file is
checked against Model Monitor's schema first (its shape, the types of the keys the checks use, the
features or metrics it names), and a bad one stops the job with a message naming the file, the
feature and the key, as AWS's analyzer fails such a job. Keys the checks do not use are left alone
(older files carry `enable_comparisons`, newer ones `emit_metrics`).
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field

from ..metrics import F_SCORES, SCALARS
from .analyzers.datatype import BOOLEAN, FRACTIONAL, INTEGRAL, STRING, UNKNOWN
from .checks.model_quality import OPERATORS
from .errors import MonitorInputError
from .paths import local_path

INFERRED_TYPES = (INTEGRAL, FRACTIONAL, STRING, BOOLEAN, UNKNOWN)
FLAGS = ("Enabled", "Disabled")
CHOICES = {
    "evaluate_constraints": FLAGS,
    "emit_metrics": FLAGS,
    "perform_comparison": FLAGS,
    "comparison_method": ("Robust", "Simple"),
    "categorical_drift_method": ("LInfinity", "ChiSquared"),
}
THRESHOLDS = (
    "datatype_check_threshold",
    "domain_content_threshold",
    "comparison_threshold",
    "categorical_comparison_threshold",
)
BINARY_METRICS = (*SCALARS, "auc", *F_SCORES)
_OVERRIDE_KEYS = ("monitoringConfigOverrides", "monitoring_config_overrides")


@dataclass
class DataQualityBaseline:
    constraints: dict
    statistics: dict | None
    notes: list[str] = field(default_factory=list)


def load_document(path: str | os.PathLike, what: str) -> dict:
    """A JSON object from a local file; anything else is an error naming the file."""
    local = local_path(path, what)
    if local.is_dir():
        raise MonitorInputError(f"{what} {path} is a directory; give the JSON file itself")
    try:
        doc = json.loads(local.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MonitorInputError(f"{what} not found: {path}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise MonitorInputError(f"{what} {path} is not valid JSON: {e}") from None
    except RecursionError:
        raise MonitorInputError(f"{what} {path} nests JSON too deeply") from None
    except OSError as e:
        raise MonitorInputError(f"cannot read {what} {path}: {e.strerror or e}") from None
    if not isinstance(doc, dict):
        raise MonitorInputError(f"{what} {path} is not a JSON object")
    return doc


def load_data_quality_baseline(
    constraints_path: str | os.PathLike, statistics_path: str | os.PathLike | None
) -> DataQualityBaseline:
    """The baseline's constraints (and statistics, when given), each validated."""
    constraints = load_document(constraints_path, "baseline constraints")
    validate_data_quality_constraints(constraints, f"baseline constraints {constraints_path}")
    if statistics_path is None:
        return DataQualityBaseline(constraints, None)
    statistics = load_document(statistics_path, "baseline statistics")
    where = f"baseline statistics {statistics_path}"
    validate_statistics(statistics, where)
    return DataQualityBaseline(constraints, statistics, _coverage(constraints, statistics, where))


def load_model_quality_constraints(path: str | os.PathLike) -> dict:
    constraints = load_document(path, "baseline constraints")
    validate_model_quality_constraints(constraints, f"baseline constraints {path}")
    return constraints


def validate_data_quality_constraints(doc: dict, where: str) -> None:
    """constraints.json of a data-quality baseline (FORMATS.md §2.3)."""
    if "features" not in doc:
        kind = _model_quality_kind(doc)
        hint = f": it holds {kind}, a model-quality baseline's" if kind else ""
        raise MonitorInputError(f"{where} has no 'features' list{hint}")
    features = _features(doc, where)
    if "dataset" in doc or any("numerical_statistics" in f or "string_statistics" in f for f in features):
        raise MonitorInputError(f"{where} is a statistics.json (it has per-feature statistics), not a constraints.json")
    _config(doc.get("monitoring_config", {}), f"{where}: monitoring_config")
    for feature in features:
        at = f"{where}: feature {feature['name']!r}"
        completeness = feature.get("completeness")
        if completeness is not None and not _fraction(completeness):
            raise MonitorInputError(f"{at}: completeness must be a number within [0, 1], got {completeness!r}")
        _object(feature, "num_constraints", at)
        strings = _object(feature, "string_constraints", at)
        domains = strings.get("domains")
        if domains is not None and (
            not isinstance(domains, list) or any(isinstance(d, (dict, list)) or d is None for d in domains)
        ):
            raise MonitorInputError(f"{at}: string_constraints.domains must be a list of values")
        for key in _OVERRIDE_KEYS:
            _config(_object(feature, key, at), f"{at}: {key}")
        _config(_object(strings, "monitoring_config_overrides", at), f"{at}: string_constraints")


def validate_statistics(doc: dict, where: str) -> None:
    """statistics.json of a data-quality baseline (FORMATS.md §2.2), as far as the checks read it."""
    if "features" not in doc:
        if "binary_classification_metrics" in doc:
            raise MonitorInputError(f"{where} holds model-quality metrics, not a data-quality baseline's statistics")
        raise MonitorInputError(f"{where} has no 'features' list")
    features = _features(doc, where)
    if "monitoring_config" in doc or not any("numerical_statistics" in f or "string_statistics" in f for f in features):
        raise MonitorInputError(f"{where} is a constraints.json (no per-feature statistics), not a statistics.json")
    for feature in features:
        at = f"{where}: feature {feature['name']!r}"
        numeric = _object(feature, "numerical_statistics", at)
        strings = _object(feature, "string_statistics", at)
        if not numeric and not strings:
            raise MonitorInputError(f"{at} has neither numerical_statistics nor string_statistics")
        sketch = _path(numeric, ("distribution", "kll", "sketch"), f"{at}: numerical_statistics")
        if sketch:
            _sketch(sketch, f"{at}: numerical_statistics.distribution.kll.sketch")
        buckets = _path(strings, ("distribution", "categorical"), f"{at}: string_statistics").get("buckets")
        if buckets is not None:
            _buckets(buckets, f"{at}: string_statistics.distribution.categorical.buckets")


def validate_model_quality_constraints(doc: dict, where: str) -> None:
    """constraints.json of a binary-classification model-quality baseline (FORMATS.md §4.5)."""
    rules = doc.get("binary_classification_constraints")
    if rules is None:
        if "features" in doc:
            raise MonitorInputError(f"{where} is a data-quality baseline's constraints, not a model-quality one")
        kind = _model_quality_kind(doc)
        if kind:
            raise MonitorInputError(f"{where} holds {kind}; this analyzer checks BinaryClassification only")
        raise MonitorInputError(f"{where} holds no binary_classification_constraints")
    if not isinstance(rules, dict) or not rules:
        raise MonitorInputError(f"{where}: binary_classification_constraints must be a non-empty object")
    for name, rule in rules.items():
        at = f"{where}: constraint {name!r}"
        if name not in BINARY_METRICS:
            raise MonitorInputError(f"{at} names no binary-classification metric (known: {', '.join(BINARY_METRICS)})")
        if not isinstance(rule, dict):
            raise MonitorInputError(f"{at} must be an object with threshold and comparison_operator")
        if rule.get("comparison_operator") not in OPERATORS:
            raise MonitorInputError(
                f"{at} has an unknown comparison_operator {rule.get('comparison_operator')!r} "
                f"(known: {', '.join(OPERATORS)})"
            )
        if not _number(rule.get("threshold")):
            raise MonitorInputError(f"{at}: threshold must be a finite number, got {rule.get('threshold')!r}")


def _features(doc: dict, where: str) -> list[dict]:
    features = doc["features"]
    if not isinstance(features, list) or not features:
        raise MonitorInputError(f"{where}: 'features' must be a non-empty list, got {_show(features)}")
    seen: set[str] = set()
    for i, feature in enumerate(features):
        if not isinstance(feature, dict):
            raise MonitorInputError(f"{where}: features[{i}] must be an object, got {_show(feature)}")
        name = feature.get("name")
        if not isinstance(name, str) or not name:
            raise MonitorInputError(f"{where}: features[{i}] has no name")
        if name in seen:
            raise MonitorInputError(f"{where}: feature {name!r} appears twice")
        seen.add(name)
        if feature.get("inferred_type") not in INFERRED_TYPES:
            raise MonitorInputError(
                f"{where}: feature {name!r} has inferred_type {feature.get('inferred_type')!r}; "
                f"expected one of {', '.join(INFERRED_TYPES)}"
            )
    return features


def _config(config: object, where: str) -> None:
    """monitoring_config, or a feature's overrides: its own keys and distribution_constraints'."""
    if not isinstance(config, dict):
        raise MonitorInputError(f"{where} must be an object, got {_show(config)}")
    distribution = config.get("distribution_constraints", {})
    if not isinstance(distribution, dict):
        raise MonitorInputError(f"{where}: distribution_constraints must be an object, got {_show(distribution)}")
    for level, values in ((where, config), (f"{where}: distribution_constraints", distribution)):
        for key, allowed in CHOICES.items():
            if key in values and values[key] not in allowed:
                raise MonitorInputError(f"{level}: {key} must be one of {', '.join(allowed)}, got {values[key]!r}")
        for key in THRESHOLDS:
            if key in values and not _fraction(values[key]):
                raise MonitorInputError(f"{level}: {key} must be a number within [0, 1], got {values[key]!r}")


def _sketch(sketch: dict, where: str) -> None:
    params = sketch.get("parameters", {})
    if not isinstance(params, dict):
        raise MonitorInputError(f"{where}.parameters must be an object")
    if "k" in params and not (_number(params["k"]) and params["k"] >= 1):
        raise MonitorInputError(f"{where}.parameters.k must be a positive number, got {params['k']!r}")
    if "c" in params and not (_number(params["c"]) and 0 < params["c"] < 1):
        raise MonitorInputError(f"{where}.parameters.c must be a number within (0, 1), got {params['c']!r}")
    data = sketch.get("data")
    if data is not None and not (
        isinstance(data, list) and all(isinstance(level, list) and all(map(_number, level)) for level in data)
    ):
        raise MonitorInputError(f"{where}.data must be a list of lists of numbers")


def _buckets(buckets: object, where: str) -> None:
    if not isinstance(buckets, list):
        raise MonitorInputError(f"{where} must be a list, got {_show(buckets)}")
    for bucket in buckets:
        count = bucket.get("count") if isinstance(bucket, dict) else None
        if not isinstance(bucket, dict) or "value" not in bucket or not (_number(count) and count >= 0):
            raise MonitorInputError(f"{where}: each bucket needs a value and a count >= 0, got {_show(bucket)}")


def _coverage(constraints: dict, statistics: dict, where: str) -> list[str]:
    """Statistics of other features than the constraints' are the wrong file; a few missing, a note."""
    names = [f["name"] for f in constraints["features"]]
    described = {f["name"] for f in statistics["features"]}
    missing = [name for name in names if name not in described]
    if len(missing) == len(names):
        raise MonitorInputError(
            f"{where} describes none of the constraints' features ({', '.join(names[:5])}…): "
            "are the two files from the same baseline?"
        )
    if not missing:
        return []
    shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
    return [f"{where} has no statistics for {len(missing)} feature(s) ({shown}): no drift check for them"]


def _model_quality_kind(doc: dict) -> str | None:
    kinds = [k for k in doc if k.endswith("_constraints") or k.endswith("_metrics")]
    return kinds[0] if kinds else None


def _object(holder: dict, key: str, where: str) -> dict:
    value = holder.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise MonitorInputError(f"{where}: {key} must be an object, got {_show(value)}")
    return value


def _path(holder: dict, keys: tuple[str, ...], where: str) -> dict:
    """holder[k1][k2]… when each level is an object ({} when a level is absent)."""
    for i, key in enumerate(keys):
        holder = _object(holder, key, f"{where}.{'.'.join(keys[:i])}" if i else where)
    return holder


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _fraction(value: object) -> bool:
    return _number(value) and 0.0 <= value <= 1.0


def _show(value: object) -> str:
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 40 else text[:37] + "…"
