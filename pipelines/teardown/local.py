"""`mlops teardown --local`: stop every process of a local home, then clear the home.

Processes are found where they record themselves, and stopped their own way:
- endpoint hosts (`endpoint_hosts` rows): asked to stop (SIGTERM: they finish requests in progress),
  killed if still there after the registry's wait;
- pipeline runners and Step Functions runners (their executions' runner identity: pid, start time,
  boot id, so a reused pid is never signalled): SIGTERM (a pipeline runner's watchdog then ends its jobs);
then, as a safety net for whatever does not record itself (`mlops local serve`, `mlops review serve`,
a job left behind), every process of this project's code whose environment says `MLOPS_HOME=<home>`
(or, without MLOPS_HOME, whose working directory holds the default `.mlops` that is this home):
SIGTERM, then SIGKILL after a grace period. This process and its ancestors are never signalled; nor
is anything that is not running this project's code (a shell that exported MLOPS_HOME, an editor).

The home is then cleared by the demo's own rule (`offline.demo.prepare_home`): only when it holds
nothing but local state, so a mistyped MLOPS_HOME never deletes someone's files.
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

from offline.home import DEFAULT_HOME, HOME_ENV
from offline.process_identity import PROC, ProcessIdentity

PACKAGES = ("offline", "processing", "pipelines", "review", "inference")
CONSOLE_SCRIPTS = ("mlops", "get-pipeline-definition", "run-pipeline")
GRACE_SECONDS = 10.0
_POLL = 0.05
_PROJECT = Path(__file__).resolve().parents[2]


@dataclass
class LocalReport:
    home: str
    stopped: list[dict] = field(default_factory=list)  # {"pid", "what", "how"}
    cleared: bool = False
    detail: str = ""

    def as_dict(self) -> dict:
        return {"home": self.home, "stopped": list(self.stopped), "cleared": self.cleared, "detail": self.detail}


class LocalTeardownError(RuntimeError):
    """The home cannot be cleared (it holds other files); what was stopped stays stopped."""


def local_home() -> Path:
    """The home `mlops` uses ($MLOPS_HOME, else ./.mlops), without creating it."""
    return Path(os.environ.get(HOME_ENV) or DEFAULT_HOME).expanduser().resolve()


def teardown_local(home: Path, grace: float = GRACE_SECONDS) -> LocalReport:
    report = LocalReport(str(home))
    if not home.exists():
        report.detail = "nothing to do: the home does not exist"
        return report
    if (home / "state.db").exists():
        _stop_hosts(home, report)
        _stop_runners(home, report, grace)
    _sweep(home, report, grace)
    _clear(home, report)
    return report


def _stop_hosts(home: Path, report: LocalReport) -> None:
    from offline.endpoint.hosts import HostRegistry

    registry = HostRegistry.for_home(home)
    live = registry.live()
    for record in registry.stop(live, "mlops teardown --local"):
        report.stopped.append({"pid": record.pid, "what": f"endpoint host of {record.endpoint}", "how": record.state})


def _stop_runners(home: Path, report: LocalReport, grace: float) -> None:
    """The runners of executions still running, by the identity each execution recorded."""
    from offline.executor.executions import ExecutionStore as PipelineExecutions
    from offline.state import StateDB
    from offline.stepfunctions.runner import runner_alive
    from offline.stepfunctions.store import RUNNING
    from offline.stepfunctions.store import ExecutionStore as StateMachineExecutions

    db = StateDB.for_home(home)
    runners: list[tuple[ProcessIdentity, str]] = []
    for record in PipelineExecutions(db).list(limit=1_000_000):
        if record.status in ("Executing", "Stopping") and record.runner is not None and record.runner.is_alive():
            runners.append((record.runner, f"pipeline runner of {record.execution_id}"))
    machines = StateMachineExecutions(db)
    for row in db.query("SELECT arn FROM sfn_executions WHERE status = ?", (RUNNING,)):
        execution = machines.execution(row["arn"])
        if execution is not None and execution.runner_pid and runner_alive(execution):
            identity = ProcessIdentity.of(execution.runner_pid)
            if identity is not None:
                runners.append((identity, f"Step Functions runner of {execution.name}"))
    db.close()
    _terminate(runners, grace, report)


def _sweep(home: Path, report: LocalReport, grace: float) -> None:
    spared = _ancestors()
    found = []
    for entry in PROC.iterdir() if PROC.is_dir() else ():
        if not entry.name.isdigit() or int(entry.name) in spared:
            continue
        argv = _read(entry / "cmdline").split("\0")
        if not _runs_project_code(argv) or not _belongs_to(entry, home):
            continue
        identity = ProcessIdentity.of(int(entry.name))
        if identity is not None:
            found.append((identity, " ".join(a for a in argv if a)[:200]))
    _terminate(found, grace, report)


def _terminate(processes: list[tuple[ProcessIdentity, str]], grace: float, report: LocalReport) -> None:
    """SIGTERM, then SIGKILL whatever is still the same process after `grace` seconds."""
    asked = []
    for identity, what in processes:
        if identity.is_alive() and _signal(identity.pid, signal.SIGTERM):
            asked.append((identity, what))
    deadline = time.monotonic() + grace
    while any(identity.is_alive() for identity, _ in asked) and time.monotonic() < deadline:
        time.sleep(_POLL)
    for identity, what in asked:
        how = "SIGTERM"
        if identity.is_alive() and _signal(identity.pid, signal.SIGKILL):
            how = "SIGKILL"
        report.stopped.append({"pid": identity.pid, "what": what, "how": how})


def _clear(home: Path, report: LocalReport) -> None:
    from offline.demo import DemoError, prepare_home

    previous = os.environ.get(HOME_ENV)
    os.environ[HOME_ENV] = str(home)
    try:
        prepare_home(fresh=True)
    except DemoError as e:
        raise LocalTeardownError(str(e)) from e
    finally:
        if previous is None:
            os.environ.pop(HOME_ENV, None)
        else:
            os.environ[HOME_ENV] = previous
    report.cleared = True
    report.detail = "cleared: it held only local state"


def _runs_project_code(argv: list[str]) -> bool:
    """Python running a module or script of this project (or one of its console scripts)."""
    if not argv or "python" not in os.path.basename(argv[0]):
        return False
    for i, arg in enumerate(argv[1:], start=1):
        if arg == "-m" and i + 1 < len(argv) and argv[i + 1].split(".")[0] in PACKAGES:
            return True
        if arg.startswith("-"):
            continue
        path = Path(arg)
        if path.name in CONSOLE_SCRIPTS:
            return True
        try:
            if path.is_absolute() and path.resolve().is_relative_to(_PROJECT):
                return True
        except OSError:
            return False
        return False  # the first non-option argument is the script: it is not ours
    return False


def _belongs_to(entry: Path, home: Path) -> bool:
    environ = {}
    for item in _read(entry / "environ").split("\0"):
        key, sep, value = item.partition("=")
        if sep:
            environ[key] = value
    try:
        cwd = Path(os.readlink(entry / "cwd"))
    except OSError:
        return False
    value = environ.get(HOME_ENV)
    where = Path(value).expanduser() if value else Path(DEFAULT_HOME)
    if not where.is_absolute():
        where = cwd / where
    return os.path.normpath(where) == os.path.normpath(home)


def _ancestors() -> set[int]:
    """This process and every process above it (never signalled)."""
    found, pid = set(), os.getpid()
    while pid > 1 and pid not in found:
        found.add(pid)
        stat = _read(PROC / str(pid) / "stat")
        try:
            pid = int(stat[stat.rfind(")") + 2 :].split()[1])
        except (IndexError, ValueError):
            break
    return found | {1}


def _read(path: Path) -> str:
    try:
        return path.read_bytes().decode(errors="replace")
    except OSError:
        return ""


def _signal(pid: int, sig: int) -> bool:
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        return False
    return True
