"""The demo's home: cleared by --fresh (only if it holds nothing but local state), with whatever an earlier run
left running stopped first; and stopping everything the demo started when it ends.

What may run for a home: deploy runners (one process per running Step Functions execution,
`offline.stepfunctions.runner`) and endpoint hosts (`offline.endpoint.hosts`). Both are recorded in the state
DB with their process identity, so only this home's processes are signalled, never a reused pid.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import time
from pathlib import Path

from offline.defaults import LOCAL_REGION
from offline.demo.common import SUMMARY_FILE, DemoError
from offline.home import HOME_ENV, mlops_home

# Everything local state puts in a home; `--fresh` clears a home holding nothing else. `endpoints` holds the
# endpoint hosts' state files (offline/endpoint/host.py), `human-task-uis` the task UIs' templates
# (offline/aws/sagemaker/human_review.py).
HOME_MARKERS = (
    "state.db",
    "state.db-wal",
    "state.db-shm",
    "s3",
    "jobs",
    "logs",
    "tmp",
    "endpoints",
    "human-task-uis",
    "report.html",
    SUMMARY_FILE,
)
LOCK_FILE = ".mlops-demo.lock"  # held by the running demo (flock); never cleared with the home
_LOCKS: dict[Path, int] = {}  # homes this process holds, with the lock's descriptor
RUNNER_WAIT = 10.0  # seconds a deploy runner gets to finish closing its execution before it is ended


def prepare_home(fresh: bool) -> Path:
    """The demo's home: $MLOPS_HOME or ./.mlops. `fresh` clears it, but only if it holds nothing but
    local state (so a mistyped MLOPS_HOME never deletes someone's files), after stopping what an earlier
    run left running there. The home stays locked for this process (LOCK_FILE), so a second demo started
    in the same home while one runs is refused instead of clearing the store under it."""
    home = Path(os.environ.get(HOME_ENV) or ".mlops").expanduser().resolve()
    entries = [p for p in home.iterdir() if p.name != LOCK_FILE] if home.exists() else []
    if entries:
        foreign = sorted(p.name for p in entries if p.name not in HOME_MARKERS and not p.name.startswith("."))
        if not fresh:
            raise DemoError(f"{home} already holds state; use --fresh to start over, or set MLOPS_HOME elsewhere")
        if foreign:
            raise DemoError(f"{home} holds files that are not local state ({', '.join(foreign[:3])}); not clearing it")
    _lock(home)
    if entries:
        stop_everything(home, "a new `mlops demo --fresh` clears this home")
        from offline.aws.runtime import forget_runtime

        forget_runtime(home)
        for entry in entries:
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink(missing_ok=True)
    os.environ[HOME_ENV] = str(home)
    return mlops_home(home)


def _lock(home: Path) -> None:
    """Hold an exclusive lock on the home for the rest of this process (re-entrant within it)."""
    if home in _LOCKS:
        return
    home.mkdir(parents=True, exist_ok=True)
    fd = os.open(home / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise DemoError(
            f"another `mlops demo` is running in {home}; wait for it to end, or set MLOPS_HOME elsewhere"
        ) from None
    _LOCKS[home] = fd


def stop_everything(home: Path, reason: str) -> dict:
    """Stop this home's running deploy executions (and their runners), then every endpoint host; what was
    stopped, by kind. A home without a state DB has nothing running."""
    if not (home / "state.db").exists():
        return {"executions": 0, "hosts": 0}
    executions = _stop_executions(home, reason)
    from offline.endpoint.hosts import HostRegistry

    registry = HostRegistry.for_home(home)
    hosts = registry.live()
    registry.stop(hosts, reason)
    return {"executions": executions, "hosts": len(hosts)}


def _stop_executions(home: Path, reason: str) -> int:
    """StopExecution on every RUNNING execution, then wait for every runner of the home to exit."""
    from offline.aws.states.backend import StepFunctionsBackend
    from offline.stepfunctions.runner import runner_alive

    backend = StepFunctionsBackend.for_home(home)
    stopped, runners = 0, []
    for machine in backend.store.state_machines(LOCAL_REGION):
        for execution in backend.store.executions(machine["arn"]):
            if execution.status == "RUNNING":
                backend.stop_execution({"executionArn": execution.arn, "error": "Demo.Stopped", "cause": reason})
                stopped += 1
            if execution.runner_pid is not None and runner_alive(execution):
                runners.append(execution)
    deadline = time.monotonic() + RUNNER_WAIT
    while runners and time.monotonic() < deadline:
        time.sleep(0.05)
        runners = [e for e in runners if runner_alive(e)]
    for execution in runners:  # still there: this home's runner (its start time checked), ended
        with contextlib.suppress(ProcessLookupError):
            os.kill(execution.runner_pid, signal.SIGTERM)
    deadline = time.monotonic() + RUNNER_WAIT
    while runners and time.monotonic() < deadline:
        time.sleep(0.05)
        runners = [e for e in runners if runner_alive(e)]
    if runners:
        raise DemoError(f"deploy runners {[e.runner_pid for e in runners]} of {home} did not stop")
    return stopped
