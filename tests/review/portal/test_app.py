"""The portal over HTTP (Starlette's TestClient, the real app, state DB and object store): signing in,
the queue, a task page, answers recorded as `mlops review answer` records them, CSRF, escaping, cookies,
rate limits, visibility by work team, escalation of ties and the audit trail."""

from __future__ import annotations

import json
import re

import pytest

from offline.aws.a2i.errors import ConflictException
from offline.aws.a2i.loops import HumanLoops, local_identity
from offline.aws.a2i.output import worker_id
from processing.review.answers import answer_content
from review.portal.app import Portal
from review.portal.audit import AuditLog
from review.portal.sessions import SignInLimiter
from review.portal.workforce import Workforce
from tests.review.portal.conftest import client_of, sign_in
from tests.review.portal.portal_helpers import (
    csrf_of,
    label_answer,
    login_token,
    make_flow,
    review_input,
    start,
    team_arn,
)


@pytest.fixture
def flow(aws) -> str:
    return make_flow(aws)


def _answer(client, loop: str, content: dict, csrf: str | None):
    data = {"taskAnswers": json.dumps([content])}
    if csrf is not None:
        data["csrf_token"] = csrf
    return client.post(f"/tasks/{loop}", data=data)


def _status(aws, loop: str) -> str:
    return aws.client("sagemaker-a2i-runtime").describe_human_loop(HumanLoopName=loop)["HumanLoopStatus"]


def _output(aws, home, loop: str) -> dict:
    uri = aws.client("sagemaker-a2i-runtime").describe_human_loop(HumanLoopName=loop)["HumanLoopOutput"]["OutputS3Uri"]
    return json.loads((home / "s3" / uri[len("s3://") :]).read_bytes())


def _queue(client, page: int = 1) -> list[str]:
    html = client.get(f"/tasks?page={page}").text
    return re.findall(r'<td><a href="/tasks/([a-z0-9-]+)">', html)


# -- signing in ----------------------------------------------------------------------------------------------


def test_sign_in_sets_a_strict_httponly_expiring_cookie_and_opens_the_queue(client, workers):
    page = client.get("/login")
    assert page.status_code == 200
    login_cookie = page.headers["set-cookie"]
    assert "HttpOnly" in login_cookie and "SameSite=strict" in login_cookie
    response = client.post(
        "/login", data={"worker": "ana", "secret": workers["ana"], "csrf_token": login_token(page.text)}
    )
    assert response.status_code == 303 and response.headers["location"] == "/tasks"
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("portal_session="))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Max-Age=28800" in cookie
    assert workers["ana"] not in cookie
    assert client.get("/tasks").status_code == 200


def test_a_wrong_secret_or_unknown_worker_is_refused_and_signs_nobody_in(client, workers):
    token = login_token(client.get("/login").text)
    for worker, secret in (("ana", "not-the-secret"), ("nobody", workers["ana"]), ("ana", workers["ben"]), ("", "")):
        response = client.post("/login", data={"worker": worker, "secret": secret, "csrf_token": token})
        assert response.status_code == 401, worker
        assert "Wrong worker name or secret." in response.text
        assert "portal_session" not in response.headers.get("set-cookie", "")
    assert client.get("/tasks").status_code == 303  # still signed out


def test_sign_in_without_its_csrf_token_is_refused(client, workers):
    client.get("/login")
    for data in (
        {"worker": "ana", "secret": workers["ana"]},
        {"worker": "ana", "secret": workers["ana"], "csrf_token": "forged"},
    ):
        response = client.post("/login", data=data)
        assert response.status_code == 403
        assert "portal_session" not in response.headers.get("set-cookie", "")


def test_sign_in_is_rate_limited_per_worker_and_address(home, workers):
    clock = [0.0]
    client = client_of(Portal(home, threshold=0.5, limiter=SignInLimiter(3, 60.0, clock=lambda: clock[0])))
    token = login_token(client.get("/login").text)
    for _ in range(3):
        assert client.post("/login", data={"worker": "ana", "secret": "x", "csrf_token": token}).status_code == 401
    refused = client.post("/login", data={"worker": "ana", "secret": workers["ana"], "csrf_token": token})
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) == 60
    clock[0] = 61.0  # the failures leave the window
    assert (
        client.post("/login", data={"worker": "ana", "secret": workers["ana"], "csrf_token": token}).status_code == 303
    )


def test_sign_out_needs_the_csrf_token_then_ends_the_session(client, workers):
    csrf = sign_in(client, "ana", workers["ana"])
    assert client.post("/logout", data={}).status_code == 403
    assert client.get("/tasks").status_code == 200  # still signed in
    response = client.post("/logout", data={"csrf_token": csrf})
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert client.get("/tasks").status_code == 303


