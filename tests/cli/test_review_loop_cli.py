"""`mlops review start-loops` and `mlops review collect`: the post-processing job and the collector run against
the home's A2I runtime and object store; bad input exits 2 with a specific message and creates nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from offline.aws import local_session
from offline.defaults import LOCAL_BUCKET
from offline.store import ObjectStore
from pipelines.cli import main
from tests.processing.review.captures import ENDPOINT, window, write_window

WINDOW = ["--start", "2024-05-01T10:00:00Z", "--end", "2024-05-01T11:00:00Z"]


@pytest.fixture
def home(tmp_path, contract) -> Path:
    """A home whose endpoint captured 40 predictions (10 marked for review) in 2024-05-01 10:00-11:00."""
    home = tmp_path / "home"
    store = ObjectStore.for_home(home)
    store.create_bucket(LOCAL_BUCKET)
    capture = write_window(tmp_path / "capture", window(contract, 40, inference_ids=True))
    store.put_dir(f"s3://{LOCAL_BUCKET}/datacapture/{ENDPOINT}", capture)
    return home


def mlops(home: Path, *args: str):
    return CliRunner().invoke(main, ["--home", str(home), *args])


def _flows(home: Path) -> list[str]:
    sm = local_session(home).client("sagemaker")
    return [f["FlowDefinitionName"] for f in sm.list_flow_definitions()["FlowDefinitionSummaries"]]


def test_start_loops_makes_the_endpoints_flow_definition_and_starts_each_loop_once(home):
    result = mlops(home, "review", "start-loops", "--endpoint", ENDPOINT, *WINDOW, "--audit-rate", "0")
    assert result.exit_code == 0, result.output
    assert "10 loop(s) for [2024-05-01T10:00:00Z, 2024-05-01T11:00:00Z) (10 review, 0 audit)" in result.output
    assert "10 started" in result.output
    [flow] = _flows(home)
    assert flow.startswith(f"{ENDPOINT}-review-") and f"flow-definition/{flow}" in result.output
    manifest = f"s3://{LOCAL_BUCKET}/human-review/{ENDPOINT}/manifests/2024/05/01/10/manifest.json"
    assert f"manifest {manifest}" in result.output
    again = mlops(home, "review", "start-loops", "--endpoint", ENDPOINT, *WINDOW, "--audit-rate", "0", "--json")
    document = json.loads(again.output)
    assert (document["started"], document["alreadyStarted"], document["manifest"]) == (0, 10, manifest)
    assert _flows(home) == [flow]  # found again, not made twice
    listed = json.loads(mlops(home, "review", "list", "--json").output)
    assert len(listed) == 10 and {loop["TaskCount"] for loop in listed} == {1}


def test_collect_turns_answered_loops_into_ground_truth_and_labelled_rows(home):
    assert mlops(home, "review", "start-loops", "--endpoint", ENDPOINT, *WINDOW, "--audit-rate", "0").exit_code == 0
    names = [loop["HumanLoopName"] for loop in json.loads(mlops(home, "review", "list", "--json").output)]
    for n, name in enumerate(names[:-1]):
        assert mlops(home, "review", "answer", name, "--worker", "ana", "--label", str(n % 2)).exit_code == 0
    result = mlops(home, "review", "collect", "--endpoint", ENDPOINT)
    assert result.exit_code == 0, result.output
    assert "9 completed loop(s): 9 with a consensus label" in result.output
    assert "9 ground-truth record(s), 9 labelled row(s) in 2 file(s)" in result.output
    store = ObjectStore.for_home(home)
    ground_truth = store.list(f"s3://{LOCAL_BUCKET}/ground-truth/{ENDPOINT}/2024/05/01/10/")
    labels = [u for u in store.list(f"s3://{LOCAL_BUCKET}/BreastCancerBuild/human-labels/") if u.endswith(".csv")]
    assert len(ground_truth) == 1 and len(labels) == 1
    keys = [json.loads(line)["eventMetadata"]["eventId"] for line in store.get_bytes(ground_truth[0]).splitlines()]
    assert len(keys) == 9 and all(key.startswith("req-") for key in keys)  # the capture's inference ids
    before = {uri: store.get_bytes(uri) for uri in ground_truth + labels}
    again = json.loads(mlops(home, "review", "collect", "--endpoint", ENDPOINT, "--json").output)
    assert sorted(again[0]["files"]) == sorted(before) and again[0]["ground_truth_records"] == 9
    assert {uri: store.get_bytes(uri) for uri in before} == before


def test_an_empty_window_starts_nothing_and_exits_0(home):
    result = mlops(
        home, "review", "start-loops", "--endpoint", ENDPOINT, "--start", "2024-05-01T12:00:00Z",
        "--end", "2024-05-01T13:00:00Z",
    )  # fmt: skip
    assert result.exit_code == 0 and "nothing to review in [2024-05-01T12:00:00Z" in result.output
    assert json.loads(mlops(home, "review", "list", "--json").output) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--endpoint", "never-served", *WINDOW], "capture location s3://"),
        (
            ["--endpoint", ENDPOINT, "--start", "2024-05-01T11:00:00Z", "--end", "2024-05-01T10:00:00Z"],
            "must be before",
        ),
        (["--endpoint", ENDPOINT, "--start", "noon", "--end", "2024-05-01T10:00:00Z"], "not an ISO-8601 time: 'noon'"),
        (["--endpoint", ENDPOINT, *WINDOW, "--audit-rate", "1.5"], "1.5 is not in the range 0<=x<=1"),
        (["--endpoint", ENDPOINT, *WINDOW, "--audit-rate", "-0.2"], "is not in the range 0<=x<=1"),
        (
            ["--endpoint", ENDPOINT, *WINDOW, "--flow-definition", "no-such-flow"],
            "unknown flow definition 'no-such-flow'",
        ),
        (["--endpoint", ENDPOINT, *WINDOW, "--task-count", "4"], "4 is not in the range 1<=x<=3"),
        (["--endpoint", ENDPOINT, *WINDOW, "--capture-uri", "s3://Bad_Bucket/x"], "Invalid bucket name"),
    ],
)
def test_bad_start_loops_input_exits_2_and_creates_nothing(home, args, message):
    result = mlops(home, "review", "start-loops", *args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert _flows(home) == []
    assert json.loads(mlops(home, "review", "list", "--json").output) == []


def test_an_unknown_flow_definition_arn_is_refused(home):
    arn = "arn:aws:sagemaker:us-east-1:123456789012:flow-definition/missing"
    result = mlops(home, "review", "start-loops", "--endpoint", ENDPOINT, *WINDOW, "--flow-definition", arn)
    assert result.exit_code == 2 and f"unknown flow definition '{arn}'" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--endpoint", ENDPOINT], "has no flow definition of its own: start its loops first"),
        (["--endpoint", ENDPOINT, "--flow-definition", "nope"], "unknown flow definition 'nope'"),
        (["--endpoint", ENDPOINT, "--start", "monday"], "not an ISO-8601 time: 'monday'"),
        (
            ["--endpoint", ENDPOINT, "--start", "2024-05-02T00:00:00Z", "--end", "2024-05-01T00:00:00Z"],
            "must be before",
        ),
    ],
)
def test_bad_collect_input_exits_2(home, args, message):
    result = mlops(home, "review", "collect", *args)
    assert result.exit_code == 2 and message in result.output


@pytest.mark.parametrize("option", ["--ground-truth-uri", "--labels-uri"])
def test_collect_refuses_a_destination_that_is_not_an_s3_uri(home, option):
    assert mlops(home, "review", "start-loops", "--endpoint", ENDPOINT, *WINDOW).exit_code == 0
    result = mlops(home, "review", "collect", "--endpoint", ENDPOINT, option, "/tmp/somewhere")
    assert result.exit_code == 2 and f"{option} /tmp/somewhere" in result.output
