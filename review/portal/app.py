"""The portal's HTTP side: a Starlette app over the local A2I runtime's loops.

Contract (docs/human-review.md, "The reviewer portal"): `GET/POST /login` (fields `worker`, `secret`,
`csrf_token`), `GET /tasks` (the queue, `?page=N`), `GET/POST /tasks/<human-loop-name>` (the form posts
`taskAnswers` and `csrf_token`), `POST /logout`, `GET /admin` (admins), `/static/…` (the portal's own
scripts and styles). Every POST needs its CSRF token (the session's; for sign-in, the one the sign-in page
set in a cookie): without it the answer is 403 and nothing changes.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from offline.aws.a2i.errors import ConflictException, ResourceNotFoundException, ValidationException
from offline.aws.a2i.loops import COMPLETED, IN_PROGRESS, HumanLoops, LoopDetail, local_identity
from offline.aws.constants import DEFAULT_REGION
from offline.aws.sagemaker.errors import ResourceNotFound
from review.portal import pages
from review.portal.audit import ANSWERED, OPENED, SIGN_IN_REFUSED, SIGNED_IN, SIGNED_OUT, AuditLog
from review.portal.forms import MAX_BODY_BYTES, FormError, parse_form, parse_task_answers
from review.portal.security import SecurityHeaders
from review.portal.sessions import SESSION_SECONDS, Session, Sessions, SignInLimiter, new_token, same_token
from review.portal.workforce import Worker, Workforce, team_of
from review.rendering import render

SESSION_COOKIE = "portal_session"
LOGIN_COOKIE = "portal_login"
LOGIN_SECONDS = 3600
PAGE_SIZE = 25
LOOP_NAME_MAX = 63
LOOP_NAME = re.compile(r"[a-z0-9](-*[a-z0-9])*")  # StartHumanLoop's rule


@dataclass(frozen=True)
class Flow:
    arn: str
    title: str
    description: str
    human_task_ui_arn: str


class Portal:
    """The portal's state and rules; the routes below only translate HTTP."""

    def __init__(
        self,
        home: str | os.PathLike | None = None,
        region: str = DEFAULT_REGION,
        *,
        threshold: float | None = None,
        page_size: int = PAGE_SIZE,
        session_seconds: int = SESSION_SECONDS,
        limiter: SignInLimiter | None = None,
    ):
        self.loops = HumanLoops.for_home(home)
        db = self.loops.db
        self.region = region
        self.threshold = _decision_threshold() if threshold is None else threshold
        self.page_size = page_size
        self.workforce = Workforce(db)
        self.sessions = Sessions(db, session_seconds)
        self.audit = AuditLog(db)
        self.limiter = limiter or SignInLimiter()

    def flows_for(self, worker: Worker) -> dict[str, Flow]:
        """The active flow definitions whose work team the worker belongs to."""
        rows = self.loops.db.query(
            "SELECT arn, document FROM sm_flow_definitions WHERE region = ? AND status = 'Active'", (self.region,)
        )
        visible = {}
        for row in rows:
            config = json.loads(row["document"]).get("HumanLoopConfig") or {}
            if team_of(config.get("WorkteamArn"), self.region) in worker.teams:
                visible[row["arn"]] = Flow(
                    row["arn"],
                    str(config.get("TaskTitle") or ""),
                    str(config.get("TaskDescription") or ""),
                    str(config.get("HumanTaskUiArn") or ""),
                )
        return visible

    def queue(self, worker: Worker, flows: dict[str, Flow], page: int):
        return self.loops.open_for(
            self.region,
            sorted(flows),
            worker.name,
            threshold=self.threshold,
            limit=self.page_size,
            offset=(page - 1) * self.page_size,
        )

    def left(self, worker: Worker, flows: dict[str, Flow]) -> int:
        return self.loops.open_for(self.region, sorted(flows), worker.name, threshold=self.threshold, limit=0)[0]

    def next_task(self, worker: Worker, flows: dict[str, Flow]) -> str | None:
        items = self.loops.open_for(
            self.region, sorted(flows), worker.name, threshold=self.threshold, limit=1, count=False
        )[1]
        return items[0].name if items else None


def create_app(portal: Portal) -> Starlette:
    static = resources.files("review.portal").joinpath("static")
    routes = [
        Route("/", lambda request: RedirectResponse("/tasks", 303)),
        Route("/favicon.ico", lambda request: Response(status_code=204)),
        Route("/login", _handler(portal, login_page), methods=["GET"]),
        Route("/login", _handler(portal, login), methods=["POST"]),
        Route("/logout", _handler(portal, logout), methods=["POST"]),
        Route("/tasks", _handler(portal, queue_page), methods=["GET"]),
        Route("/tasks/{name}", _handler(portal, task_page), methods=["GET"]),
        Route("/tasks/{name}", _handler(portal, submit), methods=["POST"]),
        Route("/admin", _handler(portal, admin_page), methods=["GET"]),
        Mount("/static", StaticFiles(directory=Path(str(static))), name="static"),
    ]
    app = Starlette(routes=routes)
    app.add_middleware(SecurityHeaders)
    app.state.portal = portal
    return app