def test_a_stolen_cookie_stops_working_when_the_session_expires(home, workers):
    client = client_of(Portal(home, threshold=0.5, session_seconds=0))
    token = login_token(client.get("/login").text)
    assert (
        client.post("/login", data={"worker": "ana", "secret": workers["ana"], "csrf_token": token}).status_code == 303
    )
    assert client.get("/tasks").status_code == 303  # expired at once: back to sign-in


def test_secrets_and_tokens_are_stored_only_as_hashes(home, client, workers):
    sign_in(client, "ana", workers["ana"])
    dump = "\n".join(HumanLoops.for_home(home).db.conn.iterdump())
    assert workers["ana"] not in dump and "$argon2id$" in dump
    assert client.cookies["portal_session"] not in dump


# -- the queue ----------------------------------------------------------------------------------------------


def test_the_queue_is_most_uncertain_first_paged_and_counts_what_is_left(aws, flow, client, workers):
    for name, p in (("far", 0.95), ("near", 0.52), ("mid", 0.30), ("close", 0.45)):
        start(aws, name, flow, review_input(probability=p))
    start(aws, "no-probability", flow, {"text": "another template's input"})
    sign_in(client, "ana", workers["ana"])
    html = client.get("/tasks").text
    assert "5 tasks left" in html and "Page 1 of 2" in html
    assert _queue(client, 1) == ["near", "close", "mid"]
    assert _queue(client, 2) == ["far", "no-probability"]
    assert _queue(client, 3) == []
    for bad in ("0", "x", "-1", "1.5"):
        assert client.get(f"/tasks?page={bad}").status_code == 400


def test_only_members_of_the_flow_definitions_team_see_its_loops(aws, client, workers):
    ours = make_flow(aws, "ours")
    theirs = make_flow(aws, "theirs", team="other")
    elsewhere = make_flow(aws, "elsewhere", WorkteamArn=team_arn("default", account="210987654321"))
    start(aws, "mine", ours)
    start(aws, "not-mine", theirs)
    start(aws, "other-account", elsewhere)
    sign_in(client, "ana", workers["ana"])
    assert _queue(client) == ["mine"]
    assert client.get("/tasks/not-mine").status_code == 404
    assert client.get("/tasks/other-account").status_code == 404
    assert _answer(client, "not-mine", label_answer(1), csrf_of(client.get("/tasks").text)).status_code == 404
    assert _status(aws, "not-mine") == "InProgress"


def test_unknown_or_malformed_loop_names_are_not_found(flow, client, workers):
    sign_in(client, "ana", workers["ana"])
    for name in ("no-such-loop", "UPPER", "x" * 64, "a%20b"):
        assert client.get(f"/tasks/{name}").status_code == 404


# -- a task page ----------------------------------------------------------------------------------------------


def test_the_task_page_renders_the_template_with_the_portals_elements_and_values_as_text(aws, flow, client, workers):
    payload = '<img src=x onerror="alert(1)">'
    start(aws, "loop-1", flow, review_input(features={"mean radius": payload, "<script>alert(2)</script>": 1.0}))
    sign_in(client, "ana", workers["ana"])
    page = client.get("/tasks/loop-1")
    assert page.status_code == 200
    html = page.text
    assert "assets.crowd.aws" not in html
    assert '<script src="/static/crowd-elements.js" defer></script>' in html
    assert "<img" not in html and "<script>alert" not in html
    assert (
        "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in html
        or "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html
    )
    assert 'name="label-positive"' in html and 'data-predicted-label="1"' in html
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert page.headers["x-frame-options"] == "DENY" and page.headers["cache-control"] == "no-store"


def test_the_portals_scripts_are_served_by_the_portal_itself(client):
    for path in ("/static/crowd-elements.js", "/static/portal.js", "/static/portal.css"):
        response = client.get(path)
        assert response.status_code == 200 and "https://" not in response.text, path


# -- answers ---------------------------------------------------------------------------------------------------


