"""The processes a test left behind in its home: found by the MLOPS_HOME in their environment, as the
acceptance harness finds them, and reaped so one test's leftovers never leak into the next."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path


def processes_of(home: Path) -> list[int]:
    """Every process but this one whose environment names this home (runners, endpoint hosts, jobs)."""
    marker = f"MLOPS_HOME={Path(home).resolve()}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if marker in environ.split(b"\0"):
            found.append(int(entry.name))
    return found


def reap(home: Path, seconds: float) -> list[int]:
    """Wait up to `seconds` for the home's processes to end, SIGKILL the rest; returns those that had to be
    killed (a test asserts there were none)."""
    deadline = time.monotonic() + seconds
    while processes_of(home) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = processes_of(home)
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    return left
