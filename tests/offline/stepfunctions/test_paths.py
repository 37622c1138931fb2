"""JSONPath in the States language and the intrinsic functions, as AWS evaluates them."""

from __future__ import annotations

import hashlib
import json
import re

import pytest

from offline.stepfunctions import intrinsics, paths
from offline.stepfunctions.errors import PathError, StatesError

DATA = {"a": {"b": [1, 2, 3]}, "name": "m", "Endpoint": {"EndpointStatus": "InService"}, "items": [{"v": 1}, {"v": 5}]}
CONTEXT = {"Execution": {"Input": {"ModelName": "model-1", "End point": "ep"}, "Id": "arn:x"}, "Task": {"Token": "tok"}}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$", DATA),
        ("$.a.b", [1, 2, 3]),
        ("$.a.b[1]", 2),
        ("$['Endpoint']['EndpointStatus']", "InService"),  # what step.output()["Endpoint"]["EndpointStatus"] renders
        ("$$.Execution.Input['ModelName']", "model-1"),  # what ExecutionInput placeholders render
        ("$$.Execution.Input['End point']", "ep"),
        ("$$.Task.Token", "tok"),
        ("$.a.b[*]", [1, 2, 3]),  # indefinite paths give lists
        ("$.items[?(@.v > 2)].v", [5]),
        ("$..v", [1, 5]),
        ("$.nothing[*]", []),
    ],
)
def test_select(path, expected):
    assert paths.select(path, DATA, CONTEXT) == expected


@pytest.mark.parametrize("path", ["$.missing", "$.a.b[7]", "$$.Execution.Nope", "a.b", "$.a["])
def test_select_missing_or_invalid_is_a_path_error(path):
    with pytest.raises(PathError):
        paths.select(path, DATA, CONTEXT)


def test_parsed_paths_are_cached():
    paths.compile_path.cache_clear()
    for _ in range(3):
        paths.select("$.a.b[0]", DATA)
    info = paths.compile_path.cache_info()
    assert (info.misses, info.hits) == (1, 2)


def test_result_path():
    assert paths.apply_result_path("$", DATA, 1) == 1
    assert paths.apply_result_path(None, {"k": 1}, 2) == {"k": 1}
    assert paths.apply_result_path("$.x.y", {"k": 1}, 2) == {"k": 1, "x": {"y": 2}}
    assert paths.apply_result_path("$['x']", {"k": 1}, 2) == {"k": 1, "x": 2}
    original = {"a": {"b": [0, 0]}}
    assert paths.apply_result_path("$.a.b[1]", original, 9) == {"a": {"b": [0, 9]}}
    assert original == {"a": {"b": [0, 0]}}  # the input is not modified
    with pytest.raises(StatesError) as failure:
        paths.apply_result_path("$.name.inner", DATA, 1)  # a string cannot hold a field
    assert failure.value.error == "States.ResultPathMatchFailure"
    with pytest.raises(PathError):
        paths.apply_result_path("$.a[*]", DATA, 1)  # not a reference path


def test_payload_template():
    template = {
        "static": {"n": 1},
        "dyn.$": "$.name",
        "list": [{"x.$": "$.a.b[0]"}, "plain"],
        "ctx.$": "$$.Execution.Id",
    }
    assert paths.payload(template, DATA, CONTEXT) == {
        "static": {"n": 1},
        "dyn": "m",
        "list": [{"x": 1}, "plain"],
        "ctx": "arn:x",
    }
    with pytest.raises(PathError, match="field 'dyn.\\$'"):
        paths.payload({"dyn.$": "$.missing"}, DATA, CONTEXT)


def ev(expression: str):
    return intrinsics.evaluate(expression, lambda path: paths.select(path, DATA, CONTEXT))


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("States.Format('endpoint {} is {}', $.name, $['Endpoint']['EndpointStatus'])", "endpoint m is InService"),
        ("States.Format('It\\'s {} \\{literal\\} \\\\ {}', 3, true)", "It's 3 {literal} \\ true"),
        ("States.Format('{}', $$.Execution.Input['ModelName'])", "model-1"),
        ("States.StringToJson('{\"k\": [1, 2]}')", {"k": [1, 2]}),
        ("States.JsonToString($.a)", '{"b":[1,2,3]}'),
        ("States.Array('a', 1, null, $.a.b[0])", ["a", 1, None, 1]),
        ("States.ArrayLength($.a.b)", 3),
        ("States.ArrayGetItem($.a.b, 2)", 3),
        ("States.ArrayContains($.a.b, 2)", True),
        ("States.ArrayRange(1, 9, 3)", [1, 4, 7]),
        ("States.ArrayPartition($.a.b, 2)", [[1, 2], [3]]),
        ("States.ArrayUnique(States.Array(1, 1, 'a', 'a'))", [1, "a"]),
        ("States.MathAdd($.a.b[2], -5)", -2),
        ("States.Base64Decode(States.Base64Encode('hé'))", "hé"),
        ("States.Hash('abc', 'SHA-256')", hashlib.sha256(b"abc").hexdigest()),
        (
            "States.JsonMerge($.Endpoint, States.StringToJson('{\"x\":1}'), false)",
            {"EndpointStatus": "InService", "x": 1},
        ),
        ("States.StringSplit('a,b;;c', ',;')", ["a", "b", "c"]),
        ("States.MathRandom(1, 2)", 1),
        ("States.Format('{}-{}', States.ArrayLength($.a.b), States.MathAdd(1, 2))", "3-3"),
    ],
)
def test_intrinsics(expression, expected):
    assert ev(expression) == expected


def test_uuid_is_fresh():
    first, second = ev("States.UUID()"), ev("States.UUID()")
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", first)
    assert first != second


@pytest.mark.parametrize(
    "expression",
    [
        "States.Format('{} {}', 1)",
        "States.Format('{}', 1, 2)",
        "States.Format($.name)",
        "States.ArrayGetItem($.a.b, 3)",
        "States.ArrayLength($.name)",
        "States.MathAdd('1', 2)",
        "States.StringToJson('{not json')",
        "States.Hash('x', 'SHA-3')",
        "States.Nope(1)",
        "States.Format('unterminated)",
        "States.Array(1,",
        "States.ArrayLength($.missing)",
        "States.JsonMerge($.Endpoint, $.Endpoint, true)",
    ],
)
def test_intrinsic_failures(expression):
    with pytest.raises(StatesError) as failure:
        ev(expression)
    assert failure.value.error == "States.IntrinsicFailure"


def test_intrinsic_failure_fails_the_execution(machines):
    definition = {
        "StartAt": "P",
        "States": {"P": {"Type": "Pass", "Parameters": {"n.$": "States.ArrayLength($.text)"}, "End": True}},
    }
    outcome = machines.run(definition, {"text": "not an array"})
    assert outcome.status == "FAILED"
    assert outcome.description["error"] == "States.IntrinsicFailure"


def test_intrinsics_in_an_execution(machines):
    definition = {
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Pass",
                "Parameters": {
                    "message.$": "States.Format('endpoint {} is {}', $$.Execution.Input['ModelName'], $.status)",
                    "body.$": "States.JsonToString($)",
                },
                "End": True,
            }
        },
    }
    data = {"ModelName": "m-1", "status": "InService"}
    output = machines.run(definition, data).output
    assert output == {"message": "endpoint m-1 is InService", "body": json.dumps(data, separators=(",", ":"))}
