"""The local A2I runtime through boto3's own `sagemaker-a2i-runtime` client, in-process and over HTTP: the
loop's life (InProgress -> Completed / Stopped / Failed), AWS's error codes for bad requests (and nothing
stored then), listing, throttling that botocore's retry modes ride through, and output.json."""

from __future__ import annotations

import datetime as dt
import json
import re
import time

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from offline.aws.a2i.errors import ConflictException, ResourceNotFoundException, ValidationException
from offline.aws.a2i.loops import HumanLoops
from offline.aws.a2i.throttle import ThrottleConfigError, TokenBucket, bucket_from_env
from offline.aws.runtime import runtime_for
from tests.offline.aws.a2i_helpers import BUCKET, loop_input, make_flow

OUTPUT_KEY = re.compile(
    r"^s3://review-output/out/review-flow/\d{4}/\d{2}/\d{2}/\d{2}/\d{2}/\d{2}/(?P<loop>[a-z0-9-]+)/output\.json$"
)


@pytest.fixture
def a2i(aws):
    return aws.client("sagemaker-a2i-runtime")


@pytest.fixture
def flow(aws):
    return make_flow(aws.client("sagemaker"), aws.client("s3"))


def _error(call, **kwargs) -> tuple[str, int, str]:
    with pytest.raises(ClientError) as e:
        call(**kwargs)
    response = e.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Message"]


def _answer(aws, name: str, worker: str = "ana", content: dict | None = None):
    return HumanLoops.for_home(aws.home).answer("us-east-1", name, worker, content or {"ok": {"yes": True}})


def test_a_loop_starts_in_progress_and_completes_with_its_output(aws, a2i, flow):
    before = dt.datetime.now(dt.timezone.utc)
    arn = a2i.start_human_loop(HumanLoopName="loop-1", FlowDefinitionArn=flow, HumanLoopInput=loop_input())[
        "HumanLoopArn"
    ]
    assert arn == "arn:aws:sagemaker:us-east-1:123456789012:human-loop/loop-1"
    described = a2i.describe_human_loop(HumanLoopName="loop-1")
    assert described["HumanLoopStatus"] == "InProgress" and described["FlowDefinitionArn"] == flow
    assert before - dt.timedelta(seconds=1) <= described["CreationTime"] <= dt.datetime.now(dt.timezone.utc)
    assert "HumanLoopOutput" not in described and "FailureCode" not in described

    done = _answer(aws, "loop-1", content={"label": {"label": "1"}})
    described = a2i.describe_human_loop(HumanLoopName="loop-1")
    assert described["HumanLoopStatus"] == "Completed" == done.status
    uri = described["HumanLoopOutput"]["OutputS3Uri"]
    assert OUTPUT_KEY.match(uri).group("loop") == "loop-1" and uri == done.output_s3_uri
    stamp = described["CreationTime"].astimezone(dt.timezone.utc).strftime("%Y/%m/%d/%H/%M/%S")
    assert f"/review-flow/{stamp}/loop-1/" in uri  # the loop's creation time, UTC, as A2I's keys
    body = aws.client("s3").get_object(Bucket=BUCKET, Key=uri.split(f"{BUCKET}/", 1)[1])["Body"].read()
    output = json.loads(body)
    assert output["humanLoopName"] == "loop-1" and output["flowDefinitionArn"] == flow
    assert output["inputContent"] == {"text": "check <b>this</b>"}
    assert [a["answerContent"] for a in output["humanAnswers"]] == [{"label": {"label": "1"}}]


