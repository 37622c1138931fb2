"""`mlops monitor report`: collect what the endpoint's schedules found and write the HTML page."""

from __future__ import annotations

import os
from pathlib import Path

from offline.home import mlops_home
from offline.monitoring.report_data import collect
from offline.monitoring.report_html import render
from offline.monitoring.schedules import ScheduleStore, now_iso
from offline.state import StateDB
from offline.store import ObjectStore
from processing.atomic import atomic_write

REPORT_FILE = "report.html"


def write_report(endpoint: str, output: str | os.PathLike | None = None, home: str | os.PathLike | None = None) -> Path:
    """Write the report (default `$MLOPS_HOME/report.html`) atomically; returns its path."""
    home = mlops_home(home)
    data = collect(endpoint, ScheduleStore(StateDB.for_home(home)), ObjectStore.for_home(home), now_iso())
    return atomic_write(Path(output) if output else home / REPORT_FILE, render(data))
