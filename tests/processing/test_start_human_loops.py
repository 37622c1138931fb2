"""The post-processing job against the real local A2I runtime: one loop per marked or audited prediction,
each started once however often the job runs, throttling ridden through, and the job's command line
run as a subprocess against `LocalAWSServer`, from local folders and from S3 prefixes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from offline.aws import local_session, runtime_for
from offline.aws.server import LocalAWSServer
from offline.store import ObjectStore
from processing.review.locations import Location
from processing.review.loop_names import is_loop_name, loop_name
from processing.review.selection import audited
from processing.review.starting import ALREADY_STARTED, CONFLICT, StartFailed, StartRefused, retry_config
from processing.review.task_input import review_input_problems
from processing.start_human_loops import StartInputError, start_loops
from tests.offline.aws.a2i_helpers import make_flow
from tests.processing.review.captures import ENDPOINT, csv_record, json_record, row_features, window, write_window

REPO = Path(__file__).resolve().parents[2]
MANIFESTS = "s3://capture-bucket/human-review/bc-endpoint/manifests"
START, END = datetime(2024, 5, 1, 10, tzinfo=timezone.utc), datetime(2024, 5, 1, 11, tzinfo=timezone.utc)


@pytest.fixture
def home(tmp_path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def session(home):
    return local_session(home)


@pytest.fixture
def flow(session) -> str:
    return make_flow(session.client("sagemaker"), session.client("s3"))


@pytest.fixture
def a2i(session):
    return session.client("sagemaker-a2i-runtime", config=retry_config())


def _run(a2i, flow, capture, tmp_path, audit_rate=0.05, **kwargs):
    return start_loops(
        a2i,
        capture=capture,
        start=kwargs.pop("start", START),
        end=kwargs.pop("end", END),
        flow_definition_arn=flow,
        audit_rate=audit_rate,
        manifests=Location(tmp_path / "manifests"),
        **kwargs,
    )


def _loops(a2i, flow) -> dict[str, dict]:
    pages = a2i.get_paginator("list_human_loops").paginate(FlowDefinitionArn=flow, SortOrder="Ascending")
    return {s["HumanLoopName"]: s for page in pages for s in page["HumanLoopSummaries"]}


def _manifest(tmp_path) -> dict:
    return json.loads((tmp_path / "manifests" / "2024/05/01/10/manifest.json").read_text())


def test_run_twice_starts_each_loop_once(a2i, flow, contract, tmp_path):
    capture = write_window(tmp_path / "capture", window(contract, 40))
    first = _run(a2i, flow, capture, tmp_path)
    started = _loops(a2i, flow)
    assert first.started == len(first.loops) == len(started) >= 10
    assert _manifest(tmp_path)["started"] == len(started)

    second = _run(a2i, flow, capture, tmp_path)

    assert second.started == 0 and second.count("outcome", ALREADY_STARTED) == len(first.loops)
    again = _loops(a2i, flow)
    assert again == started  # the same loops, created when the first run created them
    manifest = _manifest(tmp_path)
    assert (manifest["started"], manifest["alreadyStarted"], manifest["conflicts"]) == (0, len(started), 0)
    assert [e["humanLoopName"] for e in manifest["loops"]] == [e["humanLoopName"] for e in first.loops]


def test_a_name_in_use_with_other_input_is_a_conflict_and_starts_nothing(a2i, flow, contract, tmp_path):
    lines = window(contract, 8)
    _run(a2i, flow, write_window(tmp_path / "a", lines), tmp_path)
    before = _loops(a2i, flow)
    changed = [line.replace("10:0", "10:3") for line in lines]  # the same events, other inference times
    report = _run(a2i, flow, write_window(tmp_path / "b", changed), tmp_path)
    assert report.count("outcome", CONFLICT) == len(before) and report.started == 0
    assert _loops(a2i, flow) == before


@pytest.mark.parametrize("rate", [0.0, 0.3, 1.0])
def test_the_loops_are_the_marked_predictions_plus_the_audit_sample(a2i, flow, contract, tmp_path, rate):
    capture = write_window(tmp_path / "capture", window(contract, 60, inference_ids=True))
    report = _run(a2i, flow, capture, tmp_path, audit_rate=rate)
    marked = 15  # every 4th of 60
    confident = [i for i in range(60) if i % 4]
    sample = [i for i in confident if audited(f"req-{i}", 0, rate)]
    assert report.count("reason", "review") == marked and report.count("reason", "audit") == len(sample)
    assert len(_loops(a2i, flow)) == marked + len(sample)
    if rate in (0.0, 1.0):
        assert len(sample) == {0.0: 0, 1.0: 45}[rate]
    audited_events = {e["eventId"] for e in report.loops if e["reason"] == "audit"}
    assert audited_events == {f"9f1c2b6e-0000-4000-8000-{i:012d}" for i in sample}


def test_a_multi_row_request_gives_one_loop_per_row_named_from_its_event_and_row(a2i, flow, contract, tmp_path):
    rows = [(row_features(contract, r), p, flag) for r, (p, flag) in enumerate([(0.5, 1), (0.99, 0), (0.4, 1)])]
    capture = write_window(
        tmp_path / "capture",
        [csv_record("2d7f0c1e-aaaa-4bbb-8ccc-000000000001", 3, rows), json_record("Odd_Event/ID", 4, rows[:1])],
    )
    report = _run(a2i, flow, capture, tmp_path, audit_rate=0.0)
    names = [e["humanLoopName"] for e in report.loops]
    assert names == [
        "2d7f0c1e-aaaa-4bbb-8ccc-000000000001-0",
        "2d7f0c1e-aaaa-4bbb-8ccc-000000000001-2",
        loop_name("Odd_Event/ID", 0),
    ]
    assert all(is_loop_name(n) for n in names) and set(_loops(a2i, flow)) == set(names)
    for name in names:
        assert a2i.describe_human_loop(HumanLoopName=name)["HumanLoopStatus"] == "InProgress"


def test_each_loop_carries_the_review_input(a2i, flow, contract, tmp_path, home):
    rows = [(row_features(contract, 5), 0.62, 1), (row_features(contract, 6), 0.3, 1)]
    capture = write_window(tmp_path / "capture", [csv_record("ev-1", 7, rows, inference_id="req-9")])
    _run(a2i, flow, capture, tmp_path, audit_rate=0.0, endpoint="breast-cancer")
    from offline.aws.a2i.loops import HumanLoops

    document = HumanLoops.for_home(home).detail("us-east-1", "ev-1-1").input_content
    assert review_input_problems(document) == []
    assert {
        k: document[k] for k in ("endpoint", "eventId", "inferenceId", "inferenceTime", "rowIndex", "rowCount")
    } == {
        "endpoint": "breast-cancer",
        "eventId": "ev-1",
        "inferenceId": "req-9",
        "inferenceTime": "2024-05-01T10:07:00Z",
        "rowIndex": 1,
        "rowCount": 2,
    }
    assert (document["reason"], document["probability"], document["predictedLabel"]) == ("review", 0.3, 0)
    assert list(document["features"]) == list(contract.features)
    assert list(document["features"].values()) == row_features(contract, 6)
    assert document["label"]["positive"] == {"value": 1, "name": "malignant"}


def test_throttling_is_retried_until_every_loop_has_started(tmp_path, contract, monkeypatch):
    monkeypatch.setenv("MLOPS_A2I_START_RATE", "20")
    monkeypatch.setenv("MLOPS_A2I_START_BURST", "2")
    session = local_session(tmp_path / "limited")
    flow = make_flow(session.client("sagemaker"), session.client("s3"))
    a2i = session.client("sagemaker-a2i-runtime", config=retry_config())
    retries = []
    a2i.meta.events.register(
        "after-call.sagemaker-a2i-runtime.StartHumanLoop",
        lambda parsed, **_: retries.append(parsed["ResponseMetadata"]["RetryAttempts"]),
    )
    capture = write_window(tmp_path / "capture", window(contract, 48))  # 12 marked
    began = time.monotonic()
    report = _run(a2i, flow, capture, tmp_path, audit_rate=0.0)
    elapsed = time.monotonic() - began
    assert report.started == 12 == len(_loops(a2i, flow))
    assert sum(retries) >= 1  # some starts were refused with ThrottlingException and retried
    assert elapsed >= (12 - 2) / 20 * 0.9  # the bucket's rate held


def test_an_empty_window_starts_nothing_and_says_so(a2i, flow, contract, tmp_path):
    capture = write_window(tmp_path / "capture", window(contract, 8))  # traffic at 10:xx only
    report = _run(
        a2i, flow, capture, tmp_path, start=datetime(2024, 5, 1, 11, tzinfo=timezone.utc),
        end=datetime(2024, 5, 1, 12, tzinfo=timezone.utc),
    )  # fmt: skip
    assert report.loops == [] and report.summary().startswith("nothing to review")
    assert _loops(a2i, flow) == {}
    manifest = json.loads((tmp_path / "manifests/2024/05/01/11/manifest.json").read_text())
    assert (manifest["capturedRecords"], manifest["loops"]) == (0, [])


def test_a_window_without_marked_predictions_starts_only_its_audit_sample(a2i, flow, contract, tmp_path):
    lines = [line for i, line in enumerate(window(contract, 40)) if i % 4]  # confident ones only
    capture = write_window(tmp_path / "capture", lines)
    assert _run(a2i, flow, capture, tmp_path, audit_rate=0.0).summary().startswith("nothing to review")
    assert _loops(a2i, flow) == {}


def test_a_capture_location_that_does_not_exist_is_refused(a2i, flow, tmp_path):
    with pytest.raises(StartInputError, match="does not exist: it holds no captured data at all"):
        _run(a2i, flow, tmp_path / "nothing-here" / ENDPOINT, tmp_path)
    assert not (tmp_path / "manifests").exists()


def test_an_unknown_flow_definition_is_refused_and_writes_no_manifest(a2i, flow, contract, tmp_path):
    capture = write_window(tmp_path / "capture", window(contract, 8))
    with pytest.raises(StartRefused, match="does not exist"):
        _run(a2i, flow + "-gone", capture, tmp_path)
    assert not (tmp_path / "manifests").exists() and _loops(a2i, flow) == {}


# -- the container's command line, run as a subprocess against LocalAWSServer -------------------------------


def _job(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(REPO / "processing" / "start_human_loops.py"), *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        cwd="/",
    )


def test_the_scheduled_command_line_checks_the_hour_before_from_s3(home, flow, contract, tmp_path, session):
    store = ObjectStore.for_home(home)
    capture = write_window(tmp_path / "capture", window(contract, 20))
    store.create_bucket("capture-bucket")
    store.put_dir("s3://capture-bucket/datacapture/bc-endpoint", capture)
    with LocalAWSServer(home) as server:
        arguments = [
            "--capture-uri", "s3://capture-bucket/datacapture/bc-endpoint",
            "--scheduled-time", "2024-05-01T11:15:03Z",
            "--flow-definition-arn", flow,
            "--audit-rate", "0.05",
            "--output-uri", MANIFESTS,
            "--region", "us-east-1",
            "--staging-path", str(tmp_path / "staging"),
        ]  # fmt: skip
        done = _job(server.client_env(), *arguments)
        manifest = json.loads(store.get_bytes(f"{MANIFESTS}/2024/05/01/10/manifest.json"))
        again = _job(server.client_env(), *arguments)
    assert done.returncode == 0, done.stderr
    assert "read 1 capture object(s) from 1 hour prefix(es)" in done.stdout
    assert manifest["window"] == {"start": "2024-05-01T10:00:00Z", "end": "2024-05-01T11:00:00Z"}
    assert manifest["endpoint"] == "bc-endpoint" and manifest["reviewLoops"] == 5
    assert manifest["started"] == len(manifest["loops"]) == len(_loops(session.client("sagemaker-a2i-runtime"), flow))
    assert again.returncode == 0 and "0 started, 5 already started" in again.stdout
    assert json.loads(store.get_bytes(f"{MANIFESTS}/2024/05/01/10/manifest.json"))["alreadyStarted"] == 5


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"--scheduled-time": "yesterday"}, "not an ISO-8601 time: 'yesterday'"),
        ({"--audit-rate": "1.5"}, "argument --audit-rate: '1.5' is not a number from 0 to 1"),
        ({"--audit-rate": "-0.1"}, "is not a number from 0 to 1"),
        ({"--capture-uri": "MISSING"}, "does not exist: it holds no captured data at all"),
        ({"--capture-uri": "s3://capture-bucket/datacapture/nothing"}, "does not exist: it holds no captured data"),
        ({"--flow-definition-arn": "FLOW-unknown"}, "does not exist"),
        ({"--output-uri": "ftp://elsewhere/manifests"}, "neither an s3:// URI nor a local path"),
    ],
)
def test_bad_input_exits_2_with_a_specific_message(home, flow, contract, tmp_path, change, message):
    capture = write_window(tmp_path / "capture", window(contract, 8))
    ObjectStore.for_home(home).create_bucket("capture-bucket")
    options = {
        "--capture-uri": str(capture),
        "--scheduled-time": "2024-05-01T11:15:00Z",
        "--flow-definition-arn": flow,
        "--output-uri": str(tmp_path / "manifests"),
        "--region": "us-east-1",
        **change,
    }
    options = {k: v.replace("MISSING", str(tmp_path / "missing")).replace("FLOW", flow) for k, v in options.items()}
    with LocalAWSServer(home) as server:
        done = _job(server.client_env(), *[part for item in options.items() for part in item])
    assert done.returncode == 2, done.stderr
    assert message in done.stderr
    assert not (tmp_path / "manifests").exists()


def test_start_and_end_are_checked(home, flow, contract, tmp_path):
    capture = write_window(tmp_path / "capture", window(contract, 4))
    common = ["--capture-uri", str(capture), "--flow-definition-arn", flow, "--output-uri", str(tmp_path / "m")]
    with LocalAWSServer(home) as server:
        env = server.client_env()
        backwards = _job(env, *common, "--start", "2024-05-01T11:00:00Z", "--end", "2024-05-01T10:00:00Z")
        both = _job(env, *common, "--start", "2024-05-01T10:00:00Z", "--scheduled-time", "2024-05-01T11:00:00Z")
        neither = _job(env, *common)
    assert (backwards.returncode, both.returncode, neither.returncode) == (2, 2, 2)
    assert "--start (2024-05-01T11:00:00Z) must be before --end" in backwards.stderr
    assert "not both" in both.stderr and "give --scheduled-time, or both --start and --end" in neither.stderr


def test_a_run_that_failed_part_way_is_finished_by_the_next_one(tmp_path, contract, monkeypatch):
    from botocore.config import Config

    monkeypatch.setenv("MLOPS_A2I_START_RATE", "0.01")  # three starts, then throttled for minutes
    monkeypatch.setenv("MLOPS_A2I_START_BURST", "3")
    session = local_session(tmp_path / "limited")
    flow = make_flow(session.client("sagemaker"), session.client("s3"))
    impatient = session.client("sagemaker-a2i-runtime", config=Config(retries={"mode": "standard", "max_attempts": 1}))
    capture = write_window(tmp_path / "capture", window(contract, 32))  # 8 marked
    with pytest.raises(StartFailed, match="ThrottlingException"):
        _run(impatient, flow, capture, tmp_path, audit_rate=0.0)
    partial = _manifest(tmp_path)
    assert [e["outcome"] for e in partial["loops"]] == ["started"] * 3 + ["not-attempted"] * 5
    runtime = runtime_for(tmp_path / "limited").service("sagemaker-a2i-runtime")
    runtime.loops.throttle = None  # the limit lifts

    report = _run(impatient, flow, capture, tmp_path, audit_rate=0.0)

    assert [e["outcome"] for e in report.loops] == ["already-started"] * 3 + ["started"] * 5
    assert len(_loops(impatient, flow)) == 8
