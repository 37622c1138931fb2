"""Pipeline executions and their steps, recorded in the state DB as they run.

Statuses follow SageMaker's: executions are Executing / Stopping / Stopped / Failed / Succeeded,
steps Starting / Executing / Stopping / Stopped / Failed / Succeeded. Steps of a condition branch
that was not taken are not recorded, as SageMaker does not list them.

Each execution records the process running it (pid, start time and boot id: see process_identity).
A runner that died without finishing (`kill -9`, a crash, a reboot) cannot say so; whoever reads
the execution next sees that its runner is gone and records it Failed with the reason, so no
execution stays Executing forever. A Failed or Stopped execution can be retried in place
(RetryPipelineExecution): same id and ARN, its succeeded steps kept, the others run again.
"""

from __future__ import annotations

import json
import secrets
import string
from dataclasses import dataclass
from datetime import datetime, timezone

from offline.defaults import LOCAL_ACCOUNT_ID, LOCAL_REGION
from offline.process_identity import ProcessIdentity
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
        ],
        [
            "ALTER TABLE pipeline_executions ADD COLUMN runner_pid INTEGER",
            "ALTER TABLE pipeline_executions ADD COLUMN runner_start_ticks INTEGER",
            "ALTER TABLE pipeline_executions ADD COLUMN runner_boot_id TEXT",
            "ALTER TABLE pipeline_executions ADD COLUMN last_modified_at TEXT",
            "ALTER TABLE pipeline_execution_steps ADD COLUMN attempt_count INTEGER NOT NULL DEFAULT 1",
        ],
    ],
)

ACTIVE = ("Executing", "Stopping")
RETRYABLE = ("Failed", "Stopped")
STEP_ACTIVE = ("Starting", "Executing", "Stopping")


class ExecutionStateError(ValueError):
    """The execution is not in a status that allows the operation (SageMaker's ValidationException)."""


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
    last_modified_at: str | None = None
    runner: ProcessIdentity | None = None


