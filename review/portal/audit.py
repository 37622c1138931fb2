"""The append-only audit trail: who signed in, opened a task, answered it, and when.

Rows are only ever inserted (triggers refuse UPDATE and DELETE). No answer content, secret or input is
written here: an entry names the worker, the action, the loop and a short outcome.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass

from offline.state import StateDB
from review.portal.schema import COMPONENT

SIGNED_IN, SIGN_IN_REFUSED, SIGNED_OUT = "signed-in", "sign-in-refused", "signed-out"
OPENED, ANSWERED, WORKER_ADDED = "opened", "answered", "worker-added"
ACTIONS = (SIGNED_IN, SIGN_IN_REFUSED, SIGNED_OUT, OPENED, ANSWERED, WORKER_ADDED)


@dataclass(frozen=True)
class Entry:
    seq: int
    at_ms: int
    worker: str | None
    action: str
    loop_arn: str | None
    detail: str | None


class AuditLog:
    def __init__(self, db: StateDB):
        self.db = db
        db.ensure(COMPONENT)

    def append(
        self,
        action: str,
        worker: str | None,
        loop_arn: str | None = None,
        detail: str | None = None,
        conn: sqlite3.Connection | None = None,
    ) -> None:
        """Add one entry; with `conn`, inside that transaction (an answer and its entry commit together)."""
        if action not in ACTIONS:
            raise ValueError(f"unknown audit action {action!r}")
        sql = "INSERT INTO portal_audit (at_ms, worker, action, loop_arn, detail) VALUES (?, ?, ?, ?, ?)"
        args = (_now_ms(), worker, action, loop_arn, detail)
        if conn is not None:
            conn.execute(sql, args)
            return
        with self.db.transaction() as own:
            own.execute(sql, args)

    def first_opened(self, loop_arn: str, worker: str, since_ms: int) -> int | None:
        """When the worker first opened the loop (their acceptance time), not before `since_ms`."""
        row = self.db.query_one(
            "SELECT MIN(at_ms) AS at FROM portal_audit WHERE loop_arn = ? AND worker = ? AND action = ? AND at_ms >= ?",
            (loop_arn, worker, OPENED, since_ms),
        )
        return row["at"] if row else None

    def entries(
        self, loop_arn: str | None = None, worker: str | None = None, limit: int | None = None, newest: bool = False
    ) -> list[Entry]:
        """Entries in the order they were written (or the newest first), optionally of one loop or worker."""
        sql, args = "SELECT * FROM portal_audit WHERE 1 = 1", []
        if loop_arn is not None:
            sql += " AND loop_arn = ?"
            args.append(loop_arn)
        if worker is not None:
            sql += " AND worker = ?"
            args.append(worker)
        sql += " ORDER BY seq DESC" if newest else " ORDER BY seq"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        return [
            Entry(r["seq"], r["at_ms"], r["worker"], r["action"], r["loop_arn"], r["detail"])
            for r in self.db.query(sql, args)
        ]


def _now_ms() -> int:
    return time.time_ns() // 1_000_000
