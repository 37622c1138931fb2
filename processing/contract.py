"""The data contract: one JSON file that says what the data is.

Preprocess, evaluate, the monitors and (through its own small reader) the inference handler all
read `data_contract.json`, so pointing the template at another binary-classification CSV means
editing that file, not the code (see docs/data-contract.md).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

CONTRACT_FILE = "data_contract.json"
CONTRACT_ENV = "MLOPS_DATA_CONTRACT"
DEFAULT_PATH = Path(__file__).resolve().with_name(CONTRACT_FILE)


class ContractError(ValueError):
    """The contract file, or data checked against it, is not what the contract says."""


@dataclass(frozen=True)
class Split:
    traffic_fraction: float
    test_fraction: float
    validation_fraction: float
    random_state: int


@dataclass(frozen=True)
class DataContract:
    dataset: str
    source: str
    label_column: str
    positive: str
    negative: str
    features: tuple[str, ...]
    decision_threshold: float
    review_lower: float
    review_upper: float
    split: Split

    def encode_labels(self, values: Iterable[object]) -> np.ndarray:
        """Map raw label values to the project's convention: 1 = positive class, 0 = negative.

        This is the only place a label convention is converted. Values are compared as text, so
        a CSV holding "malignant"/"benign", or 1/0 when the contract names "1"/"0", both work.
        """
        raw = [str(v).strip() for v in values]
        unknown = sorted({v for v in raw if v not in (self.positive, self.negative)})
        if unknown:
            shown = ", ".join(repr(v) for v in unknown[:5])
            raise ContractError(
                f"label column {self.label_column!r} holds values the contract does not name: {shown}; "
                f"expected {self.positive!r} (encoded 1) or {self.negative!r} (encoded 0)"
            )
        return np.array([1 if v == self.positive else 0 for v in raw], dtype=np.int64)

    def needs_review(self, probabilities: np.ndarray) -> np.ndarray:
        """Uncertain predictions go to human review: lower < p < upper (both bounds exclusive)."""
        p = np.asarray(probabilities, dtype=np.float64)
        return (p > self.review_lower) & (p < self.review_upper)


def contract_path(path: str | os.PathLike | None = None) -> Path:
    """The contract to use: an explicit path, else $MLOPS_DATA_CONTRACT, else the bundled file."""
    if path:
        return Path(path)
    if os.environ.get(CONTRACT_ENV):
        return Path(os.environ[CONTRACT_ENV])
    return DEFAULT_PATH


def load_contract(path: str | os.PathLike | None = None) -> DataContract:
    """Read and validate the contract; every problem is reported with the file's name."""
    file = contract_path(path)
    try:
        raw = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise ContractError(f"data contract not found: {file}") from e
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ContractError(f"data contract {file} is not valid JSON: {e}") from e
    try:
        return _parse(raw)
    except ContractError as e:
        raise ContractError(f"data contract {file}: {e}") from e


def _parse(raw: object) -> DataContract:
    if not isinstance(raw, dict):
        raise ContractError("the top level must be a JSON object")
    label = _field(raw, "label", dict)
    review = _field(raw, "review", dict)
    split = _field(raw, "split", dict)
    features = _field(raw, "features", list)
    if not features or not all(isinstance(f, str) and f for f in features):
        raise ContractError("'features' must be a non-empty list of column names")
    if len(set(features)) != len(features):
        raise ContractError("'features' lists a column twice")
    label_column = _field(label, "column", str)
    if label_column in features:
        raise ContractError(f"the label column {label_column!r} is also listed as a feature")
    positive, negative = str(_field(label, "positive", (str, int))), str(_field(label, "negative", (str, int)))
    if positive == negative:
        raise ContractError("'label.positive' and 'label.negative' must differ")
    lower, upper = _probability(review, "lower"), _probability(review, "upper")
    if not lower < upper:
        raise ContractError(f"'review.lower' ({lower}) must be below 'review.upper' ({upper})")
    parsed_split = Split(
        traffic_fraction=_fraction(split, "traffic_fraction"),
        test_fraction=_fraction(split, "test_fraction"),
        validation_fraction=_fraction(split, "validation_fraction"),
        random_state=_field(split, "random_state", int),
    )
    if parsed_split.test_fraction + parsed_split.validation_fraction >= 1:
        raise ContractError("'split.test_fraction' + 'split.validation_fraction' must be below 1")
    return DataContract(
        dataset=_field(raw, "dataset", str),
        source=str(raw.get("source", "")),
        label_column=label_column,
        positive=positive,
        negative=negative,
        features=tuple(features),
        decision_threshold=_probability(raw, "decision_threshold"),
        review_lower=lower,
        review_upper=upper,
        split=parsed_split,
    )


def _field(obj: dict, key: str, kind: type | tuple[type, ...]):
    if key not in obj:
        raise ContractError(f"missing {key!r}")
    value = obj[key]
    if isinstance(value, bool) or not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
        raise ContractError(f"{key!r} must be a {names}, not {type(value).__name__}")
    return value


def _probability(obj: dict, key: str) -> float:
    value = float(_field(obj, key, (int, float)))
    if not (math.isfinite(value) and 0 < value < 1):
        raise ContractError(f"{key!r} must lie strictly between 0 and 1, not {value}")
    return value


def _fraction(obj: dict, key: str) -> float:
    return _probability(obj, key)
