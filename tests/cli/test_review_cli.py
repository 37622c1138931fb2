"""`mlops review list|show|answer`: the local human loops read and answered without a browser; bad input
exits 2 with a specific message and stores nothing; and the whole path a user takes, with `mlops local
serve`, boto3 and `mlops review answer` in separate processes."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from click.testing import CliRunner

from offline.aws import local_session
from offline.aws.a2i.loops import HumanLoops
from pipelines.cli import main
from processing.review.answers import answer_content, parse_label
from processing.review.consensus import consensus
from tests.offline.aws.a2i_helpers import loop_input, make_flow

FEATURES = {"mean radius": 17.99, "mean texture": 10.38, "worst area": 2019.0}
LABEL = {"name": "diagnosis", "positive": {"value": 1, "name": "malignant"}, "negative": {"value": 0, "name": "benign"}}


def _review_input(**changes) -> dict:
    return {
        "endpoint": "breast-cancer",
        "eventId": "e-1",
        "inferenceId": None,
        "inferenceTime": "2024-05-01T10:00:00Z",
        "rowIndex": 2,
        "reason": "review",
        "probability": 0.62,
        "predictedLabel": 1,
        "features": FEATURES,
        "label": LABEL,
        **changes,
    }


@pytest.fixture
def home(tmp_path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def a2i(home):
    return local_session(home).client("sagemaker-a2i-runtime")


@pytest.fixture
def flow(home) -> str:
    session = local_session(home)
    return make_flow(session.client("sagemaker"), session.client("s3"))


def _start(a2i, name: str, flow: str, content: dict | None = None) -> None:
    a2i.start_human_loop(
        HumanLoopName=name,
        FlowDefinitionArn=flow,
        HumanLoopInput={"InputContent": json.dumps(content or _review_input())},
    )


def mlops(home: Path, *args: str):
    return CliRunner().invoke(main, ["--home", str(home), "review", *args])


def test_list_shows_loops_with_their_answers_and_filters(home, a2i, flow):
    assert mlops(home, "list").output == "no human loops\n"
    _start(a2i, "first", flow)
    _start(a2i, "second", flow)
    a2i.stop_human_loop(HumanLoopName="second")
    result = mlops(home, "list")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["LOOP", "STATUS", "ANSWERS", "CREATED", "FLOW", "DEFINITION"]
    assert [line.split()[:3] for line in lines[1:]] == [["first", "InProgress", "0/1"], ["second", "Stopped", "0/1"]]
    stopped = json.loads(mlops(home, "list", "--status", "stopped", "--json").output)
    assert [(s["HumanLoopName"], s["HumanLoopStatus"], s["TaskCount"]) for s in stopped] == [("second", "Stopped", 1)]
    assert json.loads(mlops(home, "list", "--flow", "review-flow", "--json").output)[0]["FlowDefinitionArn"] == flow
    assert mlops(home, "list", "--flow", "other-flow").output == "no human loops of other-flow\n"


def test_show_renders_the_input_and_the_answers_readably(home, a2i, flow):
    _start(a2i, "readable", flow)
    result = mlops(home, "show", "readable")
    assert result.exit_code == 0, result.output
    assert "loop     readable (InProgress, 0/1 answers)" in result.output
    assert "why      review: P(malignant) = 0.62, predicted malignant (1)" in result.output
    assert "mean radius" in result.output and "2019.0" in result.output and "answers  none yet" in result.output
    assert (
        mlops(home, "answer", "readable", "--worker", "ana", "--label", "0", "--reason", "smooth edges").exit_code == 0
    )
    shown = mlops(home, "show", "readable").output
    assert "(Completed, 1/1 answers)" in shown and "output   s3://review-output/out/review-flow/" in shown
    assert "by ana" in shown and "benign (0), disagrees" in shown and "reason: smooth edges" in shown
    as_json = json.loads(mlops(home, "show", "readable", "--json").output)
    assert as_json["input"] == _review_input() and as_json["loop"]["HumanLoopStatus"] == "Completed"
    assert as_json["answers"][0]["workerName"] == "ana" and len(as_json["answers"][0]["workerId"]) == 16


def test_show_prints_another_templates_input_as_json(home, a2i, flow):
    a2i.start_human_loop(HumanLoopName="other", FlowDefinitionArn=flow, HumanLoopInput=loop_input())
    shown = mlops(home, "show", "other").output
    assert "(not this project's review input)" in shown and '"text": "check <b>this</b>"' in shown


def test_label_answers_as_the_template_would_and_completes_the_loop(home, a2i, flow):
    _start(a2i, "to-label", flow)
    result = mlops(home, "answer", "to-label", "--worker", "ana", "--label", "1", "--reason", "irregular")
    assert result.exit_code == 0, result.output
    assert (
        "recorded the answer of ana to to-label (1/1)" in result.output
        and "to-label is Completed: s3://" in result.output
    )
    uri = a2i.describe_human_loop(HumanLoopName="to-label")["HumanLoopOutput"]["OutputS3Uri"]
    output = json.loads((home / "s3" / uri[len("s3://") :]).read_bytes())
    assert output["humanAnswers"][0]["answerContent"] == answer_content(1, _review_input(), "irregular")
    assert output["inputContent"] == _review_input()


def test_task_count_answers_make_a_majority_and_a_tie_is_disputed(home, a2i):
    session = local_session(home)
    flow = make_flow(session.client("sagemaker"), session.client("s3"), name="triple", task_count=3)
    for name in ("majority", "tied"):
        _start(a2i, name, flow)
    for worker, label in (("ana", "1"), ("ben", "0"), ("cy", "1")):
        assert mlops(home, "answer", "majority", "--worker", worker, "--label", label).exit_code == 0
    for worker, answer in (("ana", '{"label": {"label": "1"}}'), ("ben", '{"label": {"label": "0"}}'), ("cy", "{}")):
        assert mlops(home, "answer", "tied", "--worker", worker, "--answer-json", answer).exit_code == 0
    # a tie at TaskCount escalates to one more reviewer (once); an extra vote without a label leaves it tied
    assert a2i.describe_human_loop(HumanLoopName="tied")["HumanLoopStatus"] == "InProgress"
    assert mlops(home, "answer", "tied", "--worker", "dee", "--answer-json", "{}").exit_code == 0
    results = {}
    for name in ("majority", "tied"):
        uri = a2i.describe_human_loop(HumanLoopName=name)["HumanLoopOutput"]["OutputS3Uri"]
        answers = json.loads((home / "s3" / uri[len("s3://") :]).read_bytes())["humanAnswers"]
        results[name] = consensus(parse_label(a["answerContent"]) for a in answers)
    assert (results["majority"].label, results["majority"].status) == (1, "agreed")
    assert (results["tied"].label, results["tied"].status) == (None, "disputed")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["no-such-loop", "--worker", "ana", "--label", "1"], "error: Human loop no-such-loop does not exist."),
        (["no-such-loop", "--worker", "ana", "--answer-json", "{}"], "error: Human loop no-such-loop does not exist."),
        (["loop-1", "--worker", "ana", "--label", "2"], "Invalid value for '--label': '2' is not one of '0', '1'."),
        (["loop-1", "--worker", "ana", "--label", "malignant"], "is not one of '0', '1'"),
        (["loop-1", "--worker", "ana"], "give exactly one of --label and --answer-json"),
        (
            ["loop-1", "--worker", "ana", "--label", "1", "--answer-json", "{}"],
            "give exactly one of --label and --answer-json",
        ),
        (["loop-1", "--worker", "ana", "--answer-json", "{}", "--reason", "x"], "--reason goes with --label"),
        (["loop-1", "--worker", "ana", "--answer-json", "{not json"], "--answer-json is not valid JSON"),
        (["loop-1", "--worker", "ana", "--answer-json", " "], "--answer-json is empty"),
        (
            ["loop-1", "--worker", "ana", "--answer-json", "[1, 2]"],
            "--answer-json must be a JSON object: give the object crowd-form submits",
        ),
        (["loop-1", "--worker", "ana", "--answer-json", "[" * 100 + "]" * 100], "must be a JSON object"),
        (["loop-1", "--worker", "ana", "--answer-json", '{"a":' * 80 + "1" + "}" * 80], "nests deeper than 64 levels"),
        (["loop-1", "--worker", "two words", "--label", "1"], "worker 'two words'"),
        (["loop-1", "--label", "1"], "Missing option '--worker'"),
        (["Bad_Name", "--worker", "ana", "--label", "1"], "error: Human loop Bad_Name does not exist."),
    ],
)
def test_bad_answers_exit_2_and_store_nothing(home, a2i, flow, args, message):
    _start(a2i, "loop-1", flow)
    result = mlops(home, "answer", *args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert HumanLoops.for_home(home).detail("us-east-1", "loop-1").answers == []


def test_answers_a_loop_cannot_take_exit_2(home, a2i, flow):
    _start(a2i, "stopped", flow)
    a2i.stop_human_loop(HumanLoopName="stopped")
    result = mlops(home, "answer", "stopped", "--worker", "ana", "--answer-json", "{}")
    assert (
        result.exit_code == 2
        and "Human loop stopped is Stopped; only a loop in progress takes answers" in result.output
    )
    result = mlops(home, "answer", "stopped", "--worker", "ana", "--label", "1")
    assert result.exit_code == 2 and "human loop stopped is Stopped" in result.output
    a2i.start_human_loop(HumanLoopName="foreign", FlowDefinitionArn=flow, HumanLoopInput=loop_input())
    result = mlops(home, "answer", "foreign", "--worker", "ana", "--label", "1")
    assert result.exit_code == 2 and "does not carry this project's review input" in result.output
    assert "--answer-json" in result.output
    session = local_session(home)
    twice = make_flow(session.client("sagemaker"), name="twice", task_count=2)
    _start(a2i, "twice", twice)
    assert mlops(home, "answer", "twice", "--worker", "ana", "--label", "1").exit_code == 0
    result = mlops(home, "answer", "twice", "--worker", "ana", "--label", "0")
    assert result.exit_code == 2 and "Worker ana has already answered human loop twice." in result.output
    assert len(HumanLoops.for_home(home).detail("us-east-1", "twice").answers) == 1


def test_unknown_loops_exit_2_in_show(home):
    result = mlops(home, "show", "nothing-here")
    assert result.exit_code == 2 and "error: Human loop nothing-here does not exist." in result.output


def test_a_users_whole_path_over_mlops_local_serve(tmp_path):
    """What the acceptance does: boto3 knows only AWS_ENDPOINT_URL; the answer comes from another process."""
    import subprocess

    from tests.cli.test_local_serve import Serve

    serve = Serve(tmp_path / "home")
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            env[name] = "x"
        session = boto3.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name="us-east-1")
        config = Config(retries={"max_attempts": 1})
        sm, a2i, s3 = (
            session.client(n, endpoint_url=serve.url, config=config)
            for n in ("sagemaker", "sagemaker-a2i-runtime", "s3")
        )
        flow = make_flow(sm, s3)
        _start(a2i, "served", flow)
        mlops_bin = shutil.which("mlops", path=str(Path(sys.executable).parent))
        command = [mlops_bin] if mlops_bin else [sys.executable, "-c", "from pipelines.cli import main; main()"]
        done = subprocess.run(
            [*command, "review", "answer", "served", "--worker", "ana", "--label", "0"],
            env={**env, "MLOPS_HOME": str(serve.home)},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        described = a2i.describe_human_loop(HumanLoopName="served")
        assert described["HumanLoopStatus"] == "Completed"
        key = described["HumanLoopOutput"]["OutputS3Uri"].split("review-output/", 1)[1]
        output = json.loads(s3.get_object(Bucket="review-output", Key=key)["Body"].read())
        assert parse_label(output["humanAnswers"][0]["answerContent"]) == 0
    finally:
        code, _ = serve.stop()
    assert code == 0
