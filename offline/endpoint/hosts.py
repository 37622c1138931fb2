"""Endpoint hosts in the state DB: which process serves which endpoint, on which port, with which log.

One row per host process (`offline.endpoint.host.Host`: a host and its workers serving one version of
one endpoint). Rows are written by whoever starts a host (the local SageMaker service for
CreateEndpoint/UpdateEndpoint, or the host itself for `mlops endpoint serve`), then by the host as it
starts, serves and stops, and read by the sagemaker-runtime proxy, DescribeEndpoint and `mlops endpoint`.

States: `starting` → `serving` (the switch, `promote`) → `draining` (a newer host took over) or
`stopping` (a stop was asked for) → `stopped`; a host that cannot start ends `failed`, with the reason.
At most one host serves an endpoint name at a time (a unique index), so a route is one row.

A row is trusted only while its process is this home's host: the pid must still belong to the process
that was recorded (its start time and the boot, `ProcessIdentity`), and the row must have been written under this
home's real path. A row whose process is gone, whose pid was reused, or that came along when the home was
copied to another folder reads as stopped (and is marked so): a copied home never claims, routes to, or
signals a live host of the original.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, fields
from pathlib import Path

from offline.home import mlops_home
from offline.process_identity import ProcessIdentity
from offline.state import StateDB, register_schema

COMPONENT = "endpoint_hosts"
STARTING, SERVING, DRAINING, STOPPING, STOPPED, FAILED = (
    "starting",
    "serving",
    "draining",
    "stopping",
    "stopped",
    "failed",
)
ACTIVE = (STARTING, SERVING, DRAINING, STOPPING)
LAUNCH_GRACE = 10.0  # seconds a starting row may lack a pid (the launcher records it a few ms after the fork)
STOP_WAIT = 20.0  # seconds for a host to finish its requests and exit after SIGTERM (it needs at most ~15)
_PROJECT_ROOT = Path(__file__).resolve().parents[2]

register_schema(
    COMPONENT,
    [
        """
        CREATE TABLE endpoint_hosts (
            id TEXT PRIMARY KEY,
            region TEXT NOT NULL,
            endpoint TEXT NOT NULL,
            state TEXT NOT NULL,
            managed INTEGER NOT NULL,
            home TEXT NOT NULL,
            pid INTEGER,
            pid_start INTEGER,
            boot_id TEXT,
            port INTEGER,
            url TEXT,
            log TEXT,
            model TEXT,
            workers INTEGER,
            capture_uri TEXT,
            spec TEXT,
            reason TEXT,
            created REAL NOT NULL,
            ready REAL,
            ended REAL
        );
        CREATE INDEX endpoint_hosts_endpoint ON endpoint_hosts (region, endpoint COLLATE NOCASE, state);
        CREATE UNIQUE INDEX endpoint_hosts_serving ON endpoint_hosts (region, endpoint COLLATE NOCASE)
            WHERE state = 'serving';
        """
    ],
)


class HostConflict(RuntimeError):
    """The endpoint name is already served (or being started) by a live host of this home."""

    def __init__(self, record: HostRecord):
        self.record = record
        where = f" at {record.url}" if record.url else ""
        super().__init__(
            f"endpoint {record.endpoint} is already being served{where} (pid {record.pid}); "
            "stop it first or choose another --endpoint-name"
        )


class NotStarting(RuntimeError):
    """The host was told to stop (or replaced) before it could serve."""


@dataclass(frozen=True)
class HostRecord:
    id: str
    region: str
    endpoint: str
    state: str
    managed: int
    home: str
    pid: int | None
    pid_start: int | None  # clock ticks since boot (/proc/<pid>/stat): with the boot id, no other process has it
    boot_id: str | None
    port: int | None
    url: str | None
    log: str | None
    model: str | None
    workers: int | None
    capture_uri: str | None
    spec: str | None
    reason: str | None
    created: float
    ready: float | None
    ended: float | None

    @property
    def active(self) -> bool:
        return self.state in ACTIVE

    @property
    def running(self) -> bool:
        """Whether the recorded process still runs (not another process that was given its pid)."""
        return self.pid is not None and ProcessIdentity(self.pid, self.pid_start, self.boot_id).is_alive()

    def as_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "spec"}


_COLUMNS = ", ".join(f.name for f in fields(HostRecord))


class HostRegistry:
    """The host rows of one home's state DB."""

    def __init__(self, db: StateDB, home: str | os.PathLike | None = None):
        self.db = db
        self.home = str(mlops_home(home))  # resolved: the real path rows are compared with
        db.ensure(COMPONENT)

    @classmethod
    def for_home(cls, home: str | os.PathLike | None = None) -> HostRegistry:
        return cls(StateDB.for_home(home), home)

    # -- writing ---------------------------------------------------------------------------------------

    def create(
        self,
        region: str,
        endpoint: str,
        *,
        managed: bool,
        exclusive: bool = False,
        pid: int | None = None,
        log: str | None = None,
        model: str | None = None,
        workers: int | None = None,
        capture_uri: str | None = None,
        spec: str | None = None,
    ) -> HostRecord:
        """A new `starting` row. `exclusive`: refuse (HostConflict) if a live host serves or starts the name."""
        host_id = uuid.uuid4().hex
        identity = ProcessIdentity.of(pid) if pid else None
        with self.db.transaction() as conn:
            if exclusive:
                for record in self._active(conn, region, endpoint):
                    if record.state in (STARTING, SERVING) and self._verified(record):
                        raise HostConflict(record)
            conn.execute(
                "INSERT INTO endpoint_hosts (id, region, endpoint, state, managed, home, pid, pid_start, boot_id, log,"
                " model, workers, capture_uri, spec, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    host_id,
                    region,
                    endpoint,
                    STARTING,
                    int(managed),
                    self.home,
                    pid,
                    identity.start_ticks if identity else None,
                    identity.boot_id if identity else None,
                    log,
                    model,
                    workers,
                    capture_uri,
                    spec,
                    time.time(),
                ),
            )
        return self.get(host_id)

    def set_process(self, host_id: str, pid: int) -> None:
        """Record the host's process (the launcher knows it first, the host itself confirms it)."""
        identity = ProcessIdentity.of(pid)
        self.db.execute(
            "UPDATE endpoint_hosts SET pid = ?, pid_start = ?, boot_id = ? WHERE id = ? AND (pid IS NULL OR pid = ?)",
            (pid, identity.start_ticks if identity else None, identity.boot_id if identity else None, host_id, pid),
        )

    def update(self, host_id: str, **values) -> None:
        """Set descriptive columns (port, url, model, workers, capture_uri, log) of a row."""
        allowed = {"port", "url", "model", "workers", "capture_uri", "log"}
        unknown = set(values) - allowed
        if unknown:
            raise ValueError(f"not updatable: {sorted(unknown)}")
        if values:
            assignments = ", ".join(f"{name} = ?" for name in values)
            self.db.execute(f"UPDATE endpoint_hosts SET {assignments} WHERE id = ?", (*values.values(), host_id))

    def promote(self, host_id: str, url: str, port: int) -> list[HostRecord]:
        """The switch: this starting host now serves its endpoint; the one that served it drains.

        One transaction, so a reader sees the old host or the new one as the route, never neither. Returns
        the hosts to drain (live ones of this home; a dead or foreign serving row is only marked stopped).
        Raises NotStarting if the host was told to stop meanwhile, HostConflict if a live host started by
        `mlops endpoint serve` holds the name (only a host of the SageMaker service replaces another).
        """
        with self.db.transaction() as conn:
            me = self._get(conn, host_id)
            if me is None or me.state != STARTING:
                raise NotStarting(f"host {host_id} is {me.state if me else 'gone'}, not starting")
            to_drain = []
            for old in self._active(conn, me.region, me.endpoint):
                if old.id == host_id or old.state != SERVING:
                    continue
                if not self._verified(old):
                    self._mark(conn, old, STOPPED, self._why_not_running(old))
                elif not me.managed:
                    raise HostConflict(old)
                else:
                    self._mark(conn, old, DRAINING, f"replaced by host {host_id}")
                    to_drain.append(old)
            conn.execute(
                "UPDATE endpoint_hosts SET state = ?, url = ?, port = ?, ready = ? WHERE id = ?",
                (SERVING, url, port, time.time(), host_id),
            )
        return to_drain

    def finish(self, host_id: str, state: str, reason: str | None = None) -> None:
        """The host's last word: stopped (or failed), keeping a reason a stopper recorded first."""
        with self.db.transaction() as conn:
            record = self._get(conn, host_id)
            if record is not None and record.state in ACTIVE:
                self._mark(conn, record, state, reason)

    # -- reading ---------------------------------------------------------------------------------------

    def get(self, host_id: str) -> HostRecord | None:
        return self._get(self.db.conn, host_id)

    def current(self, host_id: str | None) -> HostRecord | None:
        """The row as it really is now: an active row whose process is not this home's host reads stopped."""
        record = self.get(host_id) if host_id else None
        return self._reconciled(record) if record is not None else None

    def serving(self, region: str | None, endpoint: str) -> HostRecord | None:
        """The live host that serves `endpoint` in `region` (None: any region), i.e. its route, or None."""
        sql = f"SELECT {_COLUMNS} FROM endpoint_hosts WHERE endpoint = ? COLLATE NOCASE AND state = ?"
        args: list = [endpoint, SERVING]
        if region is not None:
            sql += " AND region = ?"
            args.append(region)
        for row in self.db.query(sql, args):
            record = self._reconciled(HostRecord(**dict(row)))
            if record.state == SERVING:
                return record
        return None

    def live(self, region: str | None = None, endpoint: str | None = None) -> list[HostRecord]:
        """Every host of this home that is running now (any region unless given), oldest first."""
        sql, args = f"SELECT {_COLUMNS} FROM endpoint_hosts WHERE state IN ({','.join('?' * len(ACTIVE))})", [*ACTIVE]
        if region is not None:
            sql += " AND region = ?"
            args.append(region)
        if endpoint is not None:
            sql += " AND endpoint = ? COLLATE NOCASE"
            args.append(endpoint)
        records = [self._reconciled(HostRecord(**dict(r))) for r in self.db.query(sql + " ORDER BY created", args)]
        return [r for r in records if r.active]

    # -- stopping --------------------------------------------------------------------------------------

    def stop(self, records: list[HostRecord], reason: str, wait: float = STOP_WAIT) -> list[HostRecord]:
        """Ask hosts to stop, wait for them to exit (killing what is left after `wait`); the rows as they end."""
        asked = self.request_stop(records, reason)
        self.wait_for_exit(asked, wait)
        return [self.current(record.id) for record in records]

    def request_stop(self, records: list[HostRecord], reason: str) -> list[HostRecord]:
        """Mark hosts `stopping` with the reason and SIGTERM them (they finish requests in progress, then exit).

        Only processes verified to be this home's hosts are signalled; returns those.
        """
        asked = []
        with self.db.transaction() as conn:
            for record in records:
                current = self._get(conn, record.id)
                if current is not None and current.active and self._verified(current):
                    self._mark(conn, current, STOPPING, reason, ended=False)
                    asked.append(current)
                elif current is not None and current.active:
                    self._mark(conn, current, STOPPED, self._why_not_running(current))
        for record in asked:
            _signal(record.pid, signal.SIGTERM)
        return asked

    def wait_for_exit(self, records: list[HostRecord], wait: float) -> None:
        """Poll until the hosts' processes are gone; SIGKILL any still there after `wait` seconds."""
        deadline = time.monotonic() + wait
        running = [r for r in records if r.running]
        while running and time.monotonic() < deadline:
            time.sleep(0.02)
            running = [r for r in running if r.running]
        for record in running:
            kill(record)
        for record in records:
            self.finish(record.id, STOPPED)

    def stop_endpoint(self, region: str, endpoint: str, reason: str, wait: float = STOP_WAIT) -> list[HostRecord]:
        return self.stop(self.live(region, endpoint), reason, wait)

    # -- helpers ---------------------------------------------------------------------------------------

    def _verified(self, record: HostRecord) -> bool:
        """Whether the row's process is running and is this home's host (not a reused pid, not a copy's)."""
        return record.home == self.home and record.running

    def _why_not_running(self, record: HostRecord) -> str:
        if record.home != self.home:
            return (
                f"the local host was recorded under {record.home}, not this home ({self.home}): the home was "
                "copied or moved, and that process is not this home's host"
            )
        if record.pid is None:
            return "no local host process was recorded for it"
        tail = _log_tail(record.log) if record.state == STARTING else ""
        log = f"; its log: {record.log}" if record.log else ""
        return f"the local host process (pid {record.pid}) is gone{log}" + (f" ({tail})" if tail else "")

    def _reconciled(self, record: HostRecord) -> HostRecord:
        if not record.active or self._verified(record):
            return record
        if record.pid is None and record.home == self.home and time.time() - record.created < LAUNCH_GRACE:
            return record  # just launched; the launcher records the pid next
        with self.db.transaction() as conn:
            current = self._get(conn, record.id)
            if current is not None and current.active and not self._verified(current):
                self._mark(
                    conn, current, FAILED if current.state == STARTING else STOPPED, self._why_not_running(current)
                )
            current = self._get(conn, record.id)
        return current

    def _active(self, conn, region: str, endpoint: str) -> list[HostRecord]:
        rows = conn.execute(
            f"SELECT {_COLUMNS} FROM endpoint_hosts WHERE region = ? AND endpoint = ? COLLATE NOCASE"
            f" AND state IN ({','.join('?' * len(ACTIVE))})",
            (region, endpoint, *ACTIVE),
        ).fetchall()
        return [HostRecord(**dict(r)) for r in rows]

    @staticmethod
    def _get(conn, host_id: str) -> HostRecord | None:
        row = conn.execute(f"SELECT {_COLUMNS} FROM endpoint_hosts WHERE id = ?", (host_id,)).fetchone()
        return HostRecord(**dict(row)) if row is not None else None

    @staticmethod
    def _mark(conn, record: HostRecord, state: str, reason: str | None, ended: bool = True) -> None:
        conn.execute(
            "UPDATE endpoint_hosts SET state = ?, reason = COALESCE(reason, ?), ended = ? WHERE id = ?",
            (state, reason, time.time() if ended and state in (STOPPED, FAILED) else record.ended, record.id),
        )


