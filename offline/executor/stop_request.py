"""Whether an execution should stop: a signal to its runner, or StopPipelineExecution from elsewhere.

Ctrl-C (SIGINT) and SIGTERM no longer end the runner on the spot: they ask it to stop, as
StopPipelineExecution does, so it can end its jobs and record the execution Stopped. A second
signal means "now": the jobs get no grace period, and before the execution exists (while the
definition is still being built) it aborts at once. `mlops pipeline stop` in another process marks
the execution Stopping in the state DB; the runner polls that status while it waits for its steps.
A signal the process inherited as ignored (SIGINT of `cmd &` in a script) stays ignored.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable

SIGNALS = (signal.SIGINT, signal.SIGTERM)
POLL_SECONDS = 0.5


class StopRequest:
    """`with StopRequest() as stop:` handles SIGINT/SIGTERM inside; re-entrant (the CLI enters it
    before building the definition, the engine again around the execution)."""

    def __init__(self, poll_seconds: float = POLL_SECONDS):
        self.poll_seconds = poll_seconds
        self.execution_id: str | None = None
        self._status: Callable[[], str] | None = None
        self.signum: int | None = None  # the first signal received, if one was
        self.now = threading.Event()  # a second signal: stop without grace
        self._requested = threading.Event()
        self._previous: list[dict[int, object]] = []
        self._polled = 0.0

    def __enter__(self) -> StopRequest:
        installed = {}
        if threading.current_thread() is threading.main_thread():  # Python delivers signals there only
            for signum in SIGNALS:
                if signal.getsignal(signum) is not signal.SIG_IGN:
                    installed[signum] = signal.signal(signum, self._on_signal)
        self._previous.append(installed)
        return self

    def __exit__(self, *exc) -> None:
        for signum, handler in self._previous.pop().items():
            signal.signal(signum, handler)

    def watch(self, execution_id: str, status: Callable[[], str]) -> None:
        """From now on a recorded status of Stopping (set by `mlops pipeline stop`) is a request too."""
        self.execution_id, self._status = execution_id, status

    def requested(self) -> bool:
        """Stop asked for by a signal, or recorded as Stopping by another process (polled)."""
        if self._requested.is_set():
            return True
        if self._status is not None and time.monotonic() - self._polled >= self.poll_seconds:
            self._polled = time.monotonic()
            if self._status() == "Stopping":
                self._requested.set()
        return self._requested.is_set()

    def _on_signal(self, signum: int, frame) -> None:
        if self._requested.is_set() and self.signum is not None:
            if self.execution_id is None:
                raise KeyboardInterrupt  # still building the definition: abort, nothing to record
            self.now.set()
        if self.signum is None:
            self.signum = signum
        self._requested.set()
