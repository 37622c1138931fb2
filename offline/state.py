"""The local state database: SQLite in WAL mode at `$MLOPS_HOME/state.db`, shared by every local component.

Each component (model registry, pipeline executions, human loops, …) owns its tables and registers them
as a list of versioned migrations with `register_schema(component, [...])`; a StateDB applies what is
missing, once, under a write lock, so several processes may open the same file at once. Connections are
per thread (and per process, after a fork), wait for locks (busy timeout) rather than fail, and write
inside `transaction()`, which takes the write lock up front (BEGIN IMMEDIATE) so concurrent writers queue
instead of deadlocking.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

from offline.home import mlops_home

BUSY_TIMEOUT_MS = 30_000
Migration = str | Sequence[str]  # one version: a SQL script, or a list of statements

_REGISTRY: dict[str, tuple[Migration, ...]] = {}
_REGISTRY_LOCK = threading.Lock()


class SchemaError(RuntimeError):
    """Conflicting registrations, or a database written by a newer version of a component."""


def register_schema(component: str, migrations: Sequence[Migration]) -> None:
    """Declare a component's schema: migrations[i] takes it from version i to i + 1.

    Call it at import time of the module that owns the tables. Append new versions; never edit old ones.
    Every StateDB (already open or opened later) applies the missing versions before the component's
    tables are used (`StateDB.ensure(component)`, or all at once on open).
    """
    if not component or not isinstance(component, str):
        raise ValueError("component must be a non-empty string")
    migrations = tuple(migrations)
    if not migrations:
        raise ValueError(f"schema of {component!r} has no migrations")
    with _REGISTRY_LOCK:
        known = _REGISTRY.get(component)
        if known is not None and known != migrations[: len(known)]:
            raise SchemaError(f"schema of {component!r} registered twice with different migrations")
        if known is None or len(migrations) > len(known):
            _REGISTRY[component] = migrations


def registered_components() -> list[str]:
    with _REGISTRY_LOCK:
        return sorted(_REGISTRY)


class StateDB:
    """One SQLite file; safe to share between threads (a connection each) and processes (WAL + locks)."""

    def __init__(self, path: Path | str):
        self.path = Path(path).resolve()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._applied: dict[str, int] = {}
        self._applied_lock = threading.Lock()
        self.migrate()

    @classmethod
    def for_home(cls, home: str | os.PathLike | None = None) -> StateDB:
        return cls(mlops_home(home) / "state.db")

    # -- connections -----------------------------------------------------------------------------------

    def connect(self) -> sqlite3.Connection:
        """A new connection (the caller closes it): autocommit mode, WAL, busy timeout, rows as sqlite3.Row."""
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")  # every commit reaches the disk: a power cut loses nothing
        conn.execute("PRAGMA foreign_keys = ON")
        return conn

    @property
    def conn(self) -> sqlite3.Connection:
        """This thread's connection, reopened after a fork (SQLite handles must not cross processes)."""
        local = self._local
        if getattr(local, "pid", None) != os.getpid():
            local.conn = self.connect()
            local.pid = os.getpid()
            local.depth = 0
        return local.conn

    def close(self) -> None:
        """Close this thread's connection (others close when their threads end)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None and getattr(self._local, "pid", None) == os.getpid():
            conn.close()
        self._local = threading.local()

    # -- statements ------------------------------------------------------------------------------------

    def execute(self, sql: str, params: Sequence | dict = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, params)

    def query(self, sql: str, params: Sequence | dict = ()) -> list[sqlite3.Row]:
        return self.conn.execute(sql, params).fetchall()

    def query_one(self, sql: str, params: Sequence | dict = ()) -> sqlite3.Row | None:
        return self.conn.execute(sql, params).fetchone()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Commit on success, roll back on any exception; nested use becomes a savepoint."""
        conn = self.conn
        local = self._local
        if local.depth:
            name = f"sp{local.depth}"
            conn.execute(f"SAVEPOINT {name}")
            local.depth += 1
            try:
                yield conn
            except BaseException:
                conn.execute(f"ROLLBACK TO {name}")
                conn.execute(f"RELEASE {name}")
                raise
            else:
                conn.execute(f"RELEASE {name}")
            finally:
                local.depth -= 1
            return
        conn.execute("BEGIN IMMEDIATE")
        local.depth = 1
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        else:
            conn.execute("COMMIT")
        finally:
            local.depth = 0

    # -- schemas ---------------------------------------------------------------------------------------

    def migrate(self) -> dict[str, int]:
        """Apply every registered component's missing migrations; returns component -> version."""
        return {component: self.ensure(component) for component in registered_components()}

    def ensure(self, component: str) -> int:
        """Bring one component's tables to its latest registered version (cheap once done)."""
        with _REGISTRY_LOCK:
            migrations = _REGISTRY.get(component)
        if migrations is None:
            raise SchemaError(f"no schema registered for component {component!r}")
        if self._applied.get(component) == len(migrations):
            return len(migrations)
        with self._applied_lock:
            version = self._apply(component, migrations)
            self._applied[component] = version
        return version

    def schema_version(self, component: str) -> int:
        self._ensure_versions_table()
        row = self.query_one("SELECT version FROM schema_versions WHERE component = ?", (component,))
        return row["version"] if row else 0

    def _ensure_versions_table(self) -> None:
        self.execute(
            "CREATE TABLE IF NOT EXISTS schema_versions ("
            " component TEXT PRIMARY KEY, version INTEGER NOT NULL,"
            " updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')))"
        )

    def _apply(self, component: str, migrations: tuple[Migration, ...]) -> int:
        self._ensure_versions_table()
        with self.transaction() as conn:  # the write lock: another process may be migrating too
            row = conn.execute("SELECT version FROM schema_versions WHERE component = ?", (component,)).fetchone()
            current = row["version"] if row else 0
            if current > len(migrations):
                raise SchemaError(
                    f"{self.path} has schema version {current} of {component!r}, newer than this code "
                    f"knows ({len(migrations)}); upgrade the project or use another MLOPS_HOME"
                )
            for migration in migrations[current:]:
                for statement in _statements(migration):
                    conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_versions (component, version) VALUES (?, ?)"
                " ON CONFLICT(component) DO UPDATE SET version = excluded.version,"
                " updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
                (component, len(migrations)),
            )
        return len(migrations)


def _statements(migration: Migration) -> list[str]:
    """Split a migration into single statements (sqlite3's execute runs one; executescript would commit)."""
    if not isinstance(migration, str):
        return [s for s in migration if s.strip()]
    statements, buffer = [], ""
    for piece in migration.split(";"):
        buffer += piece + ";"
        if sqlite3.complete_statement(buffer):
            if buffer.strip(" \t\r\n;"):
                statements.append(buffer.strip())
            buffer = ""
    if buffer.strip(" \t\r\n;"):
        raise SchemaError(f"incomplete SQL statement in migration: {buffer.strip()!r}")
    return statements
