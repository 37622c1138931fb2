"""`mlops review add-worker / stats / audit / serve`: the portal's commands, their output and their refusals
(exit 2, a specific message, nothing stored)."""

from __future__ import annotations

import json
import socket

import pytest
from click.testing import CliRunner

from offline.aws import local_session
from offline.aws.a2i.loops import HumanLoops
from pipelines.cli import main
from review.portal.audit import AuditLog
from review.portal.workforce import Workforce
from tests.review.portal.portal_helpers import label_answer, make_flow, review_input, start


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch):
    from argon2 import PasswordHasher

    monkeypatch.setattr("review.portal.workforce._HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def home(tmp_path):
    return tmp_path / "home"


def mlops(home, *args: str):
    return CliRunner().invoke(main, ["--home", str(home), "review", *args])


def test_add_worker_prints_the_team_arn_and_the_secret_alone_on_the_last_line(home):
    result = mlops(home, "add-worker", "ana")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == (
        "worker ana added: team default (arn:aws:sagemaker:us-east-1:123456789012:workteam/private-crowd/default)"
    )
    secret = lines[-1]
    assert Workforce.for_home(home).verify("ana", secret).teams == ("default",)
    joined = mlops(home, "--region", "eu-west-1", "add-worker", "ana", "--team", "oncology")
    assert joined.exit_code == 0
    assert (
        "worker ana joined: team oncology (arn:aws:sagemaker:eu-west-1:123456789012:workteam/private-crowd/oncology)"
        in joined.output
    )
    assert secret not in joined.output and "keeps their secret" in joined.output
    renewed = mlops(home, "add-worker", "ana", "--new-secret").output.splitlines()[-1]
    assert renewed != secret and Workforce.for_home(home).verify("ana", renewed) is not None
    actions = [(e.action, e.worker) for e in AuditLog(Workforce.for_home(home).db).entries()]
    assert actions == [("worker-added", "ana")] * 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["add-worker", "bad/name"], "worker 'bad/name'"),
        (["add-worker", "ana", "--team", "no spaces"], "team 'no spaces'"),
        (["add-worker", "ana", "--team", ""], "team ''"),
    ],
)
def test_add_worker_refuses_bad_names_with_exit_2_and_stores_nothing(home, args, message):
    result = mlops(home, *args)
    assert result.exit_code == 2 and message in result.output
    assert Workforce.for_home(home).workers() == []


def test_adding_a_member_twice_exits_2(home):
    mlops(home, "add-worker", "ana")
    result = mlops(home, "add-worker", "ana")
    assert result.exit_code == 2 and "error: worker ana is already a member of team default" in result.output


def _answered(home) -> None:
    aws = local_session(home)
    flow = make_flow(aws, task_count=2)
    loops = HumanLoops.for_home(home)
    for n, votes in enumerate(([1, 1], [0, 0], [1, 0, 1], [0, 1])):
        start(aws, f"loop-{n}", flow, review_input(eventId=f"e-{n}"))
        for worker, label in zip(("ana", "ben", "cy"), votes, strict=False):
            loops.answer("us-east-1", f"loop-{n}", worker, label_answer(label))


def test_stats_report_consensus_escalations_and_agreement(home):
    _answered(home)
    result = mlops(home, "stats")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "4 loops answered (9 answers), 3 completed, 2 escalated after a tie"
    assert lines[1] == "consensus of completed loops: agreed 3"
    assert lines[2].startswith("Krippendorff's alpha (nominal): ") and lines[2].endswith(
        "over 4 loops with two or more labels"
    )
    assert "  ana and ben: kappa 0.000, agreement 0.500 over 4 loops" in lines
    as_json = json.loads(mlops(home, "stats", "--json").output)
    assert as_json["escalated"] == 2 and as_json["agreement"]["reviewers"] == ["ana", "ben", "cy"]
    assert mlops(home, "stats", "--flow", "no-such-flow").output.startswith("0 loops answered")


def test_audit_lists_entries_oldest_first_and_filters_by_loop_and_worker(home):
    db = Workforce.for_home(home).db
    log = AuditLog(db)
    arn = "arn:aws:sagemaker:us-east-1:123456789012:human-loop/loop-1"
    log.append("opened", "ana", arn)
    log.append("answered", "ana", arn, "1/2")
    log.append("opened", "ben", arn.replace("loop-1", "loop-2"))
    everything = mlops(home, "audit").output.splitlines()
    assert [line.split()[2:4] for line in everything] == [
        ["opened", "loop-1"],
        ["answered", "loop-1"],
        ["opened", "loop-2"],
    ]
    assert len(mlops(home, "audit", "--loop", "loop-1").output.splitlines()) == 2
    assert len(mlops(home, "audit", "--loop", arn).output.splitlines()) == 2
    assert len(mlops(home, "audit", "--worker", "ben").output.splitlines()) == 1
    assert mlops(home, "audit", "--worker", "nobody").output == "no audit entries of worker nobody\n"
    entries = json.loads(mlops(home, "audit", "--json", "--worker", "ana").output)
    assert [e["action"] for e in entries] == ["opened", "answered"] and entries[1]["detail"] == "1/2"


def test_serve_refuses_a_bad_address_or_a_port_in_use(home):
    result = mlops(home, "serve", "--host", "example.com")
    assert result.exit_code == 2 and "is not an IP address" in result.output
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        result = mlops(home, "serve", "--port", str(taken.getsockname()[1]))
    assert result.exit_code == 2 and "is in use on 127.0.0.1" in result.output


def test_every_portal_command_has_help():
    for command in ("serve", "add-worker", "stats", "audit"):
        result = CliRunner().invoke(main, ["review", command, "--help"])
        assert result.exit_code == 0 and "Usage:" in result.output
