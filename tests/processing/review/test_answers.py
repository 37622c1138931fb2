"""The one parser of answerContent: this project's template, what other crowd elements submit, and answers
that decide nothing (None, never a guess)."""

from __future__ import annotations

import pytest

from processing.review.answers import answer_content, parse_agreement, parse_label, parse_reason, parse_review
from processing.review.task_input import LabelClass, LabelSpec

pytestmark = pytest.mark.image

SPEC = LabelSpec("diagnosis", LabelClass(1, "malignant"), LabelClass(0, "benign"))
TASK = {"predictedLabel": 1, "label": SPEC.as_json()}


@pytest.mark.parametrize(
    ("content", "label"),
    [
        # this project's template (crowd-radio-button: every button, checked or not)
        ({"label-positive": {"1": True}, "label-negative": {"0": False}}, 1),
        ({"label-positive": {"1": False}, "label-negative": {"0": True}}, 0),
        ({"label-positive": {"1": False}, "label-negative": {"0": False}}, None),  # nothing chosen
        ({"label-positive": {"1": True}, "label-negative": {"0": True}}, None),  # both: undecided
        ({"label-positive": {"7": True}}, None),  # not a class value
        ({"label-positive": {"1": "true"}}, None),  # only JSON true is checked
        # crowd-classifier, its multi-select, a radio group named label, plain inputs
        ({"label": {"label": "1"}}, 1),
        ({"label": {"label": "benign"}}, 0),
        ({"label": {"label": "Malignant "}}, 1),
        ({"label": {"labels": ["0"]}}, 0),
        ({"label": {"labels": ["0", "1"]}}, None),
        ({"label": {"labels": []}}, None),
        ({"label": {"0": False, "1": True}}, 1),
        ({"label": "0"}, 0),
        ({"label": 1}, 1),
        ({"label": 2}, None),
        ({"label": True}, None),
        ({"label": "maybe"}, None),
        ({"label": 1.0}, None),
        ({}, None),
        ([], None),
        ("1", None),
        (None, None),
    ],
)
def test_parse_label(content, label):
    assert parse_label(content, SPEC) == label


def test_class_names_need_the_label_spec():
    assert parse_label({"label": {"label": "malignant"}}) is None
    assert parse_label({"label": {"label": "malignant"}}, SPEC) == 1


@pytest.mark.parametrize(
    ("content", "agrees"),
    [
        ({"agree": {"agree": True}, "disagree": {"disagree": False}}, True),
        ({"agree": {"agree": False}, "disagree": {"disagree": True}}, False),
        ({"agree": {"agree": True}, "disagree": {"disagree": True}}, None),
        ({"agree": {"agree": False}, "disagree": {"disagree": False}}, None),
        ({"rating1": "agree"}, None),
        ({"agreement": "Disagree"}, False),
        ({"rating": "agree"}, True),
        ({}, None),
        (["agree"], None),
    ],
)
def test_parse_agreement(content, agrees):
    assert parse_agreement(content) is agrees


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ({"reason": "  big nuclei "}, "big nuclei"),
        ({"reason": "   "}, None),
        ({"reason": 3}, None),
        ({}, None),
        (None, None),
    ],
)
def test_parse_reason(content, reason):
    assert parse_reason(content) == reason


def test_answer_content_is_what_the_template_submits_and_reads_back():
    content = answer_content(0, TASK, "smooth margins")
    assert content == {
        "label-positive": {"1": False},
        "label-negative": {"0": True},
        "agree": {"agree": False},
        "disagree": {"disagree": True},
        "reason": "smooth margins",
    }
    assert parse_review(content, SPEC) == parse_review(content)
    said = parse_review(content)
    assert (said.label, said.agrees, said.reason) == (0, False, "smooth margins")
    assert answer_content(1, TASK)["reason"] == ""


@pytest.mark.parametrize(
    ("label", "task", "message"),
    [
        (2, TASK, "label must be 0 or 1"),
        (True, TASK, "label must be 0 or 1"),
        (1, {"label": SPEC.as_json()}, "no predictedLabel"),
        (1, {"predictedLabel": 1}, "'label' must be an object"),
        (1, {"predictedLabel": 1, "label": {"name": "d", "positive": {"value": 0, "name": "x"}}}, "'label.positive'"),
    ],
)
def test_answer_content_refuses_what_the_template_cannot_submit(label, task, message):
    with pytest.raises(ValueError, match=message):
        answer_content(label, task)
