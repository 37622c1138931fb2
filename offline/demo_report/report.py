"""`write_demo_report`: the page the demo leaves for people to open, `$MLOPS_HOME/report.html`."""

from __future__ import annotations

from pathlib import Path

from processing.atomic import atomic_write

REPORT_FILE = "report.html"


def write_demo_report(home: Path, summary: dict, output: Path | None = None) -> Path:
    """Render the report of a demo run from its summary (and the files the summary points at in `home`'s
    object store), write it atomically (default `home / "report.html"`) and return its path."""
    from offline.demo_report.gather import gather
    from offline.demo_report.page import render

    home = Path(home)
    return atomic_write(Path(output) if output else home / REPORT_FILE, render(gather(home, summary)))
