"""State machines, executions, their history and pending task tokens, in the home's state DB.

Every change is one transaction, so the runner process (which writes the history as it interprets) and a
service process (StartExecution, SendTaskSuccess, StopExecution, a dead runner's reaping) share the file
safely. An execution's history only grows while it is RUNNING: closing it (succeeded, failed, aborted,
timed out) is a single guarded update, after which appends are refused with `ExecutionHalted`, so a runner
that has not noticed a StopExecution yet cannot write past it.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any

from offline.state import StateDB, register_schema
from offline.stepfunctions.errors import ExecutionHalted

COMPONENT = "stepfunctions"
RUNNING = "RUNNING"
PENDING = "PENDING"

register_schema(
    COMPONENT,
    [
        """
        CREATE TABLE sfn_state_machines (
            arn TEXT PRIMARY KEY,
            region TEXT NOT NULL,
            name TEXT NOT NULL,
            definition TEXT NOT NULL,
            role_arn TEXT NOT NULL,
            type TEXT NOT NULL,
            creation_date REAL NOT NULL,
            revision_id TEXT NOT NULL,
            document TEXT NOT NULL DEFAULT '{}'
        );
        CREATE UNIQUE INDEX sfn_state_machines_name ON sfn_state_machines (region, name);
        CREATE TABLE sfn_executions (
            arn TEXT PRIMARY KEY,
            state_machine_arn TEXT NOT NULL,
            name TEXT NOT NULL,
            region TEXT NOT NULL,
            status TEXT NOT NULL,
            input TEXT NOT NULL,
            output TEXT,
            error TEXT,
            cause TEXT,
            start_date REAL NOT NULL,
            stop_date REAL,
            definition TEXT NOT NULL,
            role_arn TEXT NOT NULL,
            trace_header TEXT,
            runner_pid INTEGER,
            runner_start TEXT
        );
        CREATE INDEX sfn_executions_machine ON sfn_executions (state_machine_arn, start_date);
        CREATE TABLE sfn_events (
            execution_arn TEXT NOT NULL REFERENCES sfn_executions (arn),
            id INTEGER NOT NULL,
            previous_id INTEGER NOT NULL,
            timestamp REAL NOT NULL,
            type TEXT NOT NULL,
            details TEXT,
            PRIMARY KEY (execution_arn, id)
        );
        CREATE TABLE sfn_task_tokens (
            token TEXT PRIMARY KEY,
            execution_arn TEXT NOT NULL REFERENCES sfn_executions (arn),
            state_name TEXT NOT NULL,
            resource TEXT NOT NULL,
            input TEXT NOT NULL,
            parameters TEXT NOT NULL,
            status TEXT NOT NULL,
            created REAL NOT NULL,
            heartbeats INTEGER NOT NULL DEFAULT 0,
            output TEXT,
            error TEXT,
            cause TEXT,
            closed REAL
        );
        CREATE INDEX sfn_task_tokens_execution ON sfn_task_tokens (execution_arn, status);
        """
    ],
)


@dataclass(frozen=True)
class Execution:
    arn: str
    state_machine_arn: str
    name: str
    region: str
    status: str
    input: str
    start_date: float
    definition: str
    role_arn: str
    trace_header: str | None = None
    output: str | None = None
    error: str | None = None
    cause: str | None = None
    stop_date: float | None = None
    runner_pid: int | None = None
    runner_start: str | None = None

    @property
    def state_machine_name(self) -> str:
        return self.state_machine_arn.rsplit(":", 1)[-1]


@dataclass(frozen=True)
class PendingTask:
    """A waitForTaskToken task waiting for SendTaskSuccess / SendTaskFailure (what an approver needs)."""

    token: str
    execution_arn: str
    state_name: str
    resource: str
    input: Any
    parameters: Any
    created: float
    status: str = PENDING


@functools.cache
def _history_members() -> frozenset[str]:
    from offline.aws.shapes import service_model

    return frozenset(service_model("stepfunctions").shape_for("HistoryEvent").members)


def details_key(event_type: str) -> str | None:
    """The HistoryEvent member that carries an event type's details (None for the types that have none)."""
    if event_type.endswith("StateEntered"):
        return "stateEnteredEventDetails"
    if event_type.endswith("StateExited"):
        return "stateExitedEventDetails"
    key = event_type[:1].lower() + event_type[1:] + "EventDetails"
    return key if key in _history_members() else None