def test_a_reused_name_is_the_same_loop_with_the_same_input_and_a_conflict_with_another(aws, a2i, flow):
    first = a2i.start_human_loop(HumanLoopName="again", FlowDefinitionArn=flow, HumanLoopInput=loop_input(n=1))
    # the same input (the same JSON, even spelt differently): the same loop, no second one
    same = json.dumps({"n": 1, "text": "check <b>this</b>"}, indent=1)
    again = a2i.start_human_loop(HumanLoopName="again", FlowDefinitionArn=flow, HumanLoopInput={"InputContent": same})
    assert again["HumanLoopArn"] == first["HumanLoopArn"]
    code, status, message = _error(
        a2i.start_human_loop, HumanLoopName="again", FlowDefinitionArn=flow, HumanLoopInput=loop_input(n=2)
    )
    assert (code, status) == ("ConflictException", 409) and "same name and different input data" in message
    other_flow = make_flow(aws.client("sagemaker"), name="other-flow")
    code, _, _ = _error(
        a2i.start_human_loop, HumanLoopName="again", FlowDefinitionArn=other_flow, HumanLoopInput=loop_input(n=1)
    )
    assert code == "ConflictException"
    assert [s["HumanLoopName"] for s in a2i.list_human_loops(FlowDefinitionArn=flow)["HumanLoopSummaries"]] == ["again"]
    a2i.stop_human_loop(HumanLoopName="again")
    a2i.delete_human_loop(HumanLoopName="again")  # a deleted loop frees its name
    a2i.start_human_loop(HumanLoopName="again", FlowDefinitionArn=flow, HumanLoopInput=loop_input(n=2))
    assert a2i.describe_human_loop(HumanLoopName="again")["HumanLoopStatus"] == "InProgress"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"HumanLoopName": "Bad_Name"}, "at 'humanLoopName' failed to satisfy constraint"),
        ({"HumanLoopName": "a" * 64}, "Member must have length less than or equal to 63"),
        ({"HumanLoopName": "-lead"}, "regular expression pattern"),
        ({"FlowDefinitionArn": "arn:aws:sagemaker:us-east-1:123456789012:workteam/x"}, "flowDefinitionArn"),
        ({"FlowDefinitionArn": "arn:aws:sagemaker:us-east-1:123456789012:flow-definition/missing"}, "does not exist"),
        (
            {"FlowDefinitionArn": "arn:aws:sagemaker:eu-west-1:123456789012:flow-definition/review-flow"},
            "does not exist",
        ),
        ({"HumanLoopInput": {"InputContent": "not json"}}, "HumanLoopInput.InputContent is not valid JSON"),
        ({"HumanLoopInput": {"InputContent": "[1, 2]"}}, "HumanLoopInput.InputContent must be a JSON object"),
        ({"HumanLoopInput": {"InputContent": '{"a":' * 70 + "1" + "}" * 70}}, "nests deeper than 64 levels"),
        ({"HumanLoopInput": {"InputContent": "x" * 3_145_729}}, "less than or equal to 3145728"),
        ({"DataAttributes": {"ContentClassifiers": ["FreeOfViruses"]}}, "enum value set"),
    ],
)
def test_bad_starts_are_validation_exceptions_and_store_nothing(aws, a2i, flow, change, message):
    request = {"HumanLoopName": "good-name", "FlowDefinitionArn": flow, "HumanLoopInput": loop_input(), **change}
    code, status, text = _error(a2i.start_human_loop, **request)
    assert (code, status) == ("ValidationException", 400) and message in text
    assert a2i.list_human_loops(FlowDefinitionArn=flow)["HumanLoopSummaries"] == []
    assert HumanLoops.for_home(aws.home).loops() == []


def test_unknown_and_malformed_loop_names(a2i, flow):
    for call in (a2i.describe_human_loop, a2i.stop_human_loop, a2i.delete_human_loop):
        assert _error(call, HumanLoopName="no-such-loop")[:2] == ("ResourceNotFoundException", 404)
        assert _error(call, HumanLoopName="Not_A_Name")[:2] == ("ValidationException", 400)
    unknown = flow.replace("review-flow", "missing")
    assert _error(a2i.list_human_loops, FlowDefinitionArn=unknown)[:2] == ("ResourceNotFoundException", 404)


def test_list_sorts_pages_and_filters_by_creation_time(a2i, flow):
    names = [f"loop-{i}" for i in range(7)]
    for name in names:
        a2i.start_human_loop(HumanLoopName=name, FlowDefinitionArn=flow, HumanLoopInput=loop_input(name=name))
    newest_first = [s["HumanLoopName"] for s in a2i.list_human_loops(FlowDefinitionArn=flow)["HumanLoopSummaries"]]
    created = {
        s["HumanLoopName"]: s["CreationTime"]
        for s in a2i.list_human_loops(FlowDefinitionArn=flow)["HumanLoopSummaries"]
    }
    assert newest_first == sorted(names, key=lambda n: (created[n], n), reverse=True)
    pages = a2i.get_paginator("list_human_loops").paginate(
        FlowDefinitionArn=flow, SortOrder="Ascending", PaginationConfig={"PageSize": 3}
    )
    paged = [[s["HumanLoopName"] for s in page["HumanLoopSummaries"]] for page in pages]
    assert [len(p) for p in paged] == [3, 3, 1] and [n for page in paged for n in page] == list(reversed(newest_first))
    summary = a2i.list_human_loops(FlowDefinitionArn=flow, MaxResults=1)["HumanLoopSummaries"][0]
    assert set(summary) == {"HumanLoopName", "HumanLoopStatus", "CreationTime", "FlowDefinitionArn"}
    middle = created[newest_first[3]]
    after = a2i.list_human_loops(FlowDefinitionArn=flow, CreationTimeAfter=middle)["HumanLoopSummaries"]
    assert all(s["CreationTime"] >= middle for s in after) and newest_first[3] in [s["HumanLoopName"] for s in after]
    before = a2i.list_human_loops(FlowDefinitionArn=flow, CreationTimeBefore=middle)["HumanLoopSummaries"]
    assert all(s["CreationTime"] < middle for s in before) and len(after) + len(before) == 7
    token = a2i.list_human_loops(FlowDefinitionArn=flow, MaxResults=2)["NextToken"]
    code, _, message = _error(a2i.list_human_loops, FlowDefinitionArn=flow, SortOrder="Ascending", NextToken=token)
    assert code == "ValidationException" and "another query" in message
    assert _error(a2i.list_human_loops, FlowDefinitionArn=flow, NextToken="garbage")[0] == "ValidationException"
    assert _error(a2i.list_human_loops, FlowDefinitionArn=flow, MaxResults=101)[0] == "ValidationException"


