import json

import pytest

from processing.monitoring import jackson

pytestmark = pytest.mark.image


def test_layout_of_objects_arrays_and_empties():
    doc = {"version": 0.0, "a": [], "b": {}, "c": [1, 2.5], "d": [{"x": 1}, {"y": [[1.0], []]}], "e": "NaN"}
    assert jackson.dumps(doc) == (
        '{\n  "version" : 0.0,\n  "a" : [ ],\n  "b" : { },\n  "c" : [ 1, 2.5 ],\n'
        '  "d" : [ {\n    "x" : 1\n  }, {\n    "y" : [ [ 1.0 ], [ ] ]\n  } ],\n  "e" : "NaN"\n}'
    )


def test_strings_escape_like_jackson():
    assert (
        jackson.dumps(['a"b\\c', "tab\there", "\x01", "Zürich"])
        == '[ "a\\"b\\\\c", "tab\\there", "\\u0001", "Zürich" ]'
    )


def test_non_finite_floats_are_quoted():
    assert jackson.dumps({"v": float("nan"), "w": float("inf")}) == '{\n  "v" : "NaN",\n  "w" : "Infinity"\n}'


def test_reproduces_aws_files(aai540, sdk_pair):
    for path in (aai540 / "statistics.json", aai540 / "constraints.json", sdk_pair["statistics"]):
        raw = path.read_text(encoding="utf-8")
        assert jackson.dumps(json.loads(raw)) == raw


def test_arrays_of_doubles_in_and_out_of_the_plain_range():
    assert jackson.dumps([0.5, 2048.0]) == "[ 0.5, 2048.0 ]"
    assert jackson.dumps([0.5, 1e7, -0.0]) == "[ 0.5, 1.0E7, -0.0 ]"
    assert jackson.dumps([1.5, float("nan")]) == '[ 1.5, "NaN" ]'
