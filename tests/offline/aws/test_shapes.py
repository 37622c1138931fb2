"""Validation against botocore's models, worded as AWS words it; Java patterns evaluated in Python."""

from __future__ import annotations

import datetime as dt

import pytest

from offline.aws.shapes import (
    _compiled_pattern,
    from_wire_json,
    operation_model,
    service_model,
    to_wire_json,
    validation_errors,
)


def shape(operation: str, which: str = "input"):
    op = operation_model("sagemaker", operation)
    return op.input_shape if which == "input" else op.output_shape


def test_valid_request_passes():
    assert validation_errors(shape("ListModelPackages"), {"SortOrder": "Descending", "MaxResults": 5}) is None


def test_enum_pattern_length_and_range_messages():
    message = validation_errors(
        shape("ListModelPackages"),
        {"SortOrder": "Down", "MaxResults": 0, "ModelPackageGroupName": "bad_name"},
    )
    # ParamValidator reports MaxResults < min first (botocore checks minimums itself).
    assert message == "Invalid value for parameter MaxResults, value: 0, valid min value: 1"
    message = validation_errors(shape("ListModelPackages"), {"SortOrder": "Down", "ModelPackageGroupName": "bad_name"})
    assert message.startswith("2 validation errors detected: ")
    assert "Value 'Down' at 'sortOrder' failed to satisfy constraint: Member must satisfy enum value set: " in message
    assert "[Ascending, Descending]" in message
    assert "Value 'bad_name' at 'modelPackageGroupName' failed to satisfy constraint: Member must satisfy " in message


def test_nested_paths_use_aws_notation():
    params = {
        "ModelPackageGroupName": "g",
        "InferenceSpecification": {
            "Containers": [{"Image": "ok"}, {"Image": "has space"}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
    }
    message = validation_errors(shape("CreateModelPackage"), params)
    assert "at 'inferenceSpecification.containers.2.member.image'" in message


def test_unicode_category_patterns_are_honoured():
    description = service_model("sagemaker").shape_for("EntityDescription").metadata["pattern"]
    assert "\\p{L}" in description
    compiled = _compiled_pattern(description)
    assert compiled.fullmatch("Modèle XGBoost — AUC ≥ 0.95 (test)")
    assert not compiled.fullmatch("bell \x07 character")
    tag_key = _compiled_pattern(service_model("sagemaker").shape_for("TagKey").metadata["pattern"])
    assert tag_key.fullmatch("sagemaker:project-name") and tag_key.fullmatch("clé")
    assert not tag_key.fullmatch("no*stars")
    metadata_key = service_model("sagemaker").shape_for("CustomerMetadataKey").metadata["pattern"]
    assert "${1,128}" in metadata_key and _compiled_pattern(metadata_key).fullmatch("test_auc")


def test_timestamps_and_blobs_cross_the_wire():
    parsed = from_wire_json(shape("ListModelPackages"), {"CreationTimeAfter": 1700000000.5})
    assert parsed["CreationTimeAfter"] == dt.datetime(2023, 11, 14, 22, 13, 20, 500000, tzinfo=dt.timezone.utc)
    out = to_wire_json(
        shape("DescribeModelPackageGroup", "output"),
        {"ModelPackageGroupName": "g", "CreationTime": parsed["CreationTimeAfter"], "NotInShape": 1},
    )
    assert out == {"ModelPackageGroupName": "g", "CreationTime": 1700000000.5}


@pytest.mark.parametrize("operation", ["CreateModelPackage", "UpdateModelPackage", "ListModelPackages"])
def test_every_pattern_in_the_registry_requests_compiles(operation):
    seen = set()

    def walk(s):
        if s.name in seen:
            return
        seen.add(s.name)
        if "pattern" in s.metadata:
            assert _compiled_pattern(s.metadata["pattern"]) is not None, (s.name, s.metadata["pattern"])
        for child in getattr(s, "members", {}).values():
            walk(child)
        if s.type_name == "list":
            walk(s.member)
        if s.type_name == "map":
            walk(s.key)
            walk(s.value)

    walk(shape(operation))