def test_stop_and_delete_follow_a2i(aws, a2i, flow):
    for name in ("to-stop", "to-answer"):
        a2i.start_human_loop(HumanLoopName=name, FlowDefinitionArn=flow, HumanLoopInput=loop_input(name=name))
    code, _, message = _error(a2i.delete_human_loop, HumanLoopName="to-stop")
    assert code == "ValidationException" and "stop it before deleting it" in message
    a2i.stop_human_loop(HumanLoopName="to-stop")
    a2i.stop_human_loop(HumanLoopName="to-stop")  # already stopped: nothing to do
    assert a2i.describe_human_loop(HumanLoopName="to-stop")["HumanLoopStatus"] == "Stopped"
    with pytest.raises(ConflictException, match="to-stop is Stopped; only a loop in progress takes answers"):
        _answer(aws, "to-stop")
    _answer(aws, "to-answer")
    assert _error(a2i.stop_human_loop, HumanLoopName="to-answer")[0] == "ValidationException"
    a2i.delete_human_loop(HumanLoopName="to-answer")
    assert _error(a2i.describe_human_loop, HumanLoopName="to-answer")[0] == "ResourceNotFoundException"
    a2i.delete_human_loop(HumanLoopName="to-stop")
    assert a2i.list_human_loops(FlowDefinitionArn=flow)["HumanLoopSummaries"] == []
    assert aws.client("s3").list_objects_v2(Bucket=BUCKET)["KeyCount"] == 1  # output.json outlives its loop


def test_task_count_answers_from_distinct_workers_complete_a_loop(aws, a2i):
    flow = make_flow(aws.client("sagemaker"), aws.client("s3"), task_count=2)
    a2i.start_human_loop(HumanLoopName="two", FlowDefinitionArn=flow, HumanLoopInput=loop_input())
    first = _answer(aws, "two", "ana", {"n": 1})
    assert (first.status, first.answers, first.output_s3_uri) == ("InProgress", 1, None)
    with pytest.raises(ConflictException, match="Worker ana has already answered human loop two"):
        _answer(aws, "two", "ana", {"n": 3})
    assert a2i.describe_human_loop(HumanLoopName="two")["HumanLoopStatus"] == "InProgress"
    second = _answer(aws, "two", "ben", {"n": 2})
    assert (second.status, second.answers) == ("Completed", 2)
    output = json.loads((aws.home / "s3" / second.output_s3_uri[len("s3://") :]).read_bytes())
    assert [a["answerContent"] for a in output["humanAnswers"]] == [{"n": 1}, {"n": 2}]
    assert len({a["workerId"] for a in output["humanAnswers"]}) == 2
    with pytest.raises(ConflictException, match="two is Completed"):
        _answer(aws, "two", "cy", {"n": 4})


@pytest.mark.parametrize(
    ("worker", "content", "error"),
    [
        ("", {"a": 1}, ValidationException),
        ("has space", {"a": 1}, ValidationException),
        ("w" * 65, {"a": 1}, ValidationException),
        ("ana", ["not", "an", "object"], ValidationException),
        ("ana", {"x": float("nan")}, ValidationException),
    ],
)
def test_bad_answers_are_refused_and_store_nothing(aws, a2i, flow, worker, content, error):
    a2i.start_human_loop(HumanLoopName="loop-1", FlowDefinitionArn=flow, HumanLoopInput=loop_input())
    with pytest.raises(error):
        _answer(aws, "loop-1", worker, content)
    with pytest.raises(ResourceNotFoundException):
        _answer(aws, "no-such-loop")
    assert HumanLoops.for_home(aws.home).detail("us-east-1", "loop-1").answers == []


