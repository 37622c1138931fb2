"""The background runner: one process per execution, started by StartExecution, recorded in the state DB.

`launch()` starts `python -m offline.stepfunctions.runner --home HOME EXECUTION_ARN` in its own session and
records its pid with the process's start time (from /proc, so a reused pid is not mistaken for the runner).
`reap_if_dead()` turns a RUNNING execution whose runner is gone into FAILED (States.Runtime, naming the
runner and its log), so nothing reads RUNNING forever. Its task calls go to the home's local services,
in-process (`offline.aws.local_session`).
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from botocore.config import Config

from offline.home import mlops_home
from offline.process_identity import ProcessIdentity
from offline.state import StateDB
from offline.stepfunctions.errors import RUNTIME
from offline.stepfunctions.interpreter import run_execution
from offline.stepfunctions.store import RUNNING, Execution, ExecutionStore
from offline.stepfunctions.tasks import ClientFactory

log = logging.getLogger(__name__)
LAUNCH_GRACE_SECONDS = 60  # an execution with no runner recorded after this long never got one
_PROJECT_ROOT = Path(__file__).resolve().parents[2]


def log_path(home: Path, execution_arn: str) -> Path:
    machine, name = execution_arn.rsplit(":", 2)[-2:]  # names cannot hold "/" (StartExecution checks)
    return home / "logs" / "stepfunctions" / f"{machine}.{name}.log"


def launch(home: str | os.PathLike, store: ExecutionStore, execution_arn: str) -> int:
    """Start the runner of an execution in the background; returns its pid (already recorded)."""
    home = mlops_home(home)
    path = log_path(home, execution_arn)
    path.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_PROJECT_ROOT), env.get("PYTHONPATH")) if p)
    with open(path, "ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "offline.stepfunctions.runner", "--home", str(home), execution_arn],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # a Ctrl-C in the caller's terminal does not kill the execution
        )
    threading.Thread(target=process.wait, name=f"reap-{process.pid}", daemon=True).start()
    store.set_runner(execution_arn, process.pid, process_start(process.pid))
    return process.pid


def process_start(pid: int) -> str | None:
    """The process's start time in clock ticks since boot, as text; None if gone or a zombie ("" without
    /proc, where pid reuse cannot be told apart). `offline.process_identity` is the one reader of /proc."""
    identity = ProcessIdentity.of(pid)
    if identity is None:
        return None
    return "" if identity.start_ticks is None else str(identity.start_ticks)


def runner_alive(execution: Execution) -> bool:
    if execution.runner_pid is None:
        return time.time() - execution.start_date < LAUNCH_GRACE_SECONDS
    start = process_start(execution.runner_pid)
    return start is not None and (not execution.runner_start or start == execution.runner_start)


def reap_if_dead(store: ExecutionStore, execution: Execution, home: Path | None = None) -> Execution:
    """A RUNNING execution whose runner process is gone becomes FAILED with a cause naming it."""
    if execution.status != RUNNING or runner_alive(execution):
        return execution
    where = f"; its log: {log_path(home, execution.arn)}" if home else ""
    if execution.runner_pid is None:
        cause = f"No local runner was started for this execution within {LAUNCH_GRACE_SECONDS} s"
    else:
        cause = f"The local runner of this execution (pid {execution.runner_pid}) ended without finishing it{where}"
    store.fail(execution.arn, time.time(), RUNTIME, cause)
    return store.execution(execution.arn)


def local_clients(home: str | os.PathLike) -> ClientFactory:
    """boto3 clients answered by the home's local services (one per service, shared by the runner's threads)."""
    from offline.aws import local_session

    session = local_session(home)
    lock = threading.Lock()
    clients: dict = {}
    config = Config(retries={"mode": "standard", "max_attempts": 1})  # AWS retries are the state's Retry's job

    def client(service: str):
        with lock:
            if service not in clients:
                clients[service] = session.client(service, config=config)
            return clients[service]

    return client


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run one Step Functions execution of a local MLOPS_HOME.")
    parser.add_argument("--home", required=True)
    parser.add_argument("execution_arn")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    home = mlops_home(args.home)
    store = ExecutionStore(StateDB.for_home(home))
    arn = args.execution_arn
    if store.execution(arn) is None:
        log.error("no execution %s in %s", arn, home)
        return 2
    if not store.set_runner(arn, os.getpid(), process_start(os.getpid())):
        log.error("execution %s already has a runner", arn)
        return 1
    log.info("running %s", arn)
    try:
        status = run_execution(store, arn, local_clients(home))
    except Exception as e:  # a bug here must still close the execution, never leave it RUNNING
        log.exception("the interpreter failed on %s", arn)
        cause = f"The local interpreter failed: {e!r}; its log: {log_path(home, arn)}"
        store.fail(arn, time.time(), RUNTIME, cause)
        return 1
    log.info("%s ended %s", arn, status)
    return 0


if __name__ == "__main__":
    sys.exit(main())
