"""The review input: the JSON object one human loop carries as its InputContent (`task.input` in the task
template), built from the data contract so a swapped-in dataset needs no template change.

    {"endpoint": str, "eventId": str, "inferenceId": str | null, "inferenceTime": "…Z", "rowIndex": int,
     "rowCount": int (the request's rows; older inputs lack it), "reason": "review" | "audit",
     "probability": float, "predictedLabel": 0 | 1,
     "features": {name: number | null, …}  (the contract's order; null: missing),
     "label": {"name": str, "positive": {"value": 1, "name": str}, "negative": {"value": 0, "name": str}}}

This project's convention is fixed: the positive class is 1, the negative 0 (DESIGN §4).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from processing.contract import DataContract

POSITIVE, NEGATIVE = 1, 0
REASONS = ("review", "audit")


@dataclass(frozen=True)
class LabelClass:
    value: int
    name: str


@dataclass(frozen=True)
class LabelSpec:
    """The label's name and its two classes, as a review input states them."""

    name: str
    positive: LabelClass
    negative: LabelClass

    def name_of(self, value: int) -> str:
        return self.positive.name if value == self.positive.value else self.negative.name

    def as_json(self) -> dict:
        return {
            "name": self.name,
            "positive": {"value": self.positive.value, "name": self.positive.name},
            "negative": {"value": self.negative.value, "name": self.negative.name},
        }


def label_spec(contract: DataContract) -> LabelSpec:
    """The contract's label as review inputs state it (positive = 1, negative = 0)."""
    return LabelSpec(
        contract.label_column, LabelClass(POSITIVE, contract.positive), LabelClass(NEGATIVE, contract.negative)
    )


def build_review_input(
    contract: DataContract,
    *,
    endpoint: str,
    event_id: str,
    inference_id: str | None,
    inference_time: str,
    row_index: int,
    reason: str,
    probability: float,
    predicted_label: int,
    features: Sequence[float],
    row_count: int | None = None,
) -> dict[str, Any]:
    """One review input; `features` are the row's values in the contract's order; `row_count` the rows
    of the request (the collector needs every row's label to write a multi-row request's ground truth;
    None leaves `rowCount` out, as inputs made before it have it)."""
    if len(features) != len(contract.features):
        raise ValueError(
            f"the row has {len(features)} feature values; the data contract names {len(contract.features)}"
        )
    document = {
        "endpoint": endpoint,
        "eventId": event_id,
        "inferenceId": inference_id,
        "inferenceTime": inference_time,
        "rowIndex": row_index,
        "reason": reason,
        "probability": float(probability),
        "predictedLabel": int(predicted_label),
        "features": {name: _number_or_none(value) for name, value in zip(contract.features, features, strict=True)},
        "label": label_spec(contract).as_json(),
    }
    if row_count is not None:
        document["rowCount"] = row_count
    problems = review_input_problems(document)
    if problems:
        raise ValueError("; ".join(problems))
    return document


def review_input_problems(document: Any) -> list[str]:
    """What keeps `document` from being a review input (empty: it is one)."""
    if not isinstance(document, Mapping):
        return ["the review input must be a JSON object"]
    problems = []
    for key, kinds in (("endpoint", str), ("eventId", str), ("inferenceTime", str), ("rowIndex", int)):
        if not _is(document.get(key), kinds):
            problems.append(f"{key!r} must be a {kinds.__name__}")
    count = document.get("rowCount")
    if count is not None and (
        not _is(count, int) or not _is(document.get("rowIndex"), int) or count <= document["rowIndex"]
    ):
        problems.append("'rowCount' must be an integer above 'rowIndex' (or absent)")
    if document.get("inferenceId") is not None and not isinstance(document.get("inferenceId"), str):
        problems.append("'inferenceId' must be a string or null")
    if document.get("reason") not in REASONS:
        problems.append(f"'reason' must be one of {', '.join(REASONS)}")
    probability = document.get("probability")
    if not _is(probability, (int, float)) or not 0 <= probability <= 1:
        problems.append("'probability' must be a number from 0 to 1")
    if document.get("predictedLabel") not in (POSITIVE, NEGATIVE) or isinstance(document.get("predictedLabel"), bool):
        problems.append("'predictedLabel' must be 0 or 1")
    features = document.get("features")
    if not isinstance(features, Mapping) or not features:
        problems.append("'features' must be a non-empty object of name: number")
    elif not all(v is None or (_is(v, (int, float)) and math.isfinite(v)) for v in features.values()):
        problems.append("every feature value must be a finite number (or null: missing)")
    try:
        read_label_spec(document)
    except ValueError as e:
        problems.append(str(e))
    return problems


def read_label_spec(document: Mapping) -> LabelSpec:
    """The label spec a review input carries; ValueError if it has none (another template's input)."""
    label = document.get("label")
    if not isinstance(label, Mapping) or not isinstance(label.get("name"), str):
        raise ValueError("'label' must be an object with a 'name'")
    classes = []
    for which, value in (("positive", POSITIVE), ("negative", NEGATIVE)):
        entry = label.get(which)
        if not isinstance(entry, Mapping) or entry.get("value") != value or isinstance(entry.get("value"), bool):
            raise ValueError(f"'label.{which}' must be an object with 'value' {value}")
        if not isinstance(entry.get("name"), str) or not entry["name"]:
            raise ValueError(f"'label.{which}.name' must be a non-empty string")
        classes.append(LabelClass(value, entry["name"]))
    return LabelSpec(label["name"], *classes)


def _number_or_none(value: Any) -> float | None:
    """A feature value as JSON can hold it: missing (None, NaN) is null."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _is(value: Any, kinds: type | tuple[type, ...]) -> bool:
    return isinstance(value, kinds) and not isinstance(value, bool)
