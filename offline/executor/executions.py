"""Pipeline executions and their steps, recorded in the state DB as they run.

Statuses follow SageMaker's: executions are Executing / Succeeded / Failed, steps Starting /
Executing / Succeeded / Failed. Steps of a condition branch that was not taken are not recorded,
as SageMaker does not list them.
"""

from __future__ import annotations

import json
import secrets
import string
from dataclasses import dataclass
from datetime import datetime, timezone

from offline.defaults import LOCAL_ACCOUNT_ID, LOCAL_REGION
from offline.state import StateDB, register_schema

register_schema(
    "pipeline_executions",
    [
        [
            """CREATE TABLE pipeline_executions (
                execution_id TEXT PRIMARY KEY,
                execution_arn TEXT NOT NULL UNIQUE,
                pipeline_name TEXT NOT NULL,
                status TEXT NOT NULL,
                parameters TEXT NOT NULL,
                definition TEXT NOT NULL,
                failure_reason TEXT,
                created_at TEXT NOT NULL,
                ended_at TEXT
            )""",
            """CREATE TABLE pipeline_execution_steps (
                execution_id TEXT NOT NULL REFERENCES pipeline_executions(execution_id),
                step_name TEXT NOT NULL,
                step_type TEXT NOT NULL,
                status TEXT NOT NULL,
                started_at TEXT NOT NULL,
                ended_at TEXT,
                failure_reason TEXT,
                metadata TEXT NOT NULL DEFAULT '{}',
                log_path TEXT,
                PRIMARY KEY (execution_id, step_name)
            )""",
            "CREATE INDEX pipeline_executions_by_time ON pipeline_executions (created_at)",
        ]
    ],
)

ID_ALPHABET = string.ascii_lowercase + string.digits


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class ExecutionRecord:
    execution_id: str
    execution_arn: str
    pipeline_name: str
    status: str
    parameters: dict
    failure_reason: str | None
    created_at: str
    ended_at: str | None


class ExecutionStore:
    def __init__(self, db: StateDB):
        self.db = db
        db.ensure("pipeline_executions")

    def start(self, pipeline_name: str, parameters: dict, definition: dict) -> ExecutionRecord:
        execution_id = "".join(secrets.choice(ID_ALPHABET) for _ in range(12))
        arn = f"arn:aws:sagemaker:{LOCAL_REGION}:{LOCAL_ACCOUNT_ID}:pipeline/{pipeline_name.lower()}/execution/{execution_id}"
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO pipeline_executions (execution_id, execution_arn, pipeline_name, status, parameters,"
                " definition, created_at) VALUES (?, ?, ?, 'Executing', ?, ?, ?)",
                (execution_id, arn, pipeline_name, json.dumps(parameters), json.dumps(definition), now()),
            )
        return self.get(execution_id)

    def finish(self, execution_id: str, status: str, failure_reason: str | None = None) -> None:
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE pipeline_executions SET status = ?, failure_reason = ?, ended_at = ? WHERE execution_id = ?",
                (status, failure_reason, now(), execution_id),
            )

    def step_started(self, execution_id: str, step_name: str, step_type: str, log_path: str | None) -> None:
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO pipeline_execution_steps (execution_id, step_name, step_type, status,"
                " started_at, log_path) VALUES (?, ?, ?, 'Executing', ?, ?)",
                (execution_id, step_name, step_type, now(), log_path),
            )

    def step_finished(
        self, execution_id: str, step_name: str, status: str, metadata: dict, failure_reason: str | None = None
    ) -> None:
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE pipeline_execution_steps SET status = ?, ended_at = ?, failure_reason = ?, metadata = ?"
                " WHERE execution_id = ? AND step_name = ?",
                (status, now(), failure_reason, json.dumps(metadata, default=str), execution_id, step_name),
            )

    def get(self, execution: str) -> ExecutionRecord:
        """By id, full ARN, or a unique id prefix."""
        rows = self.db.query(
            "SELECT * FROM pipeline_executions WHERE execution_id = ? OR execution_arn = ? OR execution_id LIKE ?",
            (execution, execution, f"{execution}%"),
        )
        exact = [r for r in rows if execution in (r["execution_id"], r["execution_arn"])]
        rows = exact or rows
        if len(rows) != 1:
            raise LookupError(
                f"no pipeline execution {execution!r}" if not rows else f"{execution!r} matches {len(rows)} executions"
            )
        return _record(rows[0])

    def list(self, limit: int = 20) -> list[ExecutionRecord]:
        rows = self.db.query("SELECT * FROM pipeline_executions ORDER BY created_at DESC LIMIT ?", (limit,))
        return [_record(r) for r in rows]

    def steps(self, execution_id: str) -> list[dict]:
        rows = self.db.query(
            "SELECT * FROM pipeline_execution_steps WHERE execution_id = ? ORDER BY started_at, step_name",
            (execution_id,),
        )
        return [{**dict(r), "metadata": json.loads(r["metadata"] or "{}")} for r in rows]


def _record(row) -> ExecutionRecord:
    return ExecutionRecord(
        execution_id=row["execution_id"],
        execution_arn=row["execution_arn"],
        pipeline_name=row["pipeline_name"],
        status=row["status"],
        parameters=json.loads(row["parameters"]),
        failure_reason=row["failure_reason"],
        created_at=row["created_at"],
        ended_at=row["ended_at"],
    )
