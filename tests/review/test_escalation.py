"""Escalation: a tie when a loop's required answers are in asks for one more reviewer, once per loop; the
rule is pure (`processing.review.consensus.needs_escalation`) and the local A2I runtime applies it to every
answer, from the portal or `mlops review answer`, so both leave the same statuses."""

from __future__ import annotations

import pytest

from offline.aws import local_session
from offline.aws.a2i.loops import HumanLoops
from processing.review.answers import parse_label
from processing.review.consensus import DISPUTED, MAX_ESCALATIONS, consensus, needs_escalation
from tests.review.portal.portal_helpers import label_answer, make_flow, review_input, start


def test_only_a_tie_escalates_and_only_once():
    assert MAX_ESCALATIONS == 1
    assert needs_escalation([1, 0], escalations=0)
    assert needs_escalation([1, 0, None], escalations=0)
    assert not needs_escalation([1, 0, 0], escalations=0)  # a majority
    assert not needs_escalation([None, None], escalations=0)  # nothing to break a tie of
    assert not needs_escalation([1, 0, None], escalations=1)  # escalated already: it stays disputed


@pytest.fixture
def aws(tmp_path):
    return local_session(tmp_path / "home")


@pytest.fixture
def loops(tmp_path, aws) -> HumanLoops:
    return HumanLoops.for_home(tmp_path / "home")


def _labels(loops: HumanLoops, loop: str) -> list[int | None]:
    return [parse_label(a.answer_content) for a in loops.detail("us-east-1", loop).answers]


def test_a_tie_at_task_count_waits_for_one_more_answer_which_decides(aws, loops):
    start(aws, "tied", make_flow(aws, task_count=2))
    loops.answer("us-east-1", "tied", "ana", label_answer(1))
    escalated = loops.answer("us-east-1", "tied", "ben", label_answer(0))
    assert (escalated.status, escalated.escalations, escalated.required_answers) == ("InProgress", 1, 3)
    assert escalated.output_s3_uri is None
    done = loops.answer("us-east-1", "tied", "cy", label_answer(1))
    assert done.status == "Completed" and done.answers == 3
    verdict = consensus(_labels(loops, "tied"))
    assert (verdict.status, verdict.label) == ("agreed", 1)


def test_a_tie_that_remains_after_the_extra_answer_completes_disputed(aws, loops):
    start(aws, "still-tied", make_flow(aws, task_count=2))
    loops.answer("us-east-1", "still-tied", "ana", label_answer(1))
    loops.answer("us-east-1", "still-tied", "ben", label_answer(0))
    done = loops.answer("us-east-1", "still-tied", "cy", {"reason": "cannot tell"})
    assert (done.status, done.escalations) == ("Completed", 1)
    assert consensus(_labels(loops, "still-tied")).status == DISPUTED


def test_task_count_3_escalates_only_on_a_tie_among_its_labels(aws, loops):
    flow = make_flow(aws, task_count=3)
    start(aws, "majority", flow)
    start(aws, "one-abstains", flow, review_input(eventId="e-2"))
    for worker, label in (("ana", 1), ("ben", 0), ("cy", 1)):
        last = loops.answer("us-east-1", "majority", worker, label_answer(label))
    assert (last.status, last.escalations) == ("Completed", 0)
    loops.answer("us-east-1", "one-abstains", "ana", label_answer(1))
    loops.answer("us-east-1", "one-abstains", "ben", label_answer(0))
    waiting = loops.answer("us-east-1", "one-abstains", "cy", {})
    assert (waiting.status, waiting.required_answers) == ("InProgress", 4)
    assert loops.answer("us-east-1", "one-abstains", "dee", label_answer(0)).status == "Completed"


def test_answers_of_another_template_never_escalate(aws, loops):
    start(aws, "other", make_flow(aws, task_count=2), {"text": "no label here"})
    loops.answer("us-east-1", "other", "ana", {"yes": {"yes": True}, "no": {"no": False}})
    assert loops.answer("us-east-1", "other", "ben", {"yes": {"yes": False}, "no": {"no": True}}).status == "Completed"


def test_a_failing_record_hook_stores_neither_the_answer_nor_output(aws, loops, tmp_path):
    start(aws, "hooked", make_flow(aws, task_count=1))

    def record(conn, info):
        raise RuntimeError("the audit line could not be written")

    with pytest.raises(RuntimeError):
        loops.answer("us-east-1", "hooked", "ana", label_answer(1), record=record)
    detail = loops.detail("us-east-1", "hooked")
    assert detail.answers == [] and detail.info.status == "InProgress"
    assert not list((tmp_path / "home" / "s3").rglob("output.json"))


def test_a_workers_queue_leaves_out_expired_answered_and_other_regions_loops(aws, loops, tmp_path):
    flow = make_flow(aws, task_count=2)
    for name, p in (("a", 0.9), ("b", 0.5), ("c", 0.2)):
        start(aws, name, flow, review_input(probability=p))
    loops.answer("us-east-1", "b", "ana", label_answer(1))
    total, items = loops.open_for("us-east-1", [flow], "ana", threshold=0.5, limit=10)
    assert total == 2 and [i.name for i in items] == ["c", "a"]  # |0.2-0.5| < |0.9-0.5|
    assert loops.open_for("eu-west-1", [flow], "ana", threshold=0.5, limit=10) == (0, [])
    assert loops.open_for("us-east-1", [], "ana", threshold=0.5, limit=10) == (0, [])
    total, items = loops.open_for("us-east-1", [flow], "ana", threshold=0.5, limit=1, offset=5)
    assert (total, items) == (2, [])
    expiring = make_flow(aws, "expiring", task_count=1, TaskAvailabilityLifetimeInSeconds=1)
    start(aws, "soon-gone", expiring)
    loops.db.execute("UPDATE a2i_human_loops SET expires_ms = 0 WHERE name = 'soon-gone'")
    assert loops.open_for("us-east-1", [expiring], "ana", threshold=0.5, limit=10) == (0, [])


def test_the_migration_reads_the_probability_of_loops_started_before_it(aws, loops):
    from offline.state import StateDB

    flow = make_flow(aws, task_count=1)
    start(aws, "old", flow, review_input(probability=0.25))
    start(aws, "other", flow, {"probability": "high"})
    db = loops.db
    db.execute("DROP INDEX a2i_human_loops_open")
    db.execute("ALTER TABLE a2i_human_loops DROP COLUMN probability")
    db.execute("ALTER TABLE a2i_human_loops DROP COLUMN escalations")
    db.execute("UPDATE schema_versions SET version = 1 WHERE component = 'human_loops'")
    migrated = StateDB(db.path)
    assert {r["name"]: r["probability"] for r in migrated.query("SELECT name, probability FROM a2i_human_loops")} == {
        "old": 0.25,
        "other": None,
    }
    assert migrated.query_one("SELECT escalations FROM a2i_human_loops WHERE name = 'old'")[0] == 0
