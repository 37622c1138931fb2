"""The rest-json protocol on its own (A2I's model): operations by method and path template, inputs from
URI labels, the query string and the body, outputs and errors in the form botocore parses; and the real
A2I runtime answers any body or path below 500."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging

import pytest
from botocore.parsers import RestJSONParser
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from offline.aws.a2i.errors import ConflictException
from offline.aws.errors import NotImplementedByLocalRuntime, SerializationException
from offline.aws.protocols import Context
from offline.aws.protocols.rest_json import RestJsonProtocol
from offline.aws.runtime import LocalAWS
from offline.aws.shapes import service_model
from offline.aws.wire import Headers, Request

MODEL = service_model("sagemaker-a2i-runtime")
PROTOCOL = RestJsonProtocol(MODEL)
CTX = Context("us-east-1", "123456789012", "req-1")
FLOW = "arn:aws:sagemaker:us-east-1:123456789012:flow-definition/f"


def _request(method: str, path: str, body: bytes = b"", headers: dict | None = None) -> Request:
    return Request(method, f"http://127.0.0.1:1{path}", Headers(headers or {}), io.BytesIO(body), len(body))


@pytest.mark.parametrize(
    ("method", "path", "operation"),
    [
        ("POST", "/human-loops", "StartHumanLoop"),
        ("POST", "/human-loops/stop", "StopHumanLoop"),  # a literal path beats the label template
        ("GET", "/human-loops", "ListHumanLoops"),
        ("GET", "/human-loops/", "ListHumanLoops"),
        ("GET", "/human-loops/my-loop", "DescribeHumanLoop"),
        ("GET", "/human-loops/stop", "DescribeHumanLoop"),  # GET of a loop named "stop"
        ("DELETE", "/human-loops/my-loop", "DeleteHumanLoop"),
    ],
)
def test_operations_come_from_method_and_path_templates(method, path, operation):
    assert PROTOCOL.operation(_request(method, path)) == operation


@pytest.mark.parametrize(("method", "path"), [("PUT", "/human-loops"), ("GET", "/other"), ("DELETE", "/human-loops")])
def test_a_request_no_template_fits_is_not_implemented(method, path):
    with pytest.raises(NotImplementedByLocalRuntime) as e:
        PROTOCOL.operation(_request(method, path))
    assert e.value.status == 501 and f"{method} {path}" in e.value.message


def test_inputs_come_from_labels_query_and_body():
    op = MODEL.operation_model("DescribeHumanLoop")
    assert PROTOCOL.parse(_request("GET", "/human-loops/a%2Db"), op) == {"HumanLoopName": "a-b"}
    op = MODEL.operation_model("ListHumanLoops")
    query = (
        f"/human-loops?FlowDefinitionArn={FLOW}&SortOrder=Ascending&MaxResults=5&CreationTimeAfter=2024-02-01T00:00:00Z"
    )
    params = PROTOCOL.parse(_request("GET", query), op)
    assert params["MaxResults"] == 5 and params["SortOrder"] == "Ascending" and params["FlowDefinitionArn"] == FLOW
    assert params["CreationTimeAfter"] == dt.datetime(2024, 2, 1, tzinfo=dt.timezone.utc)
    op = MODEL.operation_model("StartHumanLoop")
    body = json.dumps({"HumanLoopName": "l", "HumanLoopInput": {"InputContent": "{}"}, "Extra": 1}).encode()
    params = PROTOCOL.parse(_request("POST", "/human-loops", body), op)
    assert params == {"HumanLoopName": "l", "HumanLoopInput": {"InputContent": "{}"}, "Extra": 1}  # Extra: validation's


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        ("/human-loops?MaxResults=ten", b"", "Invalid value 'ten' for a integer"),
        ("/human-loops", b"[1]", "Request body must be a JSON object"),
        ("/human-loops", b"{", "Request body is not valid JSON"),
        ("/human-loops", b"\xff{}", "Request body is not UTF-8"),
    ],
)
def test_malformed_inputs_are_serialization_exceptions(path, body, message):
    method = "GET" if "MaxResults" in path else "POST"
    op = MODEL.operation_model("ListHumanLoops" if method == "GET" else "StartHumanLoop")
    with pytest.raises(SerializationException) as e:
        PROTOCOL.parse(_request(method, path, body), op)
    assert message in e.value.message and e.value.status == 400


def test_outputs_are_parsed_by_botocore_as_aws_sends_them():
    op = MODEL.operation_model("DescribeHumanLoop")
    created = dt.datetime(2021, 2, 17, 19, 20, 38, 354000, tzinfo=dt.timezone.utc)
    response = PROTOCOL.serialize(
        op,
        {
            "CreationTime": created.timestamp(),
            "HumanLoopStatus": "InProgress",
            "HumanLoopName": "l",
            "FailureCode": None,
        },
        CTX,
    )
    body = json.loads(response.body)
    assert body["CreationTime"] == "2021-02-17T19:20:38.354Z"  # the model's timestampFormat: iso8601
    assert "FailureCode" not in body
    parsed = RestJSONParser().parse(_botocore(response), op.output_shape)
    assert parsed["CreationTime"] == created and parsed["HumanLoopName"] == "l"
    empty = PROTOCOL.serialize(MODEL.operation_model("StopHumanLoop"), {}, CTX)
    assert (empty.status, empty.body, empty.headers["content-length"]) == (200, b"", "0")


def test_errors_carry_the_models_status_and_botocore_reads_their_code():
    op = MODEL.operation_model("StartHumanLoop")
    response = PROTOCOL.serialize_error(ConflictException("same name, other input"), CTX)
    assert response.status == 409 and response.headers["x-amzn-ErrorType"] == "ConflictException"
    parsed = RestJSONParser().parse(_botocore(response), op.output_shape)
    assert parsed["Error"] == {"Code": "ConflictException", "Message": "same name, other input"}


def _botocore(response) -> dict:
    return {"status_code": response.status, "headers": dict(response.headers), "body": response.body}


# -- the real service, any input ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def runtime(tmp_path_factory):
    return LocalAWS(tmp_path_factory.mktemp("home"))


SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=30), st.just(FLOW)
)
KEYS = st.sampled_from(["HumanLoopName", "FlowDefinitionArn", "HumanLoopInput", "InputContent", "DataAttributes"])
BODIES = st.dictionaries(
    KEYS | st.text(max_size=6),
    st.recursive(
        SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=3), max_leaves=8
    ),
    max_size=4,
)
PATHS = st.sampled_from(["/human-loops", "/human-loops/stop", "/human-loops/x", "/human-loops/%00", "/human-loops/A_b"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(method=st.sampled_from(["GET", "POST", "DELETE", "PUT"]), path=PATHS, body=BODIES, query=st.text(max_size=20))
def test_any_request_gets_an_answer_below_500(runtime, caplog, method, path, body, query):
    caplog.set_level(logging.ERROR)
    request = _request(method, f"{path}?{query}", json.dumps(body).encode())
    response = runtime.handle(request, service="sagemaker-a2i-runtime")
    assert response.status < 500 or response.status == 501, response.body
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
