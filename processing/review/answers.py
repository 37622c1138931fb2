"""The one reader (and writer) of this project's answerContent: what the task template's crowd-form submits.

A2I stores, per worker, the object crowd-form submits (`taskAnswers[0]`). For the project's template
(`review/templates/human_review.liquid.html`) that is

    {"label-positive": {"1": true}, "label-negative": {"0": false},
     "agree": {"agree": false}, "disagree": {"disagree": true}, "reason": "…"}

(crowd-radio-button `name=n value=v` submits `{"n": {"v": checked}}` for every button; crowd-text-area
submits its text). The parser is defensive, since answers also come from other templates, the CLI's
`--answer-json` and older portals: it also reads a crowd-classifier's `{"label": {"label": "1"}}` (or the
class name, given the label spec), its multi-select `{"label": {"labels": ["1"]}}`, and a plain input's
`{"label": "1"}`. An answer it cannot decide (nothing chosen, both classes chosen, an unknown value) has no
label: `None`, never a guess.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from processing.review.task_input import NEGATIVE, POSITIVE, LabelSpec, read_label_spec

# The element names of the task template; tests render the template and check it uses exactly these.
LABEL_POSITIVE = "label-positive"
LABEL_NEGATIVE = "label-negative"
AGREE = "agree"
DISAGREE = "disagree"
REASON = "reason"
LABEL = "label"  # crowd-classifier / plain-input spellings read defensively
LABELS = (NEGATIVE, POSITIVE)


@dataclass(frozen=True)
class Review:
    """What one worker's answer says; each part None when the answer does not say it."""

    label: int | None
    agrees: bool | None
    reason: str | None


def parse_review(answer_content: Any, spec: LabelSpec | None = None) -> Review:
    return Review(parse_label(answer_content, spec), parse_agreement(answer_content), parse_reason(answer_content))


def parse_label(answer_content: Any, spec: LabelSpec | None = None) -> int | None:
    """The label (1 positive, 0 negative) a worker chose, or None when the answer does not decide one.

    `spec` (the loop input's label) lets class names stand for values (`"malignant"` -> 1).
    """
    if not isinstance(answer_content, Mapping):
        return None
    chosen = set()
    for name in (LABEL_POSITIVE, LABEL_NEGATIVE):
        chosen |= {_label_value(v, spec) for v in _checked(answer_content.get(name))}
    if chosen:
        return _only(chosen)
    value = answer_content.get(LABEL)
    if isinstance(value, Mapping):  # crowd-classifier: {"label": "x"} or {"labels": [...]}, or a radio group
        if "label" in value:
            return _label_value(value["label"], spec)
        if isinstance(value.get("labels"), list):
            return _only({_label_value(v, spec) for v in value["labels"]})
        return _only({_label_value(v, spec) for v in _checked(value)})
    return _label_value(value, spec)


def parse_agreement(answer_content: Any) -> bool | None:
    """True when the worker agreed with the model, False when not, None when the answer does not say."""
    if not isinstance(answer_content, Mapping):
        return None
    said = set()
    if AGREE in _checked(answer_content.get(AGREE)):
        said.add(True)
    if DISAGREE in _checked(answer_content.get(DISAGREE)):
        said.add(False)
    for name in ("agreement", "rating"):  # a plain radio input's spelling
        value = answer_content.get(name)
        if isinstance(value, str) and value.strip().lower() in (AGREE, DISAGREE):
            said.add(value.strip().lower() == AGREE)
    return said.pop() if len(said) == 1 else None


def parse_reason(answer_content: Any) -> str | None:
    """The worker's reason, stripped; None when absent or empty."""
    if not isinstance(answer_content, Mapping):
        return None
    value = answer_content.get(REASON)
    return value.strip() or None if isinstance(value, str) else None


def answer_content(label: int, task_input: Mapping, reason: str | None = None) -> dict[str, Any]:
    """The answerContent the project's task template submits when a worker picks `label` (0 or 1), the
    agreement that follows from the input's predicted label, and `reason`. ValueError for another input."""
    if label not in LABELS or isinstance(label, bool):
        raise ValueError(f"label must be 0 or 1, not {label!r}")
    read_label_spec(task_input)  # the template's buttons carry the input's class values
    predicted = task_input.get("predictedLabel")
    if predicted not in LABELS or isinstance(predicted, bool):
        raise ValueError("the review input has no predictedLabel of 0 or 1")
    agrees = label == predicted
    return {
        LABEL_POSITIVE: {str(POSITIVE): label == POSITIVE},
        LABEL_NEGATIVE: {str(NEGATIVE): label == NEGATIVE},
        AGREE: {AGREE: agrees},
        DISAGREE: {DISAGREE: not agrees},
        REASON: reason or "",
    }


def _checked(value: Any) -> list[str]:
    """The values a radio button or checkbox submitted as checked: `{"v": true}` -> ["v"]."""
    if not isinstance(value, Mapping):
        return []
    return [key for key, checked in value.items() if checked is True]


def _label_value(value: Any, spec: LabelSpec | None) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value in LABELS else None
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text in ("0", "1"):
        return int(text)
    if spec is not None:
        for cls in (spec.positive, spec.negative):
            if text.casefold() == cls.name.casefold():
                return cls.value
    return None


def _only(values: set[int | None]) -> int | None:
    return next(iter(values)) if len(values) == 1 else None