def launch(registry: HostRegistry, record: HostRecord) -> int:
    """Start a managed host (`python -m offline.endpoint.daemon`) detached from this process; returns its pid.

    `sh` forks it into the background and exits at once, so the host is nobody's child here: it outlives
    the process that asked for it (a CLI, `mlops local serve`, a Step Functions runner), as an endpoint
    outlives the API call that created it. Its output goes to the row's log file.
    """
    log = Path(record.log)
    log.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.update(MLOPS_HOME=registry.home, PYTHONUNBUFFERED="1")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_PROJECT_ROOT), env.get("PYTHONPATH")) if p)
    command = [sys.executable, "-m", "offline.endpoint.daemon", record.id]
    starter = subprocess.run(
        ["sh", "-c", '"$@" </dev/null >>"$0" 2>&1 & echo $!', str(log), *command],
        capture_output=True,
        env=env,
        start_new_session=True,  # a Ctrl-C in the caller's terminal never reaches the host
        check=False,
        text=True,
        timeout=30,
    )
    pid = starter.stdout.strip()
    if starter.returncode != 0 or not pid.isdigit():
        raise OSError(f"could not start the local host: {starter.stderr.strip() or 'sh gave no pid'}")
    registry.set_process(record.id, int(pid))
    return int(pid)


def kill(record: HostRecord) -> None:
    """SIGKILL a host that did not stop: its process group when it leads one (its workers with it)."""
    if not record.running:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if os.getpgid(record.pid) == record.pid:
            os.killpg(record.pid, signal.SIGKILL)
        else:  # `mlops endpoint serve` in someone's shell job: the group is not ours to kill
            os.kill(record.pid, signal.SIGKILL)


def _signal(pid: int | None, sig: int) -> None:
    if pid:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


def _log_tail(log: str | None, lines: int = 3, limit: int = 400) -> str:
    if not log:
        return ""
    try:
        text = Path(log).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    tail = " | ".join(line.strip() for line in text.strip().splitlines()[-lines:] if line.strip())
    return tail[-limit:]