class ExecutionStore:
    def __init__(self, db: StateDB):
        self.db = db
        db.ensure(COMPONENT)

    # -- state machines --------------------------------------------------------------------------------

    def put_state_machine(self, machine: dict) -> None:
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO sfn_state_machines (arn, region, name, definition, role_arn, type,"
                " creation_date, revision_id, document) VALUES (:arn, :region, :name, :definition, :role_arn,"
                " :type, :creation_date, :revision_id, :document)",
                {**machine, "document": json.dumps(machine.get("document", {}))},
            )

    def state_machine(self, arn: str) -> dict | None:
        row = self.db.query_one("SELECT * FROM sfn_state_machines WHERE arn = ?", (arn,))
        return _machine(row) if row else None

    def state_machines(self, region: str) -> list[dict]:
        rows = self.db.query("SELECT * FROM sfn_state_machines WHERE region = ? ORDER BY creation_date, arn", (region,))
        return [_machine(row) for row in rows]

    def delete_state_machine(self, arn: str) -> None:
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM sfn_state_machines WHERE arn = ?", (arn,))

    # -- executions ------------------------------------------------------------------------------------

    def create_execution(self, execution: Execution, started: dict) -> None:
        """Insert a RUNNING execution and its ExecutionStarted event, together."""
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO sfn_executions (arn, state_machine_arn, name, region, status, input, start_date,"
                " definition, role_arn, trace_header) VALUES (?, ?, ?, ?, 'RUNNING', ?, ?, ?, ?, ?)",
                (
                    execution.arn,
                    execution.state_machine_arn,
                    execution.name,
                    execution.region,
                    execution.input,
                    execution.start_date,
                    execution.definition,
                    execution.role_arn,
                    execution.trace_header,
                ),
            )
            self._insert_event(conn, execution.arn, execution.start_date, "ExecutionStarted", started, 0)

    def execution(self, arn: str) -> Execution | None:
        row = self.db.query_one("SELECT * FROM sfn_executions WHERE arn = ?", (arn,))
        return Execution(**dict(row)) if row else None

    def executions(self, state_machine_arn: str, status: str | None = None) -> list[Execution]:
        sql = "SELECT * FROM sfn_executions WHERE state_machine_arn = ?"
        params: list = [state_machine_arn]
        if status:
            sql += " AND status = ?"
            params.append(status)
        rows = self.db.query(sql + " ORDER BY start_date DESC, arn", params)
        return [Execution(**dict(row)) for row in rows]

    def status(self, arn: str) -> str | None:
        row = self.db.query_one("SELECT status FROM sfn_executions WHERE arn = ?", (arn,))
        return row["status"] if row else None

    def set_runner(self, arn: str, pid: int, start: str | None) -> bool:
        """Record the runner process (pid + its start time, against pid reuse); False if another claimed it."""
        with self.db.transaction() as conn:
            cursor = conn.execute(
                "UPDATE sfn_executions SET runner_pid = ?, runner_start = ?"
                " WHERE arn = ? AND (runner_pid IS NULL OR runner_pid = ?)",
                (pid, start, arn, pid),
            )
        return cursor.rowcount == 1

    def close(
        self,
        arn: str,
        status: str,
        when: float,
        event_type: str,
        details: dict,
        previous_id: int | None = None,
        **fields,
    ) -> bool:
        """End a RUNNING execution (status, output or error/cause) with its final event; False if already closed."""
        with self.db.transaction() as conn:
            cursor = conn.execute(
                "UPDATE sfn_executions SET status = ?, stop_date = ?, output = ?, error = ?, cause = ?"
                " WHERE arn = ? AND status = 'RUNNING'",
                (status, when, fields.get("output"), fields.get("error"), fields.get("cause"), arn),
            )
            if cursor.rowcount != 1:
                return False
            if previous_id is None:
                row = conn.execute("SELECT MAX(id) AS last FROM sfn_events WHERE execution_arn = ?", (arn,)).fetchone()
                previous_id = row["last"] or 0
            self._insert_event(conn, arn, when, event_type, details, previous_id)
            conn.execute(
                "UPDATE sfn_task_tokens SET status = ?, closed = ? WHERE execution_arn = ? AND status = 'PENDING'",
                (f"EXECUTION_{status}", when, arn),
            )
        return True

    def fail(self, arn: str, when: float, error: str, cause: str) -> bool:
        """Close a RUNNING execution as FAILED for a reason outside its definition (States.Runtime)."""
        return self.close(
            arn, "FAILED", when, "ExecutionFailed", {"error": error, "cause": cause}, error=error, cause=cause
        )

    # -- history ---------------------------------------------------------------------------------------

    def append_event(self, arn: str, when: float, event_type: str, details: dict | None, previous_id: int) -> int:
        """Add an event to a RUNNING execution's history; ExecutionHalted once it is closed."""
        with self.db.transaction() as conn:
            row = conn.execute("SELECT status FROM sfn_executions WHERE arn = ?", (arn,)).fetchone()
            if row is None or row["status"] != RUNNING:
                raise ExecutionHalted(arn)
            return self._insert_event(conn, arn, when, event_type, details, previous_id)

    def _insert_event(self, conn, arn: str, when: float, event_type: str, details: dict | None, previous: int) -> int:
        row = conn.execute("SELECT COALESCE(MAX(id), 0) + 1 AS next FROM sfn_events WHERE execution_arn = ?", (arn,))
        event_id = row.fetchone()["next"]
        conn.execute(
            "INSERT INTO sfn_events (execution_arn, id, previous_id, timestamp, type, details) VALUES (?, ?, ?, ?, ?, ?)",
            (arn, event_id, previous, when, event_type, json.dumps(details) if details is not None else None),
        )
        return event_id

    def history(self, arn: str) -> list[dict]:
        """The events as GetExecutionHistory shapes them (timestamps as epoch seconds)."""
        rows = self.db.query("SELECT * FROM sfn_events WHERE execution_arn = ? ORDER BY id", (arn,))
        events = []
        for row in rows:
            event = {"timestamp": row["timestamp"], "type": row["type"], "id": row["id"]}
            event["previousEventId"] = row["previous_id"]
            key = details_key(row["type"])
            if key and row["details"] is not None:
                event[key] = json.loads(row["details"])
            events.append(event)
        return events

    # -- task tokens -----------------------------------------------------------------------------------

    def add_token(self, task: PendingTask) -> None:
        with self.db.transaction() as conn:
            row = conn.execute("SELECT status FROM sfn_executions WHERE arn = ?", (task.execution_arn,)).fetchone()
            if row is None or row["status"] != RUNNING:
                raise ExecutionHalted(task.execution_arn)
            conn.execute(
                "INSERT INTO sfn_task_tokens (token, execution_arn, state_name, resource, input, parameters,"
                " status, created) VALUES (?, ?, ?, ?, ?, ?, 'PENDING', ?)",
                (
                    task.token,
                    task.execution_arn,
                    task.state_name,
                    task.resource,
                    json.dumps(task.input),
                    json.dumps(task.parameters),
                    task.created,
                ),
            )

    def token(self, token: str) -> dict | None:
        row = self.db.query_one("SELECT * FROM sfn_task_tokens WHERE token = ?", (token,))
        return dict(row) if row else None

    def pending_tasks(self, execution_arn: str) -> list[PendingTask]:
        rows = self.db.query(
            "SELECT * FROM sfn_task_tokens WHERE execution_arn = ? AND status = 'PENDING' ORDER BY created, token",
            (execution_arn,),
        )
        return [
            PendingTask(
                token=row["token"],
                execution_arn=row["execution_arn"],
                state_name=row["state_name"],
                resource=row["resource"],
                input=json.loads(row["input"]),
                parameters=json.loads(row["parameters"]),
                created=row["created"],
            )
            for row in rows
        ]

    def resolve_token(self, token: str, status: str, when: float, **fields) -> str | None:
        """Close a PENDING token (SUCCEEDED / FAILED / TIMED_OUT); returns the status it had before."""
        with self.db.transaction() as conn:
            row = conn.execute("SELECT status FROM sfn_task_tokens WHERE token = ?", (token,)).fetchone()
            if row is None:
                return None
            if row["status"] == PENDING:
                conn.execute(
                    "UPDATE sfn_task_tokens SET status = ?, closed = ?, output = ?, error = ?, cause = ?"
                    " WHERE token = ?",
                    (status, when, fields.get("output"), fields.get("error"), fields.get("cause"), token),
                )
            return row["status"]

    def heartbeat(self, token: str) -> str | None:
        with self.db.transaction() as conn:
            row = conn.execute("SELECT status FROM sfn_task_tokens WHERE token = ?", (token,)).fetchone()
            if row is not None and row["status"] == PENDING:
                conn.execute("UPDATE sfn_task_tokens SET heartbeats = heartbeats + 1 WHERE token = ?", (token,))
            return row["status"] if row else None


def _machine(row) -> dict:
    machine = dict(row)
    machine["document"] = json.loads(machine["document"])
    return machine
