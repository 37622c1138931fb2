"""The forms the portal reads: URL-encoded fields within limits, and crowd-form's taskAnswers."""

from __future__ import annotations

import json

import pytest

from review.portal.forms import MAX_FIELDS, FormError, parse_form, parse_task_answers

FORM = "application/x-www-form-urlencoded"


def test_a_form_is_read_as_single_fields():
    assert parse_form(FORM + "; charset=UTF-8", b"a=1&b=%C3%A9&c=") == {"a": "1", "b": "é", "c": ""}


@pytest.mark.parametrize(
    ("content_type", "body", "status", "message"),
    [
        ("application/json", b"{}", 415, FORM),
        (None, b"a=1", 415, FORM),
        (FORM, b"a=%FF", 400, "not UTF-8"),
        (FORM, b"a=1&a=2", 400, "repeats the field 'a'"),
        (FORM, "&".join(f"f{i}=1" for i in range(MAX_FIELDS + 1)).encode(), 400, "more than 64 fields"),
        (FORM, b"a=" + b"x" * (4 * 1024 * 1024), 413, "larger than 4 MiB"),
    ],
)
def test_bad_forms_are_refused_with_their_status(content_type, body, status, message):
    with pytest.raises(FormError, match=message) as raised:
        parse_form(content_type, body)
    assert raised.value.status == status


def test_task_answers_are_an_array_of_one_object():
    answer = {"label-positive": {"1": True}, "reason": "é"}
    assert parse_task_answers(json.dumps([answer])) == answer
    for text, message in (
        (None, "no taskAnswers"),
        (" ", "no taskAnswers"),
        ("{}", "array holding one object"),
        ("[]", "array holding one object"),
        ("[{}, {}]", "array holding one object"),
        ('["x"]', "array holding one object"),
        ("[{", "not JSON"),
        ("[" + '{"a":' * 70 + "1" + "}" * 70 + "]", "nests deeper than 64"),
        ('[{"a": NaN}]', "not JSON: NaN"),
    ):
        with pytest.raises(FormError, match=message):
            parse_task_answers(text)
