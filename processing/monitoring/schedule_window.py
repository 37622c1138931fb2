"""The window a scheduled monitoring job analyses, as Model Monitor derives it.

A monitoring schedule's execution for hour H (the scheduled time, floored to the hour) analyses
[H + StartTimeOffset, H + EndTimeOffset) and writes its files under `.../yyyy/mm/dd/hh/` of H (the
real report listing in reference/notebook-outputs has capture in hour 00 and its report in 01).
Offsets are ISO-8601 durations as the `EndpointInput` API takes them (`-PT1H`, `-P1D`, `-PT0H`);
without offsets an hourly execution analyses the previous hour.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from .errors import MonitorInputError
from .readers.capture import parse_time

DEFAULT_START_OFFSET = "-PT1H"
DEFAULT_END_OFFSET = "-PT0H"
_DURATION = re.compile(
    r"^(?P<sign>[-+]?)P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?$"
)


@dataclass(frozen=True)
class Window:
    scheduled: datetime  # the execution's hour
    start: datetime
    end: datetime

    @property
    def folder(self) -> str:
        """`yyyy/mm/dd/hh` of the execution's hour: where Model Monitor puts the execution's files."""
        return self.scheduled.strftime("%Y/%m/%d/%H")


def parse_offset(text: str) -> timedelta:
    """An ISO-8601 duration in weeks, days, hours, minutes and seconds (`-PT1H`, `-P1D`, `-PT90M`)."""
    match = _DURATION.match(text.strip()) if isinstance(text, str) else None
    if match is None or text.strip().rstrip("T") in ("P", "-P", "+P"):
        raise MonitorInputError(f"not an ISO-8601 duration: {text!r} (expected e.g. -PT1H or -P1D)")
    parts = {k: int(v) for k, v in match.groupdict().items() if k != "sign" and v}
    duration = timedelta(**parts)
    return -duration if match.group("sign") == "-" else duration


def scheduled_hour(text: str) -> datetime:
    """The execution's hour: the scheduled time (`2024-01-19T05:15:00Z`) floored to the hour, in UTC."""
    when = parse_time(text)
    if when is None:
        raise MonitorInputError("scheduled_time is empty")
    return when.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)


def window_for(scheduled_time: str, start_offset: str | None = None, end_offset: str | None = None) -> Window:
    """The window of the execution scheduled at scheduled_time; the offsets must not point ahead of it."""
    hour = scheduled_hour(scheduled_time)
    start = hour + parse_offset(start_offset or DEFAULT_START_OFFSET)
    end = hour + parse_offset(end_offset or DEFAULT_END_OFFSET)
    if end > hour:
        raise MonitorInputError(f"end_time_offset {end_offset!r} points after the scheduled time")
    if start >= end:
        raise MonitorInputError(
            f"the window [{iso(start)}, {iso(end)}) is empty: start_time_offset must be before end_time_offset"
        )
    return Window(hour, start, end)


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def hours(start: datetime, end: datetime) -> list[datetime]:
    """Every UTC hour that overlaps [start, end), oldest first."""
    hour = start.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)
    found = []
    while hour < end:
        found.append(hour)
        hour += timedelta(hours=1)
    return found
