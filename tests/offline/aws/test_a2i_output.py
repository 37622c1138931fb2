"""output.json against real A2I outputs (../shared/reference/a2i): the same keys and types at every level,
workerId's 16 hex digits, the identity's shape, ISO timestamps with milliseconds and Z, timeSpentInSeconds
as the real files compute it, and the S3 key layout that reproduces the real OutputS3Uris exactly."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest

from offline.aws import local_session
from offline.aws.a2i.loops import HumanLoops
from offline.aws.a2i.output import iso_ms, output_uri
from tests.offline.aws.a2i_helpers import BUCKET, loop_input, make_flow

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
WORKER_ID = re.compile(r"^[0-9a-f]{16}$")


@pytest.fixture(scope="module")
def real_outputs(reference_dir) -> dict[str, dict]:
    files = sorted((reference_dir / "a2i").glob("*.output.json"))
    if not files:
        pytest.skip("no real A2I output.json in the reference folder")
    return {f.name: json.loads(f.read_text()) for f in files}


@pytest.fixture(scope="module")
def current(real_outputs) -> list[dict]:
    """The real outputs of today's layout (the March-2020 ones say humanLoopInputContent, no acceptanceTime)."""
    chosen = [o for o in real_outputs.values() if "inputContent" in o and "acceptanceTime" in o["humanAnswers"][0]]
    assert chosen, "the reference folder holds no output.json of the current layout"
    return chosen


@pytest.fixture(scope="module")
def ours(tmp_path_factory) -> tuple[dict, bytes, str]:
    home = tmp_path_factory.mktemp("home")
    session = local_session(home)
    flow = make_flow(session.client("sagemaker"), session.client("s3"), task_count=2)
    a2i = session.client("sagemaker-a2i-runtime")
    a2i.start_human_loop(HumanLoopName="compare-me", FlowDefinitionArn=flow, HumanLoopInput=loop_input(score={"x": 1}))
    loops = HumanLoops.for_home(home)
    created = loops.detail("us-east-1", "compare-me").info.creation_ms
    loops.answer("us-east-1", "compare-me", "ana", {"category": {"label": "fine"}}, acceptance_ms=created)
    loops.answer("us-east-1", "compare-me", "ben", {"category": {"label": "check"}})
    uri = a2i.describe_human_loop(HumanLoopName="compare-me")["HumanLoopOutput"]["OutputS3Uri"]
    data = (Path(home) / "s3" / uri[len("s3://") :]).read_bytes()
    return json.loads(data), data, uri


def _shape(value):
    """Keys and types, recursively; answerContent and inputContent are the caller's, so only their type."""
    if isinstance(value, dict):
        return {k: ("object" if k in ("answerContent", "inputContent") else _shape(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(v) for v in value[:1]]
    return type(value).__name__


def test_keys_and_types_match_the_real_outputs_at_every_level(current, ours):
    document, _, _ = ours
    for real in current:
        assert _shape(document) == _shape(real)
    assert len(document["humanAnswers"]) == 2  # one element per worker (TaskCount 2)


def test_worker_ids_identities_and_timestamps_look_like_the_real_ones(current, ours):
    document, _, _ = ours
    answers = [a for real in current for a in real["humanAnswers"]] + document["humanAnswers"]
    for answer in answers:
        assert WORKER_ID.match(answer["workerId"]), answer["workerId"]
        identity = answer["workerMetadata"]["identityData"]
        assert sorted(identity) == ["identityProviderType", "issuer", "sub"]
        assert identity["identityProviderType"] in ("Cognito", "Oidc") and all(
            isinstance(v, str) for v in identity.values()
        )
        for key in ("acceptanceTime", "submissionTime"):
            assert TIMESTAMP.match(answer[key]), answer[key]
        spent = _parse(answer["submissionTime"]) - _parse(answer["acceptanceTime"])
        assert answer["timeSpentInSeconds"] == round(spent.total_seconds(), 3)  # the real files' rule, kept
    assert document["humanAnswers"][0]["workerId"] != document["humanAnswers"][1]["workerId"]


def test_keys_are_sorted_at_every_level(ours):
    _, data, _ = ours

    def check(pairs):
        keys = [k for k, _ in pairs]
        assert keys == sorted(keys)
        return dict(pairs)

    json.loads(data, object_pairs_hook=check)


def test_the_key_layout_reproduces_the_real_output_uris(reference_dir, real_outputs):
    """The fraud-detector loops are named after their creation time in epoch ms, so the layout rule can be
    checked end to end: <S3OutputPath>/<flow>/<creation time, UTC>/<loop>/output.json."""
    checked = 0
    for describe in sorted((reference_dir / "a2i").glob("*.describe.txt")):
        text = describe.read_text()
        name = re.search(r"Human Loop Name: (\S+)", text).group(1)
        uri = re.search(r"(s3://\S+/output\.json)", text).group(1)
        output = real_outputs[describe.name.replace(".describe.txt", "_0.output.json")]
        flow = output["flowDefinitionArn"].rsplit("/", 1)[1]
        prefix = uri.split(f"/{flow}/", 1)[0]
        created_ms = int(name.rsplit("-", 1)[1])
        assert output_uri(prefix, flow, name, created_ms) == uri
        assert output_uri(prefix + "/", flow, name, created_ms) == uri  # a trailing slash changes nothing
        checked += 1
    assert checked >= 1


def test_our_uri_follows_the_layout(ours):
    _, _, uri = ours
    assert re.match(
        rf"^s3://{BUCKET}/out/review-flow/\d{{4}}/\d{{2}}/\d{{2}}/\d{{2}}/\d{{2}}/\d{{2}}/compare-me/output\.json$", uri
    )


def test_iso_ms_is_utc_with_milliseconds():
    assert iso_ms(1613589652563) == "2021-02-17T19:20:52.563Z"
    assert iso_ms(0) == "1970-01-01T00:00:00.000Z"


def _parse(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")