def test_an_answer_over_http_is_what_mlops_review_answer_records(aws, home, flow, client, workers):
    start(aws, "loop-1", flow)
    start(aws, "loop-2", flow)
    csrf = sign_in(client, "ana", workers["ana"])
    client.get("/tasks/loop-1")
    response = _answer(client, "loop-1", label_answer(0, reason="smooth"), csrf)
    assert response.status_code == 303 and response.headers["location"] == "/tasks/loop-2?after=loop-1"
    loops = HumanLoops.for_home(home)
    loops.answer("us-east-1", "loop-1", "ben", answer_content(0, review_input(), None))  # as `mlops review answer`
    portal, cli = _output(aws, home, "loop-1")["humanAnswers"]
    assert portal["answerContent"] == label_answer(0, reason="smooth")
    assert cli["answerContent"] == label_answer(0)  # the CLI's --label answer is the template's own shape
    identity = local_identity("ana")
    assert portal["workerMetadata"] == {"identityData": identity}
    assert portal["workerId"] == worker_id(identity["issuer"], identity["sub"])
    assert portal["acceptanceTime"] <= portal["submissionTime"]  # acceptance: when ana opened the task
    # one worker is one identity across the portal and the CLI: ana cannot answer loop-2 twice
    assert _answer(client, "loop-2", label_answer(1), csrf).status_code == 303
    with pytest.raises(ConflictException, match="already answered"):
        loops.answer("us-east-1", "loop-2", "ana", label_answer(1))


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(aws, home, flow, client, workers):
    start(aws, "loop-1", flow, review_input())
    sign_in(client, "ana", workers["ana"])
    for token in (None, "", "forged"):
        response = _answer(client, "loop-1", label_answer(1), token)
        assert response.status_code == 403
    detail = HumanLoops.for_home(home).detail("us-east-1", "loop-1")
    assert detail.answers == [] and detail.info.status == "InProgress"
    assert [e.action for e in AuditLog(HumanLoops.for_home(home).db).entries(worker="ana")] == ["signed-in"]


def test_a_post_without_a_session_is_refused(aws, flow, client):
    start(aws, "loop-1", flow)
    assert _answer(client, "loop-1", label_answer(1), "anything").status_code == 403
    assert _status(aws, "loop-1") == "InProgress"


@pytest.mark.parametrize(
    ("body", "content_type", "status", "message"),
    [
        ("taskAnswers=", "application/x-www-form-urlencoded", 400, "the form has no taskAnswers"),
        ("taskAnswers=%7B%7D", "application/x-www-form-urlencoded", 400, "a JSON array holding one object"),
        ("taskAnswers=%5B%5D", "application/x-www-form-urlencoded", 400, "a JSON array holding one object"),
        (
            "taskAnswers=%5B%7B%7D%2C%7B%7D%5D",
            "application/x-www-form-urlencoded",
            400,
            "a JSON array holding one object",
        ),
        ("taskAnswers=%5B1%5D", "application/x-www-form-urlencoded", 400, "a JSON array holding one object"),
        ("taskAnswers=%5B%7Bnot", "application/x-www-form-urlencoded", 400, "taskAnswers is not JSON"),
        (
            "taskAnswers=" + "%5B" * 70 + "%5D" * 70,
            "application/x-www-form-urlencoded",
            400,
            "array holding one object",
        ),
        (
            "taskAnswers=%5B" + "%7B%22a%22%3A" * 70 + "1" + "%7D" * 70 + "%5D",
            "application/x-www-form-urlencoded",
            400,
            "nests deeper",
        ),
        (
            "taskAnswers=%5B%7B%22a%22%3A%22%5Cud800%22%7D%5D",
            "application/x-www-form-urlencoded",
            400,
            "taskAnswers[0]",
        ),
        ("taskAnswers=%FF", "application/x-www-form-urlencoded", 403, "CSRF token is missing"),
        ('{"taskAnswers": []}', "application/json", 403, "CSRF token is missing"),
        (
            "taskAnswers=%5B%7B%7D%5D&taskAnswers=%5B%7B%7D%5D",
            "application/x-www-form-urlencoded",
            403,
            "CSRF token is missing",
        ),
    ],
)
def test_bad_answers_get_a_clear_4xx_and_store_nothing(
    aws, home, flow, client, workers, body, content_type, status, message
):
    start(aws, "loop-1", flow)
    csrf = sign_in(client, "ana", workers["ana"])
    if content_type.endswith("urlencoded"):
        body = f"csrf_token={csrf}&{body}"
    # a form the portal cannot read (not UTF-8, repeated fields, JSON) carries no CSRF token it can trust: 403
    response = client.post("/tasks/loop-1", content=body.encode("latin-1"), headers={"content-type": content_type})
    assert response.status_code == status, response.text
    assert message in response.text.replace("&#39;", "'")
    assert HumanLoops.for_home(home).detail("us-east-1", "loop-1").answers == []


def test_a_form_over_the_size_limit_is_refused(aws, flow, client, workers):
    start(aws, "loop-1", flow)
    csrf = sign_in(client, "ana", workers["ana"])
    big = "x" * (4 * 1024 * 1024 + 1)
    response = _answer(client, "loop-1", {"reason": big}, csrf)
    assert response.status_code == 413


