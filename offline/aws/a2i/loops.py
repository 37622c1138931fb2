"""Human loops: their state and rules, durable in the state DB (no HTTP here).

A loop is InProgress until its flow definition's TaskCount workers have answered, then Completed with
A2I's output.json in the object store; StopHumanLoop makes it Stopped; a loop nobody finished within its
flow definition's TaskAvailabilityLifetimeInSeconds is Failed (FailureCode `Expired`). The answer that
completes a loop writes output.json atomically *before* the transaction that records the answer and the
status commits, so a crash leaves either nothing (the answer was not taken; answering again works) or
both: never a Completed loop without its output.json, never a lost answer.

Starting a loop is one statement (an INSERT … SELECT from its flow definition: one transaction, one
commit) and parses nothing but its input.

Escalation (the reviewer portal's rule, applied to every answer so the portal and `mlops review answer`
leave the same statuses): when the answers reach the loop's required number and their labels tie
(`processing.review.consensus.needs_escalation`), the loop asks for one more answer and stays InProgress.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import sqlite3
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from offline.aws.a2i.errors import (
    ConflictException,
    ResourceNotFoundException,
    ThrottlingException,
    ValidationException,
)
from offline.aws.a2i.output import Answer, encode, output_document, output_uri, worker_id
from offline.aws.a2i.throttle import TokenBucket
from offline.aws.constants import LOCAL_ACCOUNT_ID
from offline.aws.errors import SerializationException
from offline.aws.protocols.json import load_json_object
from offline.aws.sagemaker.human_review import FLOW_TABLE, HumanReviewResources
from offline.aws.shapes import epoch_seconds
from offline.home import mlops_home
from offline.state import StateDB, register_schema
from offline.store import ObjectStore
from processing.review.answers import parse_label
from processing.review.consensus import needs_escalation
from processing.review.task_input import read_label_spec

COMPONENT = "human_loops"
IN_PROGRESS, COMPLETED, STOPPED, FAILED = "InProgress", "Completed", "Stopped", "Failed"
STATUSES = (IN_PROGRESS, COMPLETED, STOPPED, FAILED)
DEFAULT_PAGE = 100
# Answers given locally (the CLI; the reviewer portal signs workers in with its own identity) name their
# worker with this issuer, so one worker name is one workerId across commands and processes.
LOCAL_ISSUER = "urn:mlops:local-workforce"
_WORKER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}")

register_schema(
    COMPONENT,
    [
        """
        CREATE TABLE a2i_human_loops (
            arn TEXT PRIMARY KEY,
            region TEXT NOT NULL,
            name TEXT NOT NULL,
            flow_definition_arn TEXT NOT NULL,
            flow_definition_name TEXT NOT NULL,
            s3_output_path TEXT NOT NULL,
            task_count INTEGER NOT NULL,
            status TEXT NOT NULL,
            creation_ms INTEGER NOT NULL,
            updated_ms INTEGER NOT NULL,
            expires_ms INTEGER,
            input_content TEXT NOT NULL,
            input_digest TEXT NOT NULL,
            data_attributes TEXT,
            output_s3_uri TEXT,
            failure_code TEXT,
            failure_reason TEXT
        );
        CREATE INDEX a2i_human_loops_flow ON a2i_human_loops (flow_definition_arn, creation_ms, name);
        CREATE TABLE a2i_human_answers (
            loop_arn TEXT NOT NULL REFERENCES a2i_human_loops (arn) ON DELETE CASCADE,
            worker_id TEXT NOT NULL,
            worker_name TEXT NOT NULL,
            seq INTEGER NOT NULL,
            acceptance_ms INTEGER NOT NULL,
            submission_ms INTEGER NOT NULL,
            answer_content TEXT NOT NULL,
            identity TEXT NOT NULL,
            PRIMARY KEY (loop_arn, worker_id)
        );
        """,
        # v2, for the reviewer portal: escalations (each asks for one answer beyond TaskCount), and the review
        # input's probability, read once when the loop starts, in a covering index: a worker's queue is then
        # counted and ordered by uncertainty from the index alone, without parsing 10,000 inputs per page.
        """
        ALTER TABLE a2i_human_loops ADD COLUMN escalations INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE a2i_human_loops ADD COLUMN probability REAL;
        UPDATE a2i_human_loops SET probability = json_extract(input_content, '$.probability')
            WHERE json_type(input_content, '$.probability') IN ('real', 'integer');
        CREATE INDEX a2i_human_loops_open ON a2i_human_loops
            (status, flow_definition_arn, region, probability, creation_ms, name, expires_ms, arn);
        """,
    ],
)


@dataclass(frozen=True)
class LoopInfo:
    name: str
    arn: str
    region: str
    flow_definition_arn: str
    status: str
    creation_ms: int
    task_count: int
    answers: int
    output_s3_uri: str | None
    failure_code: str | None
    failure_reason: str | None
    escalations: int = 0  # ties that asked for one more answer each

    @property
    def required_answers(self) -> int:
        """Answers that complete the loop: TaskCount, plus one per escalation."""
        return self.task_count + self.escalations


@dataclass(frozen=True)
class QueueItem:
    """An open loop as a worker's queue lists it."""

    name: str
    flow_definition_arn: str
    creation_ms: int
    probability: float | None


