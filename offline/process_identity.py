"""Which process runs something (a pipeline execution, a state machine's runner, an endpoint host),
recorded so that its death can be told from a live run. The one reader of /proc for that.

A pid alone is not enough: after the runner dies the kernel may give its pid to any new process.
The identity adds the process's start time (field 22 of /proc/<pid>/stat, in clock ticks since boot)
and the boot id, which together no other process can share. Without /proc (not Linux) it falls back
to the pid alone.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
BOOT_ID = PROC / "sys" / "kernel" / "random" / "boot_id"


@dataclass(frozen=True)
class ProcessIdentity:
    pid: int
    start_ticks: int | None = None
    boot_id: str | None = None

    @classmethod
    def current(cls) -> ProcessIdentity:
        found = cls.of(os.getpid())
        assert found is not None  # this process is alive
        return found

    @classmethod
    def of(cls, pid: int) -> ProcessIdentity | None:
        """The live process with this pid, or None (no such process, or a zombie: it has ended)."""
        if not PROC.is_dir():
            return cls(pid) if _pid_exists(pid) else None
        try:
            stat = (PROC / str(pid) / "stat").read_text()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            return None
        fields = stat[stat.rfind(")") + 2 :].split()  # the command name may hold spaces and parentheses
        if fields[0] in ("Z", "X"):
            return None
        return cls(pid, int(fields[19]), _boot_id())

    def is_alive(self) -> bool:
        """The process that was recorded is still running (not merely some process with its pid)."""
        live = ProcessIdentity.of(self.pid)
        if live is None:
            return False
        if self.start_ticks is None or live.start_ticks is None:
            return True
        return live == self


def _boot_id() -> str | None:
    try:
        return BOOT_ID.read_text().strip()
    except OSError:
        return None


def _pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
