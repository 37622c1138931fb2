"""The json protocol (SageMaker) on arbitrary bodies: every one gets an answer below 500 from the real
service and registry, and nothing is logged as a failure."""

from __future__ import annotations

import io
import json
import logging

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from offline.aws.protocols.json import MAX_JSON_DEPTH, load_json_object
from offline.aws.runtime import LocalAWS
from offline.aws.shapes import service_model
from offline.aws.wire import Headers, Request

MODEL = service_model("sagemaker")


@pytest.fixture(scope="module")
def runtime(tmp_path_factory):
    return LocalAWS(tmp_path_factory.mktemp("home"))


def _names(op: str) -> list[str]:
    shape = MODEL.operation_model(op).input_shape
    names = set(shape.members) if shape else set()
    for member in shape.members.values() if shape else []:
        inner = member.member if member.type_name == "list" else member
        if inner.type_name == "structure":
            names |= set(inner.members)
    return sorted(names)


SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.text(max_size=40),
    st.sampled_from(
        ["Approved", "g/1", "arn:aws:sagemaker:us-east-1:123456789012:model-package/g/1", "9" * 40, 2**70, 1e308]
    ),
)


def bodies(op: str):
    keys = st.sampled_from(_names(op) or ["X"]) | st.text(max_size=8)
    values = st.recursive(
        SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=4), max_leaves=12
    )
    return st.dictionaries(keys, values, max_size=5)


OPERATIONS = sorted(
    [
        "CreateModelPackageGroup",
        "DescribeModelPackageGroup",
        "ListModelPackageGroups",
        "DeleteModelPackageGroup",
        "CreateModelPackage",
        "DescribeModelPackage",
        "ListModelPackages",
        "UpdateModelPackage",
        "DeleteModelPackage",
        "AddTags",
        "ListTags",
        "DeleteTags",
    ]
)


@pytest.mark.parametrize("op", OPERATIONS)
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_json_body_gets_an_answer_below_500(runtime, caplog, op, data):
    body = json.dumps(data.draw(bodies(op))).encode()
    caplog.clear()
    request = Request("POST", "http://h/", Headers({"X-Amz-Target": f"SageMaker.{op}"}), io.BytesIO(body), len(body))
    response = runtime.handle(request)
    assert response.status < 500, response.body
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_json_depth_limit_admits_every_depth_up_to_it():
    nested: dict = {}
    inner = nested
    for _ in range(MAX_JSON_DEPTH - 1):
        inner["a"] = {}
        inner = inner["a"]
    assert load_json_object(json.dumps(nested).encode()) == nested


def test_a_timestamp_beyond_any_calendar_is_a_serialization_error(runtime):
    body = json.dumps({"CreationTimeAfter": 2**70}).encode()
    request = Request(
        "POST", "http://h/", Headers({"X-Amz-Target": "SageMaker.ListModelPackages"}), io.BytesIO(body), len(body)
    )
    response = runtime.handle(request)
    assert response.status == 400
    assert json.loads(response.body)["__type"] == "SerializationException"
