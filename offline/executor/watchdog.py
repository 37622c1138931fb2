"""No job outlives its runner: every job process carries a tag, and a watchdog ends tagged processes.

Each job's environment holds `MLOPS_JOB_TAG=<runner token>/<job name>/`, which every process the job
starts inherits (runproc.sh, the Python it runs, whatever that starts in turn). Ending a job —
stopped, timed out, or finished with helpers left behind, as a container's end would take them —
ends the processes with its tag: SIGTERM, then SIGKILL after a grace period.

If the runner itself is killed (`kill -9`), nothing in it can run. So the runner starts this file
as a small separate process holding the read end of a pipe whose write end only the runner has:
when the runner dies, however it dies, the pipe reads end-of-file and the watchdog ends every
process tagged with the runner's token, then exits. (`prctl(PR_SET_PDEATHSIG)` would not do: it
reaches only the direct child, the job's shell, not the Python the shell starts, and it fires when
the *thread* that started the child ends.) The watchdog runs in its own session and ignores SIGINT
and SIGHUP, so a Ctrl-C or hang-up meant for the runner does not end it first.

Standard library only: it runs as `python -I -S watchdog.py TOKEN GRACE`, importing nothing else.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path

TAG_ENV = "MLOPS_JOB_TAG"
GRACE_SECONDS = 5.0
_POLL_SECONDS = 0.05


def tagged_processes(prefix: str) -> list[int]:
    """Pids of live processes whose MLOPS_JOB_TAG starts with `prefix` (read from /proc/<pid>/environ)."""
    wanted = f"{TAG_ENV}={prefix}".encode()
    found = []
    for entry in Path("/proc").iterdir() if Path("/proc").is_dir() else ():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if any(item.startswith(wanted) for item in environ.split(b"\0")) and not _is_zombie(entry):
            found.append(int(entry.name))
    return found


def end_tagged(prefix: str, grace: float = GRACE_SECONDS, groups: Iterable[int] = ()) -> list[int]:
    """SIGTERM every process tagged `prefix…` (and the process groups given), SIGKILL what is left after
    `grace` s; returns the tagged pids found first."""
    groups = list(groups)
    pids = tagged_processes(prefix)
    _signal_all(pids, signal.SIGTERM, groups)
    deadline = time.monotonic() + grace
    while (pids or groups) and time.monotonic() < deadline:
        if not tagged_processes(prefix) and not any(_group_exists(g) for g in groups):
            return pids
        time.sleep(_POLL_SECONDS)
    if pids or groups:
        _signal_all(tagged_processes(prefix), signal.SIGKILL, groups)
    return pids


class Watchdog:
    """The runner's side: start the watchdog process; closing it (or dying) makes the watchdog sweep."""

    def __init__(self, token: str, grace: float = GRACE_SECONDS):
        self.token = token
        self.grace = grace
        self._process: subprocess.Popen | None = None

    def __enter__(self) -> Watchdog:
        self._process = subprocess.Popen(
            [sys.executable, "-I", "-S", __file__, self.token, str(self.grace)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
            start_new_session=True,
            close_fds=True,
        )
        return self

    def __exit__(self, *exc) -> None:
        if self._process is not None:
            assert self._process.stdin is not None
            self._process.stdin.close()  # end-of-file: the watchdog sweeps what is left, then exits
            self._process.wait()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None


def _signal_all(pids: list[int], signum: int, groups: list[int] = ()) -> None:
    for target, send in [*((p, os.kill) for p in pids), *((g, os.killpg) for g in groups)]:
        with contextlib.suppress(ProcessLookupError, PermissionError):  # gone meanwhile, or not ours
            send(target, signum)


def _group_exists(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _is_zombie(entry: Path) -> bool:
    try:
        stat = (entry / "stat").read_text()
    except OSError:
        return True
    return stat[stat.rfind(")") + 2 :].startswith(("Z", "X"))


def main(argv: list[str]) -> None:
    token, grace = argv[0], float(argv[1])
    for signum in (signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, signal.SIG_IGN)  # a terminal's Ctrl-C or hang-up is for the runner
    while sys.stdin.buffer.read(65536):
        pass
    end_tagged(f"{token}/", grace)


if __name__ == "__main__":
    main(sys.argv[1:])
