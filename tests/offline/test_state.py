"""The state DB: WAL, versioned per-component migrations, transactions, threads and processes."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest

from offline import state
from offline.state import SchemaError, StateDB, register_schema


@pytest.fixture
def component(request) -> str:
    """A component name unique to the test, so the process-wide registry stays clean."""
    name = f"test_{request.node.name}".replace("[", "_").replace("]", "_")
    yield name
    state._REGISTRY.pop(name, None)


def test_wal_mode_and_busy_timeout(tmp_path):
    db = StateDB(tmp_path / "state.db")
    assert db.query_one("PRAGMA journal_mode")[0] == "wal"
    assert db.query_one("PRAGMA busy_timeout")[0] == state.BUSY_TIMEOUT_MS


def test_for_home(tmp_path, monkeypatch):
    monkeypatch.setenv("MLOPS_HOME", str(tmp_path))
    assert StateDB.for_home().path == (tmp_path / "state.db").resolve()


def test_migrations_apply_once_and_in_order(tmp_path, component):
    register_schema(component, [f"CREATE TABLE {component}_t (a INTEGER)"])
    db = StateDB(tmp_path / "state.db")
    assert db.schema_version(component) == 1
    register_schema(
        component,
        [
            f"CREATE TABLE {component}_t (a INTEGER)",
            [f"ALTER TABLE {component}_t ADD COLUMN b TEXT", f"CREATE INDEX {component}_i ON {component}_t (b)"],
        ],
    )
    assert db.ensure(component) == 2
    assert db.ensure(component) == 2  # idempotent
    reopened = StateDB(tmp_path / "state.db")
    assert reopened.ensure(component) == 2
    columns = [r["name"] for r in reopened.query(f"PRAGMA table_info({component}_t)")]
    assert columns == ["a", "b"]


def test_script_migrations_split_statements_including_triggers(tmp_path, component):
    register_schema(
        component,
        [
            f"""
            CREATE TABLE {component}_t (a INTEGER, changed INTEGER DEFAULT 0);
            CREATE TRIGGER {component}_trg AFTER UPDATE ON {component}_t BEGIN
                UPDATE {component}_t SET changed = 1 WHERE rowid = NEW.rowid AND changed = 0;
            END;
            """
        ],
    )
    db = StateDB(tmp_path / "state.db")
    db.ensure(component)
    with db.transaction() as conn:
        conn.execute(f"INSERT INTO {component}_t (a) VALUES (1)")
        conn.execute(f"UPDATE {component}_t SET a = 2")
    assert tuple(db.query_one(f"SELECT a, changed FROM {component}_t")) == (2, 1)


def test_conflicting_registration_and_newer_database_are_refused(tmp_path, component):
    register_schema(component, [f"CREATE TABLE {component}_t (a)"])
    with pytest.raises(SchemaError, match="different migrations"):
        register_schema(component, [f"CREATE TABLE {component}_other (a)"])
    db = StateDB(tmp_path / "state.db")
    db.execute("UPDATE schema_versions SET version = 5 WHERE component = ?", (component,))
    with pytest.raises(SchemaError, match="newer than this code"):
        StateDB(tmp_path / "state.db")
    with pytest.raises(SchemaError, match="no schema registered"):
        db.ensure("no_such_component")


def test_a_failing_migration_rolls_back_completely(tmp_path, component):
    register_schema(component, [[f"CREATE TABLE {component}_t (a)", "THIS IS NOT SQL"]])
    with pytest.raises(Exception, match="syntax error"):
        StateDB(tmp_path / "state.db")
    state._REGISTRY.pop(component)
    db = StateDB(tmp_path / "state.db")
    assert db.query_one("SELECT name FROM sqlite_master WHERE name = ?", (f"{component}_t",)) is None
    assert db.schema_version(component) == 0


def test_transaction_commits_rolls_back_and_nests_as_savepoints(tmp_path):
    db = StateDB(tmp_path / "state.db")
    db.execute("CREATE TABLE t (v INTEGER)")
    with db.transaction() as conn:
        conn.execute("INSERT INTO t VALUES (1)")
    with pytest.raises(RuntimeError), db.transaction() as conn:
        conn.execute("INSERT INTO t VALUES (2)")
        raise RuntimeError("boom")
    with db.transaction() as conn:
        conn.execute("INSERT INTO t VALUES (3)")
        with pytest.raises(ValueError), db.transaction() as inner:
            inner.execute("INSERT INTO t VALUES (4)")
            raise ValueError("inner only")
    assert [r[0] for r in db.query("SELECT v FROM t ORDER BY v")] == [1, 3]


def test_threads_each_get_a_connection_and_writes_serialise(tmp_path):
    db = StateDB(tmp_path / "state.db")
    db.execute("CREATE TABLE counter (n INTEGER)")
    db.execute("INSERT INTO counter VALUES (0)")

    def bump():
        for _ in range(50):
            with db.transaction() as conn:
                (n,) = conn.execute("SELECT n FROM counter").fetchone()
                conn.execute("UPDATE counter SET n = ?", (n + 1,))

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert db.query_one("SELECT n FROM counter")[0] == 200


def test_processes_share_the_database(tmp_path):
    db = StateDB(tmp_path / "state.db")
    db.execute("CREATE TABLE counter (n INTEGER)")
    db.execute("INSERT INTO counter VALUES (0)")
    script = (
        "import sys\nfrom offline.state import StateDB\n"
        "db = StateDB(sys.argv[1])\n"
        "for _ in range(30):\n"
        "    with db.transaction() as c:\n"
        "        n = c.execute('SELECT n FROM counter').fetchone()[0]\n"
        "        c.execute('UPDATE counter SET n = ?', (n + 1,))\n"
    )
    procs = [subprocess.Popen([sys.executable, "-c", script, str(db.path)]) for _ in range(3)]
    for _ in range(30):
        with db.transaction() as conn:
            (n,) = conn.execute("SELECT n FROM counter").fetchone()
            conn.execute("UPDATE counter SET n = ?", (n + 1,))
    assert [p.wait(timeout=60) for p in procs] == [0, 0, 0]
    assert db.query_one("SELECT n FROM counter")[0] == 120
