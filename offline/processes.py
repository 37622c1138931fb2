"""Which process a recorded pid still is: its start time from /proc, so a reused pid is never mistaken for it.

Background processes (Step Functions runners, endpoint hosts) record `pid` plus `process_start(pid)`;
a reader asks `process_start(pid) == recorded` before trusting or signalling the pid.
"""

from __future__ import annotations

import os
from pathlib import Path


def process_start(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (/proc/PID/stat field 22); None if gone or a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None if Path("/proc/self/stat").exists() else _kill_zero(pid)
    fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) ": state is field 3
    if fields[0] in ("Z", "X"):
        return None
    return fields[19]


def _kill_zero(pid: int) -> str | None:
    """Without /proc (not Linux): whether the pid exists at all; pid reuse cannot be told apart there."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return ""
    return ""


def is_running(pid: int | None, start: str | None) -> bool:
    """Whether the process recorded as (pid, start time) is still running (not a later process with its pid)."""
    if not isinstance(pid, int) or pid <= 0:
        return False
    current = process_start(pid)
    return current is not None and (not start or not current or current == start)
