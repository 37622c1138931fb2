"""The execution records: runner identity, a dead runner's execution, stop requests, retries, migration."""

import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from offline.executor.executions import ExecutionStateError, ExecutionStore
from offline.process_identity import ProcessIdentity
from offline.state import StateDB


@pytest.fixture
def store(tmp_path) -> ExecutionStore:
    return ExecutionStore(StateDB(tmp_path / "state.db"))


def live_process() -> tuple[subprocess.Popen, ProcessIdentity]:
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    return process, ProcessIdentity.of(process.pid)


def ended_process() -> ProcessIdentity:
    process, identity = live_process()
    process.kill()
    process.wait()
    return identity


def test_the_identity_tells_a_live_process_from_a_dead_one_and_from_a_reused_pid():
    me = ProcessIdentity.current()
    assert me.is_alive() and me.start_ticks is not None
    assert not ended_process().is_alive()
    impostor = ProcessIdentity(me.pid, me.start_ticks + 1, me.boot_id)  # same pid, another start time
    assert not impostor.is_alive()
    after_a_reboot = ProcessIdentity(me.pid, me.start_ticks, "another-boot")
    assert not after_a_reboot.is_alive()


def test_a_killed_process_not_yet_reaped_is_not_alive():
    process, identity = live_process()
    process.kill()  # not waited for: a zombie until reaped
    deadline = time.monotonic() + 10
    while (Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z") and (
        time.monotonic() < deadline
    ):
        time.sleep(0.02)
    assert not identity.is_alive()
    process.wait()


def test_an_execution_whose_runner_died_reads_failed_with_its_steps(store):
    runner, identity = live_process()
    record = store.start("P", {}, {"Steps": []}, runner=identity)
    store.step_started(record.execution_id, "Running", "Processing", None)
    store.step_started(record.execution_id, "Done", "Processing", None)
    store.step_finished(record.execution_id, "Done", "Succeeded", {})
    assert store.get(record.execution_id).status == "Executing"
    runner.kill()
    runner.wait()

    [listed] = store.list()
    assert listed.status == "Failed"
    assert "ended without finishing it" in listed.failure_reason and listed.ended_at
    assert f"mlops pipeline retry {record.execution_id}" in listed.failure_reason
    steps = {s["step_name"]: s for s in store.steps(record.execution_id)}
    assert steps["Running"]["status"] == "Failed" and "ended without" in steps["Running"]["failure_reason"]
    assert steps["Done"]["status"] == "Succeeded"


def test_a_live_runners_execution_stays_executing(store):
    record = store.start("P", {}, {"Steps": []})  # this process is the runner
    assert store.get(record.execution_id).status == "Executing"
    assert store.get(record.execution_id).runner == ProcessIdentity.current()


def test_stop_requests_and_retries_follow_sagemakers_statuses(store):
    record = store.start("P", {"A": 1}, {"Steps": []})
    assert store.request_stop(record.execution_arn).status == "Stopping"
    assert store.request_stop(record.execution_id).status == "Stopping"  # asking twice is fine
    with pytest.raises(ExecutionStateError, match="is Stopping; only Failed or Stopped executions can be retried"):
        store.check_retryable(record.execution_id)
    store.finish(record.execution_id, "Stopped")
    with pytest.raises(ExecutionStateError, match="is Stopped; only Executing executions can be stopped"):
        store.request_stop(record.execution_id)

    restarted = store.restart(record.execution_id)
    assert (restarted.execution_arn, restarted.status, restarted.ended_at) == (record.execution_arn, "Executing", None)
    with pytest.raises(ExecutionStateError, match="is Executing"):  # a second retry racing the first
        store.restart(record.execution_id)
    store.finish(record.execution_id, "Succeeded")
    with pytest.raises(ExecutionStateError, match="is Succeeded"):
        store.check_retryable(record.execution_id)
    with pytest.raises(LookupError, match="no pipeline execution"):
        store.request_stop("nope")


def test_a_database_from_before_runner_tracking_is_migrated(tmp_path):
    path = tmp_path / "state.db"
    conn = sqlite3.connect(path)
    conn.executescript(
        """
        CREATE TABLE schema_versions (component TEXT PRIMARY KEY, version INTEGER NOT NULL, updated_at TEXT);
        INSERT INTO schema_versions (component, version) VALUES ('pipeline_executions', 1);
        CREATE TABLE pipeline_executions (execution_id TEXT PRIMARY KEY, execution_arn TEXT NOT NULL UNIQUE,
            pipeline_name TEXT NOT NULL, status TEXT NOT NULL, parameters TEXT NOT NULL, definition TEXT NOT NULL,
            failure_reason TEXT, created_at TEXT NOT NULL, ended_at TEXT);
        CREATE TABLE pipeline_execution_steps (execution_id TEXT NOT NULL, step_name TEXT NOT NULL,
            step_type TEXT NOT NULL, status TEXT NOT NULL, started_at TEXT NOT NULL, ended_at TEXT,
            failure_reason TEXT, metadata TEXT NOT NULL DEFAULT '{}', log_path TEXT,
            PRIMARY KEY (execution_id, step_name));
        INSERT INTO pipeline_executions VALUES ('old1', 'arn:old1', 'P', 'Executing', '{}', '{"Steps": []}', NULL,
            '2026-01-01T00:00:00.000Z', NULL);
        INSERT INTO pipeline_execution_steps (execution_id, step_name, step_type, status, started_at)
            VALUES ('old1', 'S', 'Processing', 'Executing', '2026-01-01T00:00:00.000Z');
        """
    )
    conn.close()
    store = ExecutionStore(StateDB(path))
    record = store.get("old1")
    assert record.status == "Failed" and "started by an older version" in record.failure_reason
    [step] = store.steps("old1")
    assert (step["status"], step["attempt_count"]) == ("Failed", 1)
    assert json.loads(json.dumps(store.definition("old1"))) == {"Steps": []}
