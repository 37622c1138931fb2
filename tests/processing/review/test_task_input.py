"""The review input built from the data contract, and what is not a review input."""

from __future__ import annotations

import pytest

from processing.review.task_input import build_review_input, read_label_spec, review_input_problems

pytestmark = pytest.mark.image


def _build(contract, **changes):
    fields = {
        "endpoint": "ep",
        "event_id": "e-1",
        "inference_id": "i-1",
        "inference_time": "2024-05-01T10:00:00Z",
        "row_index": 0,
        "reason": "audit",
        "probability": 0.97,
        "predicted_label": 1,
        "features": [1.0] * len(contract.features),
        **changes,
    }
    return build_review_input(contract, **fields)


def test_built_from_the_contract(contract):
    document = _build(contract, features=[float("nan")] + [2] * (len(contract.features) - 1))
    assert list(document["features"]) == list(contract.features)
    assert document["features"][contract.features[0]] is None  # missing: null, which JSON can hold
    assert document["label"] == {
        "name": "diagnosis",
        "positive": {"value": 1, "name": "malignant"},
        "negative": {"value": 0, "name": "benign"},
    }
    assert review_input_problems(document) == []
    assert read_label_spec(document).name_of(0) == "benign"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"reason": "because"}, "'reason' must be one of review, audit"),
        ({"probability": 1.5}, "'probability' must be a number from 0 to 1"),
        ({"predicted_label": 2}, "'predictedLabel' must be 0 or 1"),
        ({"features": [1.0]}, "feature values; the data contract names"),
        ({"row_index": 2, "row_count": 2}, "'rowCount' must be an integer above 'rowIndex'"),
        ({"row_count": True}, "'rowCount' must be an integer above 'rowIndex'"),
    ],
)
def test_bad_inputs_are_refused(contract, changes, message):
    with pytest.raises(ValueError, match=message):
        _build(contract, **changes)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ([], "must be a JSON object"),
        ({"text": "x"}, "'endpoint' must be a str"),
        ({"features": {"a": "1"}}, "every feature value must be a finite number"),
        (
            {"label": {"name": "d", "positive": {"value": True, "name": "p"}}},
            "'label.positive' must be an object with 'value' 1",
        ),
        ({"label": {"name": "d", "positive": {"value": 1, "name": ""}}}, "'label.positive.name'"),
    ],
)
def test_problems_name_what_is_wrong(document, message):
    assert any(message in p for p in review_input_problems(document))


def test_the_requests_rows_are_counted_and_older_inputs_without_them_still_pass(contract):
    document = _build(contract, row_index=1, row_count=3)
    assert (document["rowIndex"], document["rowCount"]) == (1, 3)
    del document["rowCount"]
    assert review_input_problems(document) == []
