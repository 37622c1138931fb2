"""Run a schedule's due hours: every hour with captured data and no execution yet (catch-up); or one
explicit window.

An hour is checked once: its execution and metrics are recorded together, so running again does
nothing new (idempotent), and an hour whose run crashed is simply run again. By default only
completed hours run, as Model Monitor's hourly schedule analyses the previous hour; the current
hour can be included (`include_current_hour`) when you want a verdict on traffic just sent.

Outputs land where Model Monitor puts them: `<output>/<endpoint>/<schedule>/yyyy/mm/dd/hh/`
(statistics.json, constraints.json, constraint_violations.json).

An explicit window (`run_explicit`: any start and end, to the second) is read whole whatever hours it
spans, and has its own report location, `<output>/<endpoint>/<schedule>/windows/<start>-<end>/`
(basic ISO times), so two windows in the same clock hour never overwrite each other or an hourly result.
Its execution is recorded beside the hourly ones (keyed by its start); catch-up counts only hour-long
executions as done, so an explicit window never stands in for the hour it lies in.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

from offline.home import mlops_home
from offline.monitoring.schedules import DATA_QUALITY, Execution, Schedule, ScheduleStore, now_iso
from offline.state import StateDB
from offline.store import ObjectStore

NAMESPACES = {
    DATA_QUALITY: "aws/sagemaker/Endpoints/data-metrics",
    "model-quality": "aws/sagemaker/Endpoints/model-metrics",
}
HOUR_PATH = re.compile(r"(\d{4})/(\d{2})/(\d{2})/(\d{2})/[^/]+\.jsonl$")


def hour_start(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def captured_hours(store: ObjectStore, capture_uri: str, endpoint: str) -> list[datetime]:
    """The UTC hours that hold capture files for the endpoint (any variant)."""
    hours = set()
    for uri in store.list(f"{capture_uri.rstrip('/')}/{endpoint}/"):
        match = HOUR_PATH.search(uri)
        if match:
            year, month, day, hour = (int(g) for g in match.groups())
            hours.add(datetime(year, month, day, hour, tzinfo=timezone.utc))
    return sorted(hours)


def due_hours(
    schedule: Schedule, store: ObjectStore, schedules: ScheduleStore, now: datetime, include_current_hour: bool
) -> list[datetime]:
    done = schedules.done_windows(schedule.name, hourly=True)
    current = hour_start(now)
    return [
        hour
        for hour in captured_hours(store, schedule.capture_uri, schedule.endpoint)
        if (hour < current or (include_current_hour and hour == current)) and iso(hour) not in done
    ]


def run_due(
    schedule: Schedule,
    *,
    home: str | Path | None = None,
    now: datetime | None = None,
    include_current_hour: bool = False,
    on_window: Callable[[Execution], None] | None = None,
) -> list[Execution]:
    """Check every due hour of one schedule, oldest first; returns the new executions."""
    home = mlops_home(home)
    store = ObjectStore.for_home(home)
    schedules = ScheduleStore(StateDB.for_home(home))
    ran = []
    for hour in due_hours(schedule, store, schedules, now or datetime.now(timezone.utc), include_current_hour):
        execution, metrics = run_window(schedule, hour, hour + timedelta(hours=1), home, store)
        schedules.record(execution, NAMESPACES[schedule.kind], metrics)
        ran.append(execution)
        if on_window:
            on_window(execution)
    return ran


def run_explicit(schedule: Schedule, start: datetime, end: datetime, *, home: str | Path | None = None) -> Execution:
    """Check the window [start, end) of one schedule (times to the second, any length); records and returns it.

    Unlike catch-up it runs every time it is asked (a window is the caller's choice, not a schedule slot).
    """
    start, end = start.astimezone(timezone.utc), end.astimezone(timezone.utc)
    if start.microsecond or end.microsecond:
        raise ValueError("window bounds are whole seconds, as captured inferenceTime is")
    if end <= start:
        raise ValueError(f"the window ends ({iso(end)}) before it starts ({iso(start)})")
    home = mlops_home(home)
    store = ObjectStore.for_home(home)
    execution, metrics = run_window(
        schedule, start, end, home, store, report_uri=window_report_uri(schedule, start, end)
    )
    ScheduleStore(StateDB.for_home(home)).record(execution, NAMESPACES[schedule.kind], metrics)
    return execution


def window_report_uri(schedule: Schedule, start: datetime, end: datetime) -> str:
    """An explicit window's own report location (see the module docstring)."""
    return f"{_schedule_root(schedule)}/windows/{start:%Y%m%dT%H%M%SZ}-{end:%Y%m%dT%H%M%SZ}"


def _schedule_root(schedule: Schedule) -> str:
    return f"{schedule.output_uri.rstrip('/')}/{schedule.endpoint}/{schedule.name}"


def run_window(
    schedule: Schedule,
    start: datetime,
    end: datetime,
    home: Path,
    store: ObjectStore,
    report_uri: str | None = None,
) -> tuple[Execution, dict[str, float]]:
    """One execution over [start, end): the check's files into the store (by default the hour's location),
    and what to record."""
    from processing.monitoring.checks.api import run_data_quality_check, run_model_quality_check
    from processing.monitoring.errors import MonitorInputError
    from processing.monitoring.model_quality import ModelQualityAttributes

    started = now_iso()
    report_uri = report_uri or f"{_schedule_root(schedule)}/{start:%Y/%m/%d/%H}"
    # Local paths, not URIs: the analyzer would map s3:// through $MLOPS_HOME, which may be another home.
    capture = str(store.path(f"{schedule.capture_uri.rstrip('/')}/{schedule.endpoint}"))
    scratch_root = home / "tmp"
    scratch_root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=scratch_root) as scratch:
        out = Path(scratch)
        try:
            if schedule.kind == DATA_QUALITY:
                result = run_data_quality_check(
                    baseline_constraints=store.path(schedule.baseline_constraints),
                    baseline_statistics=store.path(schedule.baseline_statistics)
                    if schedule.baseline_statistics
                    else None,
                    output_dir=out,
                    capture_uri=capture,
                    start=start,
                    end=end,
                )
            else:
                result = run_model_quality_check(
                    baseline_constraints=store.path(schedule.baseline_constraints),
                    output_dir=out,
                    attributes=ModelQualityAttributes(
                        ground_truth_attribute="label",
                        probability_attribute=schedule.probability_attribute,
                        probability_threshold=schedule.probability_threshold,
                    ),
                    capture_uri=capture,
                    ground_truth_uri=str(store.path(schedule.ground_truth_uri)) if schedule.ground_truth_uri else "",
                    start=start,
                    end=end,
                )
        except MonitorInputError as e:
            failed = Execution(
                schedule.name, iso(start), iso(end), "Failed", f"Failed: {e}", 0, [], None, [], started, now_iso()
            )
            return failed, {}
        written = store.put_dir(report_uri, out) if any(out.iterdir()) else []
        shutil.rmtree(out, ignore_errors=True)
    violations = [v.document() for v in result.violations]
    execution = Execution(
        schedule=schedule.name,
        window_start=iso(start),
        window_end=iso(end),
        status=result.status,
        message=result.message,
        item_count=result.item_count,
        violations=violations,
        report_uri=report_uri if written else None,
        notes=result.notes,
        started_at=started,
        ended_at=now_iso(),
    )
    return execution, result.metrics