def test_an_unanswered_loop_fails_as_expired_after_its_availability_lifetime(aws, a2i):
    flow = make_flow(aws.client("sagemaker"), aws.client("s3"), TaskAvailabilityLifetimeInSeconds=1)
    a2i.start_human_loop(HumanLoopName="late", FlowDefinitionArn=flow, HumanLoopInput=loop_input())
    deadline = time.monotonic() + 15
    while (described := a2i.describe_human_loop(HumanLoopName="late"))["HumanLoopStatus"] == "InProgress":
        assert time.monotonic() < deadline, "the loop never expired"
        time.sleep(0.1)
    assert (described["HumanLoopStatus"], described["FailureCode"]) == ("Failed", "Expired")
    assert "expired" in described["FailureReason"]
    assert a2i.list_human_loops(FlowDefinitionArn=flow)["HumanLoopSummaries"][0]["HumanLoopStatus"] == "Failed"
    assert [i.name for i in HumanLoops.for_home(aws.home).loops(status="Failed")] == ["late"]
    with pytest.raises(ConflictException, match="late is Failed"):
        _answer(aws, "late")
    a2i.delete_human_loop(HumanLoopName="late")  # a failed loop may be deleted


# -- throttling -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["legacy", "standard", "adaptive"])
def test_botocores_retry_modes_ride_through_the_start_rate_limit(aws, flow, monkeypatch, mode):
    monkeypatch.setenv("MLOPS_A2I_START_RATE", "5")
    monkeypatch.setenv("MLOPS_A2I_START_BURST", "1")
    limited = aws.client("sagemaker-a2i-runtime", config=Config(retries={"mode": mode, "max_attempts": 12}))
    retries = 0
    for i in range(3):  # three starts within 200 ms with a burst of one: the later ones are throttled, then retried
        response = limited.start_human_loop(
            HumanLoopName=f"rated-{i}", FlowDefinitionArn=flow, HumanLoopInput=loop_input()
        )
        retries += response["ResponseMetadata"]["RetryAttempts"]
    assert retries >= 1
    assert len(limited.list_human_loops(FlowDefinitionArn=flow)["HumanLoopSummaries"]) == 3
    service = runtime_for(aws.home).service("sagemaker-a2i-runtime")  # the one the client reached
    assert (service.loops.throttle.rate, service.loops.throttle.burst) == (5, 1)


def test_a_throttled_start_is_a_429_throttling_exception_and_starts_nothing(aws, a2i, flow):
    service = runtime_for(aws.home).service("sagemaker-a2i-runtime")
    service.loops.throttle = TokenBucket(rate=0.001, burst=1)
    a2i.start_human_loop(HumanLoopName="first", FlowDefinitionArn=flow, HumanLoopInput=loop_input())
    code, status, message = _error(
        a2i.start_human_loop, HumanLoopName="second", FlowDefinitionArn=flow, HumanLoopInput=loop_input()
    )
    assert (code, status, message) == ("ThrottlingException", 429, "Rate exceeded")
    assert [s["HumanLoopName"] for s in a2i.list_human_loops(FlowDefinitionArn=flow)["HumanLoopSummaries"]] == ["first"]


def test_the_rate_limit_is_off_by_default_and_its_settings_are_checked():
    assert bucket_from_env({}) is None
    bucket = bucket_from_env({"MLOPS_A2I_START_RATE": "2.5"})
    assert (bucket.rate, bucket.burst) == (2.5, 2.5)
    for env, message in (
        ({"MLOPS_A2I_START_RATE": "fast"}, "MLOPS_A2I_START_RATE='fast' is not a number"),
        ({"MLOPS_A2I_START_RATE": "0"}, "must be a finite number > 0"),
        ({"MLOPS_A2I_START_RATE": "inf"}, "must be a finite number > 0"),
        ({"MLOPS_A2I_START_RATE": "1", "MLOPS_A2I_START_BURST": "0.5"}, "must be a finite number >= 1"),
        ({"MLOPS_A2I_START_BURST": "3"}, "set both, or neither"),
    ):
        with pytest.raises(ThrottleConfigError, match=re.escape(message)):
            bucket_from_env(env)


def test_a_token_bucket_refills_at_its_rate_up_to_its_burst():
    now = [0.0]
    bucket = TokenBucket(rate=2, burst=3, clock=lambda: now[0])
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    now[0] = 0.5  # one token back
    assert [bucket.take(), bucket.take()] == [True, False]
    now[0] = 100  # never more than the burst
    assert sum(bucket.take() for _ in range(10)) == 3
