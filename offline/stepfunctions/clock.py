"""Time for the interpreter: the wall clock, in slices, so a stop or a failed sibling interrupts any wait.

The interpreter takes a clock object, so tests can inject one that moves virtual time; the runner process
always uses `SystemClock` (real Wait states really wait).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Protocol

SLICE_SECONDS = 0.2


class Clock(Protocol):
    def now(self) -> datetime: ...

    def sleep(self, seconds: float, interrupted: Callable[[], bool]) -> bool:
        """Wait `seconds` unless `interrupted()` becomes true first; returns whether it did."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    def sleep(self, seconds: float, interrupted: Callable[[], bool]) -> bool:
        deadline = time.monotonic() + max(0.0, seconds)
        while True:
            if interrupted():
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            time.sleep(min(SLICE_SECONDS, remaining))


def iso(moment: datetime) -> str:
    """AWS's context-object timestamps: 2019-03-26T20:14:13.192Z."""
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