@dataclass(frozen=True)
class LoopDetail:
    info: LoopInfo
    input_content: Any
    answers: list[Answer]


def valid_worker_name(worker: object) -> bool:
    """1-64 letters, digits and . _ @ + -, starting with a letter or digit (a worker's name everywhere)."""
    return isinstance(worker, str) and _WORKER.fullmatch(worker) is not None


def local_identity(worker: str) -> dict[str, str]:
    """workerMetadata.identityData for a worker of the local workforce (A2I: Cognito or OIDC claims)."""
    return {
        "identityProviderType": "Oidc",
        "issuer": LOCAL_ISSUER,
        "sub": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{LOCAL_ISSUER}/{worker}")),
    }


class HumanLoops:
    def __init__(
        self,
        db: StateDB,
        store: ObjectStore,
        resources: HumanReviewResources,
        account_id: str = LOCAL_ACCOUNT_ID,
        throttle: TokenBucket | None = None,
    ):
        self.db = db
        self.store = store
        self.resources = resources
        self.account_id = account_id
        self.throttle = throttle
        db.ensure(COMPONENT)

    @classmethod
    def for_home(cls, home: str | os.PathLike | None = None) -> HumanLoops:
        """The loops of a home, for code that is not a request (the CLI, the reviewer portal)."""
        path = mlops_home(home)
        db, store = StateDB(path / "state.db"), ObjectStore(path / "s3")
        return cls(db, store, HumanReviewResources(db, store, Path(path), LOCAL_ACCOUNT_ID))

    def arn(self, region: str, name: str) -> str:
        return f"arn:aws:sagemaker:{region}:{self.account_id}:human-loop/{name}"

    # -- the A2I runtime's operations ------------------------------------------------------------------

    def start(self, region: str, params: dict) -> str:
        name, flow_arn = params["HumanLoopName"], params["FlowDefinitionArn"]
        content = params["HumanLoopInput"]["InputContent"]
        try:
            parsed = load_json_object(content.encode("utf-8", "surrogatepass"), "HumanLoopInput.InputContent")
        except SerializationException as e:
            raise ValidationException(e.message) from None
        digest = hashlib.sha256(_canonical(parsed)).hexdigest()
        if self.throttle is not None and not self.throttle.take():
            raise ThrottlingException("Rate exceeded")
        arn, now = self.arn(region, name), _now_ms()
        attributes = params.get("DataAttributes")
        conn = self.db.conn
        try:
            # One statement, so one transaction: the loop takes what it needs from its (Active) flow definition,
            # and inserts nothing when there is none; a name in use is the primary key's conflict.
            inserted = conn.execute(
                "INSERT INTO a2i_human_loops (arn, region, name, flow_definition_arn, flow_definition_name,"
                " s3_output_path, task_count, status, creation_ms, updated_ms, expires_ms, input_content,"
                " input_digest, data_attributes, probability)"
                " SELECT ?, ?, ?, arn, name, s3_output_path, task_count, ?, ?, ?, ? + availability_seconds * 1000, ?, ?, ?, ?"
                f" FROM {FLOW_TABLE} WHERE arn = ? AND region = ? AND status = 'Active'",
                (
                    arn,
                    region,
                    name,
                    IN_PROGRESS,
                    now,
                    now,
                    now,
                    content,
                    digest,
                    _json_or_none(attributes),
                    _probability(parsed),
                    flow_arn,
                    region,
                ),
            ).rowcount
        except sqlite3.IntegrityError:
            earlier = conn.execute(
                "SELECT flow_definition_arn, input_digest FROM a2i_human_loops WHERE arn = ?", (arn,)
            ).fetchone()
            if earlier is None:  # deleted meanwhile: the name is free again
                return self.start(region, params)
            if earlier["flow_definition_arn"] == flow_arn and earlier["input_digest"] == digest:
                return arn  # the same request again: the same loop (a re-run starts no duplicate)
            raise ConflictException(
                f"Human loop {name} already exists with different input data or flow definition: you cannot "
                "start two human loops with the same name and different input data."
            ) from None
        if not inserted:
            raise ValidationException(f"Flow definition {flow_arn} does not exist.")
        return arn

    def describe(self, region: str, name: str) -> dict:
        info = self._info(self._row(self.arn(region, name)))
        described = {
            "CreationTime": info.creation_ms / 1000,
            "HumanLoopStatus": info.status,
            "HumanLoopName": info.name,
            "HumanLoopArn": info.arn,
            "FlowDefinitionArn": info.flow_definition_arn,
            "FailureCode": info.failure_code,
            "FailureReason": info.failure_reason,
        }
        if info.status == COMPLETED:
            described["HumanLoopOutput"] = {"OutputS3Uri": info.output_s3_uri}
        return described

    def list(self, region: str, params: dict) -> dict:
        flow_arn = params["FlowDefinitionArn"]
        flow = self.resources.flow_for_loops(self.db.conn, flow_arn)
        if flow is None or flow.region != region:
            raise ResourceNotFoundException(f"Flow definition {flow_arn} does not exist.")
        descending = params.get("SortOrder", "Descending") == "Descending"
        size = params.get("MaxResults") or DEFAULT_PAGE
        sql = "SELECT * FROM a2i_human_loops WHERE flow_definition_arn = ?"
        args: list[Any] = [flow_arn]
        if params.get("CreationTimeAfter") is not None:
            sql += " AND creation_ms >= ?"
            args.append(_ms(params["CreationTimeAfter"]))
        if params.get("CreationTimeBefore") is not None:
            sql += " AND creation_ms < ?"
            args.append(_ms(params["CreationTimeBefore"]))
        if params.get("NextToken"):
            after = _decode_token(params["NextToken"], flow_arn, descending)
            sql += f" AND (creation_ms, name) {'<' if descending else '>'} (?, ?)"
            args.extend(after)
        order = "DESC" if descending else "ASC"
        sql += f" ORDER BY creation_ms {order}, name {order} LIMIT ?"
        rows = self.db.query(sql, (*args, size + 1))
        infos = [self._info(row, answers=0) for row in rows[:size]]
        summaries = [
            {
                "HumanLoopName": i.name,
                "HumanLoopStatus": i.status,
                "CreationTime": i.creation_ms / 1000,
                "FailureReason": i.failure_reason,
                "FlowDefinitionArn": i.flow_definition_arn,
            }
            for i in infos
        ]
        more = len(rows) > size
        token = _encode_token(flow_arn, descending, infos[-1].creation_ms, infos[-1].name) if more else None
        return {"HumanLoopSummaries": summaries, "NextToken": token}

    def stop(self, region: str, name: str) -> None:
        with self.db.transaction() as conn:
            info = self._info(self._row(self.arn(region, name), conn), answers=0)
            if info.status == STOPPED:
                return
            if info.status != IN_PROGRESS:
                raise ValidationException(
                    f"Human loop {name} is {info.status}; only a loop in progress can be stopped."
                )
            conn.execute(
                "UPDATE a2i_human_loops SET status = ?, updated_ms = ? WHERE arn = ?", (STOPPED, _now_ms(), info.arn)
            )

    def delete(self, region: str, name: str) -> None:
        """Delete a loop that is not in progress (A2I: stop it first); its output.json stays in S3."""
        with self.db.transaction() as conn:
            info = self._info(self._row(self.arn(region, name), conn), answers=0)
            if info.status == IN_PROGRESS:
                raise ValidationException(f"Human loop {name} is InProgress: stop it before deleting it.")
            conn.execute("DELETE FROM a2i_human_loops WHERE arn = ?", (info.arn,))

    # -- answers and queries (no AWS operation: the worker UI records answers) -------------------------

    def answer(
        self,
        region: str,
        name: str,
        worker: str,
        answer_content: dict,
        *,
        acceptance_ms: int | None = None,
        identity: dict[str, str] | None = None,
        record: Callable[[sqlite3.Connection, LoopInfo], None] | None = None,
    ) -> LoopInfo:
        """Record one worker's answer (crowd-form's `taskAnswers[0]`); the last required one completes the loop.

        The required answers are TaskCount, plus one when the labels tie at TaskCount (escalation, once):
        the returned info says which happened (`escalations` grew, or the status is Completed).
        `record(conn, info)` runs inside the answer's transaction (the portal's audit line), so both are
        stored or neither. Unknown loop: ResourceNotFoundException. A loop not in progress, or a worker who
        answered it already: ConflictException. A bad worker name or answer: ValidationException. Nothing
        is stored then.
        """
        if not valid_worker_name(worker):
            raise ValidationException(
                f"worker {worker!r}: 1-64 letters, digits and . _ @ + -, starting with a letter or digit"
            )
        if not isinstance(answer_content, dict):
            raise ValidationException("an answer is a JSON object (what crowd-form submits as taskAnswers[0])")
        try:
            answer_json = json.dumps(answer_content, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as e:
            raise ValidationException(f"the answer is not JSON: {e}") from e
        identity = identity or local_identity(worker)
        worker_key = worker_id(identity["issuer"], identity["sub"])
        now = _now_ms()
        written: str | None = None
        try:
            with self.db.transaction() as conn:
                row = self._row(self.arn(region, name), conn)
                accepted = now if acceptance_ms is None else acceptance_ms
                if (
                    isinstance(accepted, bool)
                    or not isinstance(accepted, int)
                    or not row["creation_ms"] <= accepted <= now
                ):
                    raise ValidationException("the acceptance time must lie between the loop's creation and now")
                info = self._info(row, conn=conn)
                if info.status != IN_PROGRESS:
                    raise ConflictException(
                        f"Human loop {name} is {info.status}; only a loop in progress takes answers."
                    )
                if conn.execute(
                    "SELECT 1 FROM a2i_human_answers WHERE loop_arn = ? AND worker_id = ?", (info.arn, worker_key)
                ).fetchone():
                    raise ConflictException(f"Worker {worker} has already answered human loop {name}.")
                conn.execute(
                    "INSERT INTO a2i_human_answers (loop_arn, worker_id, worker_name, seq, acceptance_ms,"
                    " submission_ms, answer_content, identity) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (info.arn, worker_key, worker, info.answers + 1, accepted, now, answer_json, json.dumps(identity)),
                )
                status, output, escalations = IN_PROGRESS, None, info.escalations
                if info.answers + 1 >= info.required_answers:
                    task_input = json.loads(row["input_content"])
                    answers = self._answers(conn, info.arn)
                    if needs_escalation(_labels(task_input, answers), info.escalations):
                        escalations += 1
                        conn.execute(
                            "UPDATE a2i_human_loops SET escalations = ?, updated_ms = ? WHERE arn = ?",
                            (escalations, now, info.arn),
                        )
                    else:
                        output = output_uri(
                            row["s3_output_path"], row["flow_definition_name"], name, row["creation_ms"]
                        )
                        document = output_document(info.flow_definition_arn, name, task_input, answers)
                        written = output
                        self.store.put_bytes(output, encode(document), content_type="application/json")
                        status = COMPLETED
                        conn.execute(
                            "UPDATE a2i_human_loops SET status = ?, output_s3_uri = ?, updated_ms = ? WHERE arn = ?",
                            (COMPLETED, output, now, info.arn),
                        )
                done = replace(
                    info, status=status, answers=info.answers + 1, output_s3_uri=output, escalations=escalations
                )
                if record is not None:
                    record(conn, done)
        except BaseException:
            if written is not None:  # the commit did not happen: no output.json for a loop still in progress
                self.store.delete(written)
            raise
        return done

    def loops(
        self, region: str | None = None, status: str | None = None, flow_arn: str | None = None
    ) -> list[LoopInfo]:
        """Every loop (oldest first), optionally of one region, status or flow definition."""
        now = _now_ms()
        sql = (
            f"SELECT l.*, (SELECT COUNT(*) FROM a2i_human_answers a WHERE a.loop_arn = l.arn) AS answer_count,"
            f" {_STATUS_SQL} AS effective FROM a2i_human_loops l WHERE 1 = 1"
        )
        args: list[Any] = [now]
        for column, value in (("region", region), ("flow_definition_arn", flow_arn)):
            if value is not None:
                sql += f" AND l.{column} = ?"
                args.append(value)
        if status is not None:
            sql += " AND effective = ?"
            args.append(status)
        rows = self.db.query(sql + " ORDER BY l.creation_ms, l.name", args)
        return [self._info(row, answers=row["answer_count"]) for row in rows]

    def detail(self, region: str, name: str) -> LoopDetail:
        """A loop with its parsed input and the answers given so far (in submission order)."""
        row = self._row(self.arn(region, name))
        answers = self._answers(self.db.conn, row["arn"])
        return LoopDetail(self._info(row, answers=len(answers)), json.loads(row["input_content"]), answers)

    def open_for(
        self,
        region: str,
        flow_arns: Sequence[str],
        worker: str,
        *,
        threshold: float,
        limit: int,
        offset: int = 0,
        identity: dict[str, str] | None = None,
        count: bool = True,
    ) -> tuple[int | None, list[QueueItem]]:
        """A worker's queue: loops of these flow definitions in progress that the worker has not answered,
        most uncertain first (|probability - threshold|, then creation time and name), then inputs without a
        probability, oldest first. Returns how many there are in all (None unless `count`), and the page
        `offset … offset + limit`.

        A loop in progress always lacks answers (the last required one completes it), so every loop listed
        still needs one; the worker's own answer is what rules a loop out. Every query walks the covering
        index `a2i_human_loops_open` in its order (probabilities at or above the threshold upwards, those
        below downwards, then the ones without), reading offset + limit entries of each, so a page costs
        what it shows, not the size of the queue.
        """
        if not flow_arns:
            return (0 if count else None), []
        identity = identity or local_identity(worker)
        worker_key = worker_id(identity["issuer"], identity["sub"])
        now, wanted = _now_ms(), offset + limit
        total = None
        if count:
            marks = ", ".join("?" * len(flow_arns))
            total = self.db.query_one(
                f"SELECT COUNT(*) {_OPEN.format(flows=f'IN ({marks})')}", (*flow_arns, region, now, worker_key)
            )[0]
        if not limit or (total is not None and offset >= total):
            return total, []
        ranked = []
        for flow_arn in flow_arns:
            base = (flow_arn, region, now, worker_key)
            walks = (
                ("AND probability >= ? ORDER BY probability, creation_ms, name", (threshold,)),
                ("AND probability < ? ORDER BY probability DESC, creation_ms, name", (threshold,)),
                ("AND probability IS NULL ORDER BY creation_ms, name", ()),
            )
            for tail, extra in walks:
                rows = self.db.query(
                    f"SELECT name, creation_ms, probability {_OPEN.format(flows='= ?')} {tail} LIMIT ?",
                    (*base, *extra, wanted),
                )
                for r in rows:
                    p = r["probability"]
                    key = (
                        (0, abs(p - threshold), r["creation_ms"], r["name"])
                        if p is not None
                        else (1, 0.0, r["creation_ms"], r["name"])
                    )
                    ranked.append((key, QueueItem(r["name"], flow_arn, r["creation_ms"], p)))
        ranked.sort(key=lambda entry: entry[0])
        return total, [item for _, item in ranked[offset:wanted]]

    def answered_by(self, arn: str, worker: str, identity: dict[str, str] | None = None) -> bool:
        """Whether the worker has answered the loop already."""
        identity = identity or local_identity(worker)
        key = worker_id(identity["issuer"], identity["sub"])
        return (
            self.db.query_one("SELECT 1 FROM a2i_human_answers WHERE loop_arn = ? AND worker_id = ?", (arn, key))
            is not None
        )

    # -- helpers ---------------------------------------------------------------------------------------

    def _row(self, arn: str, conn=None):
        row = (conn or self.db.conn).execute("SELECT * FROM a2i_human_loops WHERE arn = ?", (arn,)).fetchone()
        if row is None:
            raise ResourceNotFoundException(f"Human loop {arn.rsplit('/', 1)[-1]} does not exist.")
        return row

    def _info(self, row, answers: int | None = None, conn=None) -> LoopInfo:
        if answers is None:
            answers = (
                (conn or self.db.conn)
                .execute("SELECT COUNT(*) FROM a2i_human_answers WHERE loop_arn = ?", (row["arn"],))
                .fetchone()[0]
            )
        status, code, reason = row["status"], row["failure_code"], row["failure_reason"]
        if status == IN_PROGRESS and row["expires_ms"] is not None and row["expires_ms"] <= _now_ms():
            status, code = FAILED, "Expired"
            reason = "The human loop expired: its workers did not finish within the task availability lifetime."
        return LoopInfo(
            name=row["name"],
            arn=row["arn"],
            region=row["region"],
            flow_definition_arn=row["flow_definition_arn"],
            status=status,
            creation_ms=row["creation_ms"],
            task_count=row["task_count"],
            answers=answers,
            output_s3_uri=row["output_s3_uri"],
            failure_code=code,
            failure_reason=reason,
            escalations=row["escalations"],
        )

    @staticmethod
    def _answers(conn, loop_arn: str) -> list[Answer]:
        rows = conn.execute("SELECT * FROM a2i_human_answers WHERE loop_arn = ? ORDER BY seq", (loop_arn,))
        return [
            Answer(
                worker_id=r["worker_id"],
                worker_name=r["worker_name"],
                acceptance_ms=r["acceptance_ms"],
                submission_ms=r["submission_ms"],
                answer_content=json.loads(r["answer_content"]),
                identity=json.loads(r["identity"]),
            )
            for r in rows
        ]


# Open loops of some flow definitions that a worker has not answered, read from the covering index alone
# (`flows` is "= ?" or "IN (?, …)"; then region, now, the worker's id).
_OPEN = (
    "FROM a2i_human_loops l INDEXED BY a2i_human_loops_open"
    " WHERE status = 'InProgress' AND flow_definition_arn {flows} AND region = ?"
    " AND (expires_ms IS NULL OR expires_ms > ?)"
    " AND NOT EXISTS (SELECT 1 FROM a2i_human_answers a WHERE a.loop_arn = l.arn AND a.worker_id = ?)"
)

# The status a loop has now: InProgress past its availability lifetime is Failed (Expired).
_STATUS_SQL = "CASE WHEN l.status = 'InProgress' AND l.expires_ms IS NOT NULL AND l.expires_ms <= ? THEN 'Failed' ELSE l.status END"


def _labels(task_input: Any, answers: list[Answer]) -> list[int | None]:
    """Each answer's label, read with the input's class names when it is this project's review input."""
    try:
        spec = read_label_spec(task_input) if isinstance(task_input, dict) else None
    except ValueError:
        spec = None
    return [parse_label(a.answer_content, spec) for a in answers]


def loops_being_answered(conn, flow_arn: str) -> list[str]:
    """Names of the flow definition's loops in progress that have some answers (deleting them loses work)."""
    rows = conn.execute(
        "SELECT name FROM a2i_human_loops l WHERE flow_definition_arn = ? AND status = 'InProgress'"
        " AND EXISTS (SELECT 1 FROM a2i_human_answers a WHERE a.loop_arn = l.arn) ORDER BY name",
        (flow_arn,),
    ).fetchall()
    return [r["name"] for r in rows]


def delete_loops_of_flow(conn, flow_arn: str) -> None:
    conn.execute("DELETE FROM a2i_human_loops WHERE flow_definition_arn = ?", (flow_arn,))


def _probability(task_input: dict) -> float | None:
    """The review input's probability (what the portal's queue orders by), when it has a finite number."""
    value = task_input.get("probability")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value or abs(value) == float("inf"):
        return None
    return float(value)


def _json_or_none(value: Any) -> str | None:
    return json.dumps(value) if value else None


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8", "surrogatepass")


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _ms(value: Any) -> int:
    return round(epoch_seconds(value) * 1000)


def _encode_token(flow_arn: str, descending: bool, creation_ms: int, name: str) -> str:
    scope = hashlib.sha256(f"{flow_arn}\n{descending}".encode()).hexdigest()[:16]
    return base64.urlsafe_b64encode(json.dumps([scope, creation_ms, name]).encode()).decode()


def _decode_token(token: str, flow_arn: str, descending: bool) -> tuple[int, str]:
    scope = hashlib.sha256(f"{flow_arn}\n{descending}".encode()).hexdigest()[:16]
    try:
        given, creation_ms, name = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, TypeError):
        raise ValidationException(f"Invalid pagination token: {token}") from None
    if given != scope or not isinstance(creation_ms, int) or not isinstance(name, str):
        raise ValidationException(f"The pagination token {token} belongs to another query.")
    return creation_ms, name
