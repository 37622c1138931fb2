"""A live view of an execution: a table that redraws on a terminal, one line per event otherwise."""

from __future__ import annotations

import sys
import threading
import time

from offline.executor.definition import Step
from offline.executor.engine import Listener

STYLES = {"Executing": "yellow", "Stopping": "magenta", "Stopped": "magenta", "Succeeded": "green", "Failed": "red"}


class LiveProgress(Listener):
    def __init__(self, title: str, stream=None):
        from rich.console import Console

        self.title = title
        self.console = Console(file=stream or sys.stderr)
        self.rows: dict[str, dict] = {}
        self._lock = threading.Lock()
        self._live = None

    def __enter__(self) -> LiveProgress:
        if self.console.is_terminal:
            from rich.live import Live

            self._live = Live(self._table(), console=self.console, refresh_per_second=8, transient=False)
            self._live.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self._live is not None:
            self._live.update(self._table())
            self._live.__exit__(*exc)

    def step_started(self, step: Step) -> None:
        with self._lock:
            self.rows[step.name] = {"type": step.type, "status": "Executing", "start": time.monotonic(), "end": None}
        self._show(step.name)

    def step_finished(self, step: Step, status: str, reason: str | None) -> None:
        with self._lock:
            row = self.rows[step.name]
            row.update(status=status, end=time.monotonic(), reason=reason)
        self._show(step.name)

    def stopping(self) -> None:
        with self._lock:
            running = [name for name, row in self.rows.items() if row["status"] == "Executing"]
            for name in running:
                self.rows[name]["status"] = "Stopping"
        if self._live is not None:
            self._live.update(self._table())
        self.console.print(
            "stopping: the running jobs get SIGTERM, then SIGKILL; interrupt again to end them now",
            highlight=False,
            markup=False,
        )

    def _show(self, name: str) -> None:
        if self._live is not None:
            self._live.update(self._table())
            return
        row = self.rows[name]
        elapsed = f" {row['end'] - row['start']:.1f}s" if row["end"] else ""
        reason = f": {row.get('reason')}" if row.get("reason") else ""
        self.console.print(f"{name} ({row['type']}) {row['status']}{elapsed}{reason}", highlight=False, markup=False)

    def _table(self):
        from rich.table import Table

        table = Table(title=self.title, title_justify="left")
        for column in ("step", "type", "status", "seconds"):
            table.add_column(column)
        now = time.monotonic()
        for name, row in self.rows.items():
            seconds = (row["end"] or now) - row["start"]
            status = row["status"]
            table.add_row(name, row["type"], f"[{STYLES.get(status, 'white')}]{status}[/]", f"{seconds:.1f}")
        return table