class ExecutionStore:
    def __init__(self, db: StateDB):
        self.db = db
        db.ensure("pipeline_executions")

    # -- the runner's side ---------------------------------------------------------------------------

    def start(
        self, pipeline_name: str, parameters: dict, definition: dict, runner: ProcessIdentity | None = None
    ) -> ExecutionRecord:
        execution_id = "".join(secrets.choice(ID_ALPHABET) for _ in range(12))
        arn = f"arn:aws:sagemaker:{LOCAL_REGION}:{LOCAL_ACCOUNT_ID}:pipeline/{pipeline_name.lower()}/execution/{execution_id}"
        runner = runner or ProcessIdentity.current()
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO pipeline_executions (execution_id, execution_arn, pipeline_name, status, parameters,"
                " definition, created_at, last_modified_at, runner_pid, runner_start_ticks, runner_boot_id)"
                " VALUES (?, ?, ?, 'Executing', ?, ?, ?, ?, ?, ?, ?)",
                (
                    execution_id,
                    arn,
                    pipeline_name,
                    json.dumps(parameters),
                    json.dumps(definition),
                    now(),
                    now(),
                    *_runner_columns(runner),
                ),
            )
        return self.get(execution_id)

    def restart(self, execution: str, runner: ProcessIdentity | None = None) -> ExecutionRecord:
        """RetryPipelineExecution: a Failed or Stopped execution becomes Executing again, run by `runner`."""
        record = self.get(execution)
        runner = runner or ProcessIdentity.current()
        with self.db.transaction() as conn:
            updated = conn.execute(
                "UPDATE pipeline_executions SET status = 'Executing', failure_reason = NULL, ended_at = NULL,"
                " last_modified_at = ?, runner_pid = ?, runner_start_ticks = ?, runner_boot_id = ?"
                f" WHERE execution_id = ? AND status IN {RETRYABLE}",
                (now(), *_runner_columns(runner), record.execution_id),
            ).rowcount
        if not updated:  # Succeeded, or another process took it meanwhile
            raise ExecutionStateError(_cannot(self.get(record.execution_id), "retried", RETRYABLE))
        return self.get(record.execution_id)

    def finish(self, execution_id: str, status: str, failure_reason: str | None = None) -> None:
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE pipeline_executions SET status = ?, failure_reason = ?, ended_at = ?, last_modified_at = ?"
                " WHERE execution_id = ?",
                (status, failure_reason, now(), now(), execution_id),
            )

    def status(self, execution_id: str) -> str:
        """The recorded status alone (the runner polls it for stop requests)."""
        row = self.db.query_one("SELECT status FROM pipeline_executions WHERE execution_id = ?", (execution_id,))
        if row is None:
            raise LookupError(f"no pipeline execution {execution_id!r}")
        return row["status"]

    def stopping(self, execution_id: str) -> None:
        """The runner begins stopping: the execution and its running steps read Stopping."""
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE pipeline_executions SET status = 'Stopping', last_modified_at = ?"
                " WHERE execution_id = ? AND status = 'Executing'",
                (now(), execution_id),
            )
            conn.execute(
                "UPDATE pipeline_execution_steps SET status = 'Stopping'"
                " WHERE execution_id = ? AND status IN ('Starting', 'Executing')",
                (execution_id,),
            )

    def step_started(
        self, execution_id: str, step_name: str, step_type: str, log_path: str | None, attempt: int = 1
    ) -> None:
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO pipeline_execution_steps (execution_id, step_name, step_type, status,"
                " started_at, log_path, attempt_count) VALUES (?, ?, ?, 'Executing', ?, ?, ?)",
                (execution_id, step_name, step_type, now(), log_path, attempt),
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

    # -- anyone's side -------------------------------------------------------------------------------

    def request_stop(self, execution: str) -> ExecutionRecord:
        """StopPipelineExecution: an Executing execution becomes Stopping; its runner sees it and stops."""
        record = self.get(execution)
        if record.status == "Stopping":
            return record
        with self.db.transaction() as conn:
            updated = conn.execute(
                "UPDATE pipeline_executions SET status = 'Stopping', last_modified_at = ?"
                " WHERE execution_id = ? AND status = 'Executing'",
                (now(), record.execution_id),
            ).rowcount
        if not updated:
            raise ExecutionStateError(_cannot(self.get(record.execution_id), "stopped", ("Executing",)))
        return self.get(record.execution_id)

    def check_retryable(self, execution: str) -> ExecutionRecord:
        record = self.get(execution)
        if record.status not in RETRYABLE:
            raise ExecutionStateError(_cannot(record, "retried", RETRYABLE))
        return record

    def definition(self, execution_id: str) -> dict:
        row = self.db.query_one("SELECT definition FROM pipeline_executions WHERE execution_id = ?", (execution_id,))
        if row is None:
            raise LookupError(f"no pipeline execution {execution_id!r}")
        return json.loads(row["definition"])

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
        row = rows[0]
        if row["status"] in ACTIVE and self._runner_gone(row):
            row = self.db.query_one("SELECT * FROM pipeline_executions WHERE execution_id = ?", (row["execution_id"],))
        return _record(row)

    def list(self, limit: int = 20) -> list[ExecutionRecord]:
        rows = self.db.query("SELECT * FROM pipeline_executions ORDER BY created_at DESC LIMIT ?", (limit,))
        if any(r["status"] in ACTIVE and self._runner_gone(r) for r in rows):
            rows = self.db.query("SELECT * FROM pipeline_executions ORDER BY created_at DESC LIMIT ?", (limit,))
        return [_record(r) for r in rows]

    def steps(self, execution_id: str) -> list[dict]:
        rows = self.db.query(
            "SELECT * FROM pipeline_execution_steps WHERE execution_id = ? ORDER BY started_at, step_name",
            (execution_id,),
        )
        return [{**dict(r), "metadata": json.loads(r["metadata"] or "{}")} for r in rows]

    def _runner_gone(self, row) -> bool:
        """Records an active execution whose runner is dead as Failed; True when it did."""
        runner = _runner(row)
        if runner is not None and runner.is_alive():
            return False
        reason = (
            f"the local runner of this execution (pid {runner.pid}) ended without finishing it"
            if runner
            else "no runner is recorded for this execution (started by an older version)"
        ) + f"; `mlops pipeline retry {row['execution_id']}` runs its unfinished steps again"
        ended = now()
        with self.db.transaction() as conn:
            changed = conn.execute(  # unless it changed meanwhile (finished, or retried by a new runner)
                "UPDATE pipeline_executions SET status = 'Failed', failure_reason = ?, ended_at = ?,"
                " last_modified_at = ? WHERE execution_id = ? AND status = ? AND runner_pid IS ?",
                (reason, ended, ended, row["execution_id"], row["status"], row["runner_pid"]),
            ).rowcount
            if changed:
                conn.execute(
                    "UPDATE pipeline_execution_steps SET status = 'Failed', failure_reason = ?, ended_at = ?"
                    f" WHERE execution_id = ? AND status IN {STEP_ACTIVE}",
                    (reason, ended, row["execution_id"]),
                )
        return True


def _runner_columns(runner: ProcessIdentity) -> tuple:
    return runner.pid, runner.start_ticks, runner.boot_id


def _runner(row) -> ProcessIdentity | None:
    if row["runner_pid"] is None:
        return None
    return ProcessIdentity(row["runner_pid"], row["runner_start_ticks"], row["runner_boot_id"])


def _cannot(record: ExecutionRecord, done: str, allowed: tuple[str, ...]) -> str:
    return (
        f"pipeline execution {record.execution_id} is {record.status}; only {' or '.join(allowed)} executions "
        f"can be {done}"
    )


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
        last_modified_at=row["last_modified_at"],
        runner=_runner(row),
    )