def test_a_reviewer_never_gets_the_same_loop_twice(aws, flow, client, workers):
    start(aws, "loop-1", flow)
    csrf = sign_in(client, "ana", workers["ana"])
    assert _answer(client, "loop-1", label_answer(1), csrf).status_code == 303
    assert _queue(client) == []
    assert "You have answered loop-1" in client.get("/tasks/loop-1").text
    again = _answer(client, "loop-1", label_answer(0), csrf)
    assert again.status_code == 409 and "already answered" in again.text


def test_two_reviewers_complete_a_task_count_2_loop_and_it_leaves_their_queues(aws, home, flow, workers):
    start(aws, "loop-1", flow)
    ana, ben = client_of(Portal(home, threshold=0.5)), client_of(Portal(home, threshold=0.5))
    ana_csrf, ben_csrf = sign_in(ana, "ana", workers["ana"]), sign_in(ben, "ben", workers["ben"])
    assert ana.get("/tasks/loop-1").status_code == 200
    assert _answer(ana, "loop-1", label_answer(1), ana_csrf).headers["location"] == "/tasks?done=loop-1"
    assert _queue(ben) == ["loop-1"]  # ben has not seen ana's answer: the page shows no answers at all
    assert "label-positive&#34;: {&#34;1&#34;: true" not in ben.get("/tasks/loop-1").text
    assert _answer(ben, "loop-1", label_answer(1), ben_csrf).status_code == 303
    assert _status(aws, "loop-1") == "Completed"
    output = _output(aws, home, "loop-1")
    assert [a["answerContent"] for a in output["humanAnswers"]] == [label_answer(1), label_answer(1)]
    assert _queue(ana) == [] and _queue(ben) == []


def test_a_tie_escalates_to_one_more_reviewer_whose_vote_decides(aws, home, flow, workers):
    Workforce.for_home(home).add_worker("cy", "default")  # cy joins ana and ben's team too
    start(aws, "loop-1", flow)
    votes = {"ana": 1, "ben": 0}
    for worker, label in votes.items():
        client = client_of(Portal(home, threshold=0.5))
        assert (
            _answer(client, "loop-1", label_answer(label), sign_in(client, worker, workers[worker])).status_code == 303
        )
    assert _status(aws, "loop-1") == "InProgress"  # 1-1 at TaskCount 2: one more reviewer
    info = HumanLoops.for_home(home).detail("us-east-1", "loop-1").info
    assert (info.escalations, info.required_answers) == (1, 3)
    cy = client_of(Portal(home, threshold=0.5))
    csrf = sign_in(cy, "cy", workers["cy"])
    assert _queue(cy) == ["loop-1"]
    assert _answer(cy, "loop-1", label_answer(0), csrf).status_code == 303
    assert _status(aws, "loop-1") == "Completed"
    from processing.review.answers import parse_label
    from processing.review.consensus import consensus

    verdict = consensus(parse_label(a["answerContent"]) for a in _output(aws, home, "loop-1")["humanAnswers"])
    assert (verdict.status, verdict.label, verdict.votes) == ("agreed", 0, {0: 2, 1: 1})
    details = [e.detail for e in AuditLog(HumanLoops.for_home(home).db).entries() if e.action == "answered"]
    assert details == ["1/2", "tie: escalated to one more reviewer", "completed"]


def test_the_audit_trail_records_who_opened_and_answered_and_refuses_changes(aws, home, flow, client, workers):
    start(aws, "loop-1", flow)
    csrf = sign_in(client, "ana", workers["ana"])
    client.get("/tasks/loop-1")
    _answer(client, "loop-1", label_answer(1), csrf)
    log = AuditLog(HumanLoops.for_home(home).db)
    entries = log.entries(worker="ana")
    assert [(e.action, (e.loop_arn or "").rsplit("/", 1)[-1]) for e in entries] == [
        ("signed-in", ""),
        ("opened", "loop-1"),
        ("answered", "loop-1"),
    ]
    assert entries[0].at_ms <= entries[1].at_ms <= entries[2].at_ms
    import sqlite3

    for statement in ("UPDATE portal_audit SET worker = 'x'", "DELETE FROM portal_audit"):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            log.db.execute(statement)
    assert len(log.entries()) == len(entries)


def test_the_admin_page_shows_agreement_to_admins_only(aws, home, flow, client, workers):
    start(aws, "loop-1", flow)
    csrf = sign_in(client, "ana", workers["ana"])
    assert client.get("/admin").status_code == 403
    _answer(client, "loop-1", label_answer(1), csrf)
    admin = client_of(Portal(home, threshold=0.5))
    sign_in(admin, "ben", workers["ben"])
    page = admin.get("/admin")
    assert page.status_code == 200
    assert "Krippendorff" in page.text and "signed-in" in page.text and "answered" in page.text
