"""The post-processing job's code in the image's packages (no SDK, no local runtime): the requests it sends
(botocore's Stubber stands in for A2I, as for the analyzer's S3 tests), how it counts each answer, what a
failed run leaves in its manifest, and its window."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from processing.review.locations import Location
from processing.review.starting import StartFailed, StartRefused, retry_config
from processing.start_human_loops import NOT_ATTEMPTED, StartInputError, start_loops, window_of
from tests.processing.review.captures import window, write_window

pytestmark = pytest.mark.image
FLOW = "arn:aws:sagemaker:us-east-1:123456789012:flow-definition/bc-review-0123456789"
START, END = datetime(2024, 5, 1, 10, tzinfo=timezone.utc), datetime(2024, 5, 1, 11, tzinfo=timezone.utc)
CREATED = datetime(2024, 5, 1, 11, 15, tzinfo=timezone.utc)


@pytest.fixture
def stubbed():
    import boto3
    from botocore.stub import Stubber

    client = boto3.client(
        "sagemaker-a2i-runtime",
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=retry_config(),
    )
    with Stubber(client) as stubber:
        yield client, stubber


def _described(name: str) -> dict:
    return {
        "CreationTime": CREATED,
        "HumanLoopStatus": "InProgress",
        "HumanLoopName": name,
        "HumanLoopArn": f"arn:aws:sagemaker:us-east-1:123456789012:human-loop/{name}",
        "FlowDefinitionArn": FLOW,
    }


def _run(client, capture, tmp_path):
    return start_loops(
        client,
        capture=capture,
        start=START,
        end=END,
        flow_definition_arn=FLOW,
        audit_rate=0.0,
        manifests=Location(tmp_path / "manifests"),
        endpoint="bc",
    )


def test_a_files_first_loop_is_described_then_its_loops_started_with_their_review_input(stubbed, contract, tmp_path):
    client, stubber = stubbed
    capture = write_window(tmp_path / "capture", window(contract, 12))  # events 0, 4 and 8 are marked
    names = [f"9f1c2b6e-0000-4000-8000-00000000000{n}-0" for n in (0, 4, 8)]
    # the file's first loop does not exist: no earlier run started any loop of this file
    stubber.add_client_error("describe_human_loop", "ResourceNotFoundException", "no such loop", 404)
    for name in names:
        stubber.add_response(
            "start_human_loop",
            {"HumanLoopArn": _described(name)["HumanLoopArn"]},
            {"HumanLoopName": name, "FlowDefinitionArn": FLOW, "HumanLoopInput": {"InputContent": _AnyJson()}},
        )
    report = _run(client, capture, tmp_path)
    stubber.assert_no_pending_responses()
    assert [(e["humanLoopName"], e["outcome"]) for e in report.loops] == [(n, "started") for n in names]
    manifest = json.loads((tmp_path / "manifests/2024/05/01/10/manifest.json").read_text())
    assert (manifest["started"], manifest["reviewLoops"], manifest["predictions"]) == (3, 3, 12)


def test_a_file_an_earlier_run_began_has_each_loop_described(stubbed, contract, tmp_path):
    client, stubber = stubbed
    lines = window(contract, 8)  # events 0 and 4 marked, in two files
    write_window(tmp_path / "capture", lines[:4], name="00-00-000-a.jsonl")
    capture = write_window(tmp_path / "capture", lines[4:], name="30-00-000-b.jsonl")
    first, second = "9f1c2b6e-0000-4000-8000-000000000000-0", "9f1c2b6e-0000-4000-8000-000000000004-0"
    stubber.add_response("describe_human_loop", _described(first), {"HumanLoopName": first})  # began: ask each
    stubber.add_response("start_human_loop", {"HumanLoopArn": _described(first)["HumanLoopArn"]})
    stubber.add_client_error("describe_human_loop", "ResourceNotFoundException", "no such loop", 404)  # not begun
    stubber.add_response("start_human_loop", {"HumanLoopArn": _described(second)["HumanLoopArn"]})
    report = _run(client, capture, tmp_path)
    stubber.assert_no_pending_responses()
    assert [e["outcome"] for e in report.loops] == ["already-started", "started"]


def test_an_existing_loop_is_already_started_and_a_conflict_is_counted_apart(stubbed, contract, tmp_path):
    client, stubber = stubbed
    capture = write_window(tmp_path / "capture", window(contract, 8))
    first, second = "9f1c2b6e-0000-4000-8000-000000000000-0", "9f1c2b6e-0000-4000-8000-000000000004-0"
    stubber.add_response("describe_human_loop", _described(first), {"HumanLoopName": first})
    stubber.add_response("start_human_loop", {"HumanLoopArn": _described(first)["HumanLoopArn"]})
    stubber.add_response("describe_human_loop", _described(second), {"HumanLoopName": second})
    stubber.add_client_error("start_human_loop", "ConflictException", "different input data", 409)
    report = _run(client, capture, tmp_path)
    assert [e["outcome"] for e in report.loops] == ["already-started", "conflict"]
    assert report.started == 0 and "1 already started, 1 already started with other input" in report.summary()


def test_a_failure_part_way_records_what_was_done_and_what_was_not(stubbed, contract, tmp_path):
    client, stubber = stubbed
    capture = write_window(tmp_path / "capture", window(contract, 12))  # 3 marked
    stubber.add_client_error("describe_human_loop", "ResourceNotFoundException", "no such loop", 404)
    stubber.add_response("start_human_loop", {"HumanLoopArn": _described("x")["HumanLoopArn"]})
    stubber.add_client_error("start_human_loop", "ThrottlingException", "Rate exceeded", 429)
    with pytest.raises(StartFailed, match="ThrottlingException: Rate exceeded"):
        _run(client, capture, tmp_path)
    manifest = json.loads((tmp_path / "manifests/2024/05/01/10/manifest.json").read_text())
    assert [e["outcome"] for e in manifest["loops"]] == ["started", NOT_ATTEMPTED, NOT_ATTEMPTED]
    assert "ThrottlingException" in manifest["error"]


def test_a_refused_first_request_leaves_no_manifest(stubbed, contract, tmp_path):
    client, stubber = stubbed
    capture = write_window(tmp_path / "capture", window(contract, 4))
    stubber.add_client_error("describe_human_loop", "ResourceNotFoundException", "no such loop", 404)
    stubber.add_client_error("start_human_loop", "ValidationException", "Flow definition x does not exist.", 400)
    with pytest.raises(StartRefused, match="ValidationException: Flow definition x does not exist"):
        _run(client, capture, tmp_path)
    assert not (tmp_path / "manifests").exists()


def test_the_scheduled_window_is_the_full_hour_before():
    assert window_of("2024-05-01T11:15:42Z", None, None) == (START, END)
    assert window_of("2024-05-01T11:00:00+00:00", None, None) == (START, END)
    assert window_of(None, "2024-05-01T10:30:00Z", "2024-05-01T12:00:00Z")[1] == datetime(
        2024, 5, 1, 12, tzinfo=timezone.utc
    )


@pytest.mark.parametrize(
    ("scheduled", "start", "end", "message"),
    [
        ("soon", None, None, "not an ISO-8601 time: 'soon'"),
        ("2024-05-01T11:00:00Z", "2024-05-01T10:00:00Z", None, "not both"),
        (None, "2024-05-01T10:00:00Z", None, "give --scheduled-time, or both --start and --end"),
        (None, "2024-05-01T10:00:00Z", "2024-05-01T10:00:00Z", "must be before --end"),
        (None, "", "2024-05-01T10:00:00Z", "must not be empty"),
    ],
)
def test_bad_windows_are_refused(scheduled, start, end, message):
    with pytest.raises(StartInputError, match=message):
        window_of(scheduled, start, end)


def test_a_window_ending_before_it_starts_is_refused_by_the_job(stubbed, contract, tmp_path):
    client, _ = stubbed
    with pytest.raises(StartInputError, match="must be before its end"):
        start_loops(
            client, capture=tmp_path, start=END, end=START, flow_definition_arn=FLOW, audit_rate=0.05,
            manifests=Location(tmp_path / "m"),
        )  # fmt: skip


class _AnyJson:
    """Matches an InputContent that is a valid review input's JSON (the Stubber compares with ==)."""

    def __eq__(self, other: object) -> bool:
        from processing.review.task_input import review_input_problems

        return isinstance(other, str) and review_input_problems(json.loads(other)) == []