def _handler(portal: Portal, view):
    """A view (sync: SQLite and argon2 block) run in the thread pool, given the request's body read first,
    up to MAX_BODY_BYTES + 1 so an oversized form is refused without being held in memory."""

    async def endpoint(request: Request) -> Response:
        body = b""
        if request.method == "POST":
            declared = request.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
                return _too_large()
            chunks, size = [], 0
            async for chunk in request.stream():
                size += len(chunk)
                if size > MAX_BODY_BYTES:
                    return _too_large()
                chunks.append(chunk)
            body = b"".join(chunks)
        return await run_in_threadpool(view, portal, request, body)

    endpoint.__name__ = view.__name__
    return endpoint


# -- sign-in ---------------------------------------------------------------------------------------------


def login_page(portal: Portal, request: Request, body: bytes) -> Response:
    if _session(portal, request) is not None:
        return RedirectResponse("/tasks", 303)
    token = new_token()
    response = _login_form(token, status=200)
    _set_cookie(response, request, LOGIN_COOKIE, token, LOGIN_SECONDS)
    return response


def login(portal: Portal, request: Request, body: bytes) -> Response:
    try:
        form = parse_form(request.headers.get("content-type"), body)
    except FormError as e:
        if e.status == 413:
            return _notice(e.status, "Sign-in refused", e.message)
        form = {}  # no token to read: refused below
    expected = request.cookies.get(LOGIN_COOKIE)
    if not expected or not same_token(form.get("csrf_token"), expected):
        return _notice(
            403, "Sign-in refused", "The form's CSRF token is missing or stale: open the sign-in page again."
        )
    name, secret = form.get("worker", "").strip(), form.get("secret", "")
    keys = [f"addr:{request.client.host if request.client else '-'}", f"worker:{name}"]
    wait = portal.limiter.retry_after(keys)
    if wait > 0:
        response = _login_form(
            expected, status=429, error="Too many failed sign-ins: wait a few minutes and try again."
        )
        response.headers["Retry-After"] = str(math.ceil(wait))
        return response
    worker = portal.workforce.verify(name, secret) if name and secret else None
    if worker is None:
        portal.limiter.failed(keys)
        known = portal.workforce.worker(name) if name else None
        portal.audit.append(SIGN_IN_REFUSED, known.name if known else None)
        return _login_form(expected, status=401, error="Wrong worker name or secret.", given_worker=name)
    portal.limiter.succeeded(f"worker:{name}")
    token, _ = portal.sessions.open(worker.name)
    portal.audit.append(SIGNED_IN, worker.name)
    response = RedirectResponse("/tasks", 303)
    _set_cookie(response, request, SESSION_COOKIE, token, portal.sessions.lifetime_ms // 1000)
    response.delete_cookie(LOGIN_COOKIE, path="/", httponly=True, samesite="strict")
    return response


def logout(portal: Portal, request: Request, body: bytes) -> Response:
    signed_in = _signed_in(portal, request)
    if signed_in is None:
        return _notice(403, "Not signed in", "Sign in first.")
    worker, session = signed_in
    refused = _csrf_refusal(session, body, request)
    if refused is not None:
        return refused
    portal.sessions.close(request.cookies.get(SESSION_COOKIE))
    portal.audit.append(SIGNED_OUT, worker.name)
    response = RedirectResponse("/login", 303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response


# -- the queue and tasks ---------------------------------------------------------------------------------


def queue_page(portal: Portal, request: Request, body: bytes) -> Response:
    signed_in = _signed_in(portal, request)
    if signed_in is None:
        return RedirectResponse("/login", 303)
    worker, session = signed_in
    raw_page = request.query_params.get("page", "1")
    if not raw_page.isdigit() or not 1 <= int(raw_page) <= 1_000_000:
        return _notice(400, "No such page", "page must be a whole number from 1", _layout(worker, session, 0))
    page = int(raw_page)
    flows = portal.flows_for(worker)
    total, items = portal.queue(worker, flows, page)
    pages = max(1, math.ceil(total / portal.page_size))
    done = _loop_name(request.query_params.get("done"))
    html = pages_render(
        "queue.html",
        "Your tasks",
        _layout(worker, session, total),
        total=total,
        teams=", ".join(worker.teams) or "none",
        first=items[0].name if items and page == 1 else None,
        notice=f"Your answer to {done} was recorded." if done else None,
        page=page,
        pages=pages,
        items=[
            {
                "position": (page - 1) * portal.page_size + n,
                "name": item.name,
                "title": flows[item.flow_definition_arn].title,
                "probability": item.probability,
                "created": _when(item.creation_ms),
            }
            for n, item in enumerate(items, 1)
        ],
    )
    return HTMLResponse(html)


def task_page(portal: Portal, request: Request, body: bytes) -> Response:
    signed_in = _signed_in(portal, request)
    if signed_in is None:
        return RedirectResponse("/login", 303)
    worker, session = signed_in
    name = request.path_params["name"]
    flows = portal.flows_for(worker)
    detail = _visible_loop(portal, name, flows)
    if detail is None:
        return _not_found(portal, worker, session, flows, name)
    info = detail.info
    if portal.loops.answered_by(info.arn, worker.name):
        return _notice(
            200,
            "Already answered",
            f"You have answered {name}; each reviewer answers a task once.",
            _layout(worker, session, portal.left(worker, flows)),
        )
    if info.status != IN_PROGRESS:
        return _notice(
            200,
            f"Task {info.status.lower()}",
            f"{name} is {info.status}: it takes no more answers.",
            _layout(worker, session, portal.left(worker, flows)),
        )
    flow = flows[info.flow_definition_arn]
    try:
        content = portal.loops.resources.task_ui_content(flow.human_task_ui_arn)
    except ResourceNotFound:
        return _notice(500, "Task template missing", f"The task UI of {name}'s flow definition was deleted.")
    rendered = render(content, detail.input_content)
    if rendered.errors:
        return _notice(500, "Task template error", f"The task template does not render: {rendered.errors[0].code}.")
    portal.audit.append(OPENED, worker.name, info.arn)
    after = _loop_name(request.query_params.get("after"))
    predicted = detail.input_content.get("predictedLabel") if isinstance(detail.input_content, dict) else None
    html = pages_render(
        "task.html",
        flow.title or name,
        _layout(
            worker,
            session,
            portal.left(worker, flows),
            task=True,
            predicted_label=predicted if predicted in (0, 1) and not isinstance(predicted, bool) else None,
        ),
        heading=flow.title or name,
        description=flow.description,
        notice=f"Your answer to {after} was recorded. Next:" if after else None,
        shortcuts=_shortcuts(content),
        rendered=pages.trusted(pages.without_crowd_script(rendered.html)),
    )
    return HTMLResponse(html)


def submit(portal: Portal, request: Request, body: bytes) -> Response:
    signed_in = _signed_in(portal, request)
    if signed_in is None:
        return _notice(403, "Not signed in", "Sign in, then answer the task from its page.")
    worker, session = signed_in
    refused = _csrf_refusal(session, body, request)
    if refused is not None:
        return refused
    name = request.path_params["name"]
    flows = portal.flows_for(worker)
    layout = _layout(worker, session, 0)
    try:
        answer = parse_task_answers(parse_form(request.headers.get("content-type"), body).get("taskAnswers"))
    except FormError as e:
        return _notice(e.status, "Answer refused", e.message, layout)
    detail = _visible_loop(portal, name, flows)
    if detail is None:
        return _not_found(portal, worker, session, flows, name)
    info = detail.info
    accepted = portal.audit.first_opened(info.arn, worker.name, info.creation_ms)

    def record(conn, done) -> None:
        outcome = (
            "completed"
            if done.status == COMPLETED
            else "tie: escalated to one more reviewer"
            if done.escalations > info.escalations
            else f"{done.answers}/{done.required_answers}"
        )
        portal.audit.append(ANSWERED, worker.name, info.arn, outcome, conn=conn)

    try:
        portal.loops.answer(
            portal.region,
            name,
            worker.name,
            answer,
            acceptance_ms=accepted,
            identity=local_identity(worker.name),
            record=record,
        )
    except ConflictException as e:
        return _notice(409, "Answer not recorded", e.message, _layout(worker, session, portal.left(worker, flows)))
    except ValidationException as e:
        return _notice(400, "Answer refused", e.message, layout)
    following = portal.next_task(worker, flows)
    target = f"/tasks/{following}?after={name}" if following else f"/tasks?done={name}"
    return RedirectResponse(target, 303)


def admin_page(portal: Portal, request: Request, body: bytes) -> Response:
    signed_in = _signed_in(portal, request)
    if signed_in is None:
        return RedirectResponse("/login", 303)
    worker, session = signed_in
    flows = portal.flows_for(worker)
    layout = _layout(worker, session, portal.left(worker, flows))
    if not worker.admin:
        return _notice(
            403, "Admins only", "The statistics page is for admins (mlops review add-worker --admin).", layout
        )
    from review.portal.stats import review_stats

    stats = review_stats(portal.loops.db, portal.region)
    html = pages_render(
        "admin.html",
        "Review statistics",
        layout,
        stats=stats,
        consensus=list(stats.consensus.items()),
        alpha=stats.agreement.alpha,
        alpha_items=stats.agreement.alpha_items,
        pairs=stats.agreement.pairs,
        workers=[{"name": w.name, "admin": w.admin, "teams": ", ".join(w.teams)} for w in portal.workforce.workers()],
        audit=[
            {
                "at": _when(e.at_ms),
                "worker": e.worker or "",
                "action": e.action,
                "loop": (e.loop_arn or "").rsplit("/", 1)[-1],
                "detail": e.detail or "",
            }
            for e in portal.audit.entries(limit=50, newest=True)
        ],
    )
    return HTMLResponse(html)


# -- helpers ---------------------------------------------------------------------------------------------


def pages_render(name: str, title: str, layout: dict[str, Any], **context: Any) -> str:
    return pages.render_page(name, title, layout, **context)


def _session(portal: Portal, request: Request) -> Session | None:
    return portal.sessions.get(request.cookies.get(SESSION_COOKIE))


def _signed_in(portal: Portal, request: Request) -> tuple[Worker, Session] | None:
    session = _session(portal, request)
    worker = portal.workforce.worker(session.worker) if session else None
    return (worker, session) if worker else None


def _csrf_refusal(session: Session, body: bytes, request: Request) -> Response | None:
    """403 unless the form carries the session's CSRF token (checked before anything else is read)."""
    try:
        form = parse_form(request.headers.get("content-type"), body)
    except FormError as e:
        if e.status == 413:
            return _notice(e.status, "Refused", e.message)
        form = {}  # a form the portal did not make carries no token it can read
    if not same_token(form.get("csrf_token"), session.csrf_token):
        return _notice(403, "Refused", "The form's CSRF token is missing or wrong: reload the page and try again.")
    return None


def _visible_loop(portal: Portal, name: str, flows: dict[str, Flow]) -> LoopDetail | None:
    """The loop when it exists and belongs to one of the worker's flows (else the worker may not know of it)."""
    if len(name) > LOOP_NAME_MAX:
        return None
    try:
        detail = portal.loops.detail(portal.region, name)
    except (ResourceNotFoundException, ValidationException):
        return None
    return detail if detail.info.flow_definition_arn in flows else None


def _not_found(portal: Portal, worker: Worker, session: Session, flows: dict[str, Flow], name: str) -> Response:
    return _notice(
        404, "No such task", f"There is no task {name} for you.", _layout(worker, session, portal.left(worker, flows))
    )


def _layout(worker: Worker, session: Session, left: int, **extra: Any) -> dict[str, Any]:
    return {"worker": worker.name, "admin": worker.admin, "csrf_token": session.csrf_token, "left": left, **extra}


def _login_form(token: str, status: int, error: str | None = None, given_worker: str = "") -> HTMLResponse:
    html = pages_render("login.html", "Sign in", {}, login_csrf=token, error=error, given_worker=given_worker)
    return HTMLResponse(html, status_code=status)


def _too_large() -> HTMLResponse:
    return _notice(413, "Refused", f"The form is larger than {MAX_BODY_BYTES // (1024 * 1024)} MiB.")


def _notice(status: int, heading: str, message: str, layout: dict[str, Any] | None = None) -> HTMLResponse:
    html = pages_render("notice.html", heading, layout or {}, heading=heading, message=message)
    return HTMLResponse(html, status_code=status)


def _set_cookie(response: Response, request: Request, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name, value, max_age=max_age, path="/", httponly=True, samesite="strict", secure=request.url.scheme == "https"
    )


def _loop_name(value: str | None) -> str | None:
    """A loop name from the query string (the notice after an answer), or None when it is not one."""
    return value if value and len(value) <= LOOP_NAME_MAX and LOOP_NAME.fullmatch(value) else None


def _shortcuts(template: str) -> str:
    keys = []
    if 'name="label-positive"' in template:
        keys.append("1 or 0: the label")
        keys.append("a / d: agree / disagree")
    elif "crowd-radio-button" in template or "crowd-classifier" in template:
        keys.append("1-9: choose the nth option")
    keys.append("Ctrl+Enter: submit")
    return "Keys: " + "; ".join(keys)


def _when(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _decision_threshold() -> float:
    from processing.contract import load_contract

    return load_contract().decision_threshold
