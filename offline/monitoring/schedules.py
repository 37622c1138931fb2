"""Monitoring schedules, their executions and CloudWatch-shaped metrics, in the state DB."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime, timezone

from offline.state import StateDB, register_schema

DATA_QUALITY, MODEL_QUALITY = "data-quality", "model-quality"
KINDS = (DATA_QUALITY, MODEL_QUALITY)

register_schema(
    "monitoring",
    [
        [
            """CREATE TABLE monitoring_schedules (
                name TEXT PRIMARY KEY,
                endpoint TEXT NOT NULL,
                kind TEXT NOT NULL CHECK (kind IN ('data-quality', 'model-quality')),
                config TEXT NOT NULL,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL
            )""",
            """CREATE TABLE monitoring_executions (
                schedule TEXT NOT NULL REFERENCES monitoring_schedules(name),
                window_start TEXT NOT NULL,
                window_end TEXT NOT NULL,
                status TEXT NOT NULL,
                message TEXT NOT NULL,
                item_count INTEGER NOT NULL,
                violations TEXT NOT NULL,
                report_uri TEXT,
                notes TEXT NOT NULL DEFAULT '[]',
                started_at TEXT NOT NULL,
                ended_at TEXT NOT NULL,
                PRIMARY KEY (schedule, window_start)
            )""",
            """CREATE TABLE monitoring_metrics (
                schedule TEXT NOT NULL,
                window_start TEXT NOT NULL,
                namespace TEXT NOT NULL,
                metric_name TEXT NOT NULL,
                value REAL NOT NULL,
                PRIMARY KEY (schedule, window_start, metric_name),
                FOREIGN KEY (schedule, window_start) REFERENCES monitoring_executions(schedule, window_start)
            )""",
        ]
    ],
)


@dataclass(frozen=True)
class Schedule:
    """What one schedule checks; the URIs are s3:// locations in the local store."""

    name: str
    endpoint: str
    kind: str
    baseline_constraints: str
    capture_uri: str
    output_uri: str
    baseline_statistics: str | None = None
    ground_truth_uri: str | None = None
    probability_attribute: str = "0"  # the endpoint's CSV output: probability,predicted_label,needs_review
    probability_threshold: float = 0.5
    model_package_arn: str | None = None

    def config(self) -> dict:
        return {k: v for k, v in asdict(self).items() if k not in ("name", "endpoint", "kind")}


@dataclass(frozen=True)
class Execution:
    schedule: str
    window_start: str
    window_end: str
    status: str
    message: str
    item_count: int
    violations: list[dict]
    report_uri: str | None
    notes: list[str]
    started_at: str
    ended_at: str


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


class ScheduleStore:
    def __init__(self, db: StateDB):
        self.db = db
        db.ensure("monitoring")

    def save(self, schedule: Schedule) -> Schedule:
        """Create or update a schedule (a re-deploy may point it at new baselines)."""
        stamp = now_iso()
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT INTO monitoring_schedules (name, endpoint, kind, config, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET endpoint = excluded.endpoint,"
                " kind = excluded.kind, config = excluded.config, updated_at = excluded.updated_at",
                (schedule.name, schedule.endpoint, schedule.kind, json.dumps(schedule.config()), stamp, stamp),
            )
        return schedule

    def delete(self, name: str) -> None:
        """Remove a schedule with its executions and metrics (a deleted Model Monitor schedule lists none)."""
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM monitoring_metrics WHERE schedule = ?", (name,))
            conn.execute("DELETE FROM monitoring_executions WHERE schedule = ?", (name,))
            conn.execute("DELETE FROM monitoring_schedules WHERE name = ?", (name,))

    def get(self, name: str) -> Schedule:
        row = self.db.query_one("SELECT * FROM monitoring_schedules WHERE name = ?", (name,))
        if row is None:
            raise LookupError(f"no monitoring schedule {name!r}")
        return _schedule(row)

    def list(self, endpoint: str | None = None) -> list[Schedule]:
        if endpoint:
            rows = self.db.query("SELECT * FROM monitoring_schedules WHERE endpoint = ? ORDER BY name", (endpoint,))
        else:
            rows = self.db.query("SELECT * FROM monitoring_schedules ORDER BY name")
        return [_schedule(r) for r in rows]

    def done_windows(self, schedule: str, hourly: bool = False) -> set[str]:
        """Windows with a result; a Failed one (e.g. a missing baseline) runs again next time. `hourly`: only
        hour-long windows (catch-up's slots), not explicit ones (`catchup.run_explicit`)."""
        rows = self.db.query(
            "SELECT window_start, window_end FROM monitoring_executions WHERE schedule = ? AND status != 'Failed'",
            (schedule,),
        )
        return {r["window_start"] for r in rows if not hourly or _hour_long(r["window_start"], r["window_end"])}

    def record(self, execution: Execution, namespace: str, metrics: dict[str, float]) -> None:
        """Store an execution and its metrics together (a crash leaves neither, so the hour reruns)."""
        with self.db.transaction() as conn:
            key = (execution.schedule, execution.window_start)
            conn.execute("DELETE FROM monitoring_metrics WHERE schedule = ? AND window_start = ?", key)
            conn.execute("DELETE FROM monitoring_executions WHERE schedule = ? AND window_start = ?", key)
            conn.execute(
                "INSERT INTO monitoring_executions (schedule, window_start, window_end, status, message, item_count,"
                " violations, report_uri, notes, started_at, ended_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    execution.schedule,
                    execution.window_start,
                    execution.window_end,
                    execution.status,
                    execution.message,
                    execution.item_count,
                    json.dumps(execution.violations),
                    execution.report_uri,
                    json.dumps(execution.notes),
                    execution.started_at,
                    execution.ended_at,
                ),
            )
            conn.executemany(
                "INSERT INTO monitoring_metrics (schedule, window_start, namespace, metric_name, value)"
                " VALUES (?, ?, ?, ?, ?)",
                [(execution.schedule, execution.window_start, namespace, k, float(v)) for k, v in metrics.items()],
            )

    def executions(self, schedule: str | None = None, endpoint: str | None = None) -> list[Execution]:
        sql = "SELECT e.* FROM monitoring_executions e JOIN monitoring_schedules s ON s.name = e.schedule WHERE 1 = 1"
        params: list = []
        if schedule:
            sql += " AND e.schedule = ?"
            params.append(schedule)
        if endpoint:
            sql += " AND s.endpoint = ?"
            params.append(endpoint)
        rows = self.db.query(sql + " ORDER BY e.window_start, e.schedule", params)
        return [_execution(r) for r in rows]

    def metrics(self, schedule: str, window_start: str) -> dict[str, float]:
        rows = self.db.query(
            "SELECT metric_name, value FROM monitoring_metrics WHERE schedule = ? AND window_start = ?",
            (schedule, window_start),
        )
        return {r["metric_name"]: r["value"] for r in rows}


def _hour_long(start: str, end: str) -> bool:
    return (_parse_iso(end) - _parse_iso(start)).total_seconds() == 3600


def _parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _schedule(row) -> Schedule:
    return Schedule(name=row["name"], endpoint=row["endpoint"], kind=row["kind"], **json.loads(row["config"]))


def _execution(row) -> Execution:
    return Execution(
        schedule=row["schedule"],
        window_start=row["window_start"],
        window_end=row["window_end"],
        status=row["status"],
        message=row["message"],
        item_count=row["item_count"],
        violations=json.loads(row["violations"]),
        report_uri=row["report_uri"],
        notes=json.loads(row["notes"]),
        started_at=row["started_at"],
        ended_at=row["ended_at"],
    )
