import re

import pytest

from offline.monitoring.catchup import run_due
from offline.monitoring.report import write_report
from offline.monitoring.report_data import FeatureRow, ReportData
from offline.monitoring.report_html import render
from offline.monitoring.schedules import Execution, ScheduleStore
from offline.state import StateDB
from tests.offline.monitoring.conftest import ENDPOINT, capture_line, rows, write_capture


def test_the_report_of_a_drifted_window(world):
    home, schedule, store = world["home"], world["schedule"], world["store"]
    ScheduleStore(StateDB.for_home(home)).save(schedule)
    hour = world["now"].replace(minute=0) - 2 * world["hour"]
    write_capture(store, hour, [capture_line(f, p, hour.replace(minute=1)) for f, p in rows(200, shift=4.0)])
    run_due(schedule, home=home, now=world["now"])
    html = write_report(ENDPOINT, home=home).read_text()
    assert html.startswith("<!DOCTYPE html>") and "Monitoring report: ep" in html
    assert re.search(r"[1-9]\d* of 4 features drifted", html)
    assert "review band 0.1 &lt; p &lt; 0.9" in html and "200 predictions" in html
    assert (
        "CompletedWithViolations" in html
        and "baseline_drift_check" not in html.split("Completeness")[1].split("</table>")[0]
    )
    # Self-contained: nothing fetched from anywhere, no script.
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html) and "<script" not in html


def test_everything_shown_is_escaped():
    hostile = "<script>alert(1)</script>"
    execution = Execution(
        "s", "2026-01-01T00:00:00Z", "2026-01-01T01:00:00Z", "Completed", hostile, 3, [], None, [hostile], "a", "b"
    )
    data = ReportData(
        endpoint=hostile,
        generated_at="now",
        executions=[execution],
        data_quality=execution,
        features=[FeatureRow(hostile, hostile, 0.5, 0.1, 1.0, 0.5, [hostile])],
        probabilities=[0.2, 0.95],
    )
    html = render(data)
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_missing_and_extra_columns_are_shown_once_for_the_window():
    missing = {
        "feature_name": "Missing columns",
        "constraint_check_type": "missing_column_check",
        "description": "There are missing columns in current dataset. Number of columns in current dataset: 3, "
        "Number of columns in baseline constraints: 4",
    }
    execution = Execution(
        "s",
        "2026-01-01T00:00:00Z",
        "2026-01-01T01:00:00Z",
        "CompletedWithViolations",
        "m",
        3,
        [missing],
        None,
        [],
        "a",
        "b",
    )
    data = ReportData("ep", "now", [execution], data_quality=execution, features=[FeatureRow("a", "", 0.0, 0.1, 1, 1)])
    section = render(data).split("Completeness and types")[1].split("<h2>")[0]
    assert section.count("Missing columns: There are missing columns in current dataset.") == 1


def test_no_schedule_no_report(tmp_path):
    with pytest.raises(LookupError, match="no monitoring schedule for endpoint 'nope'"):
        write_report("nope", home=tmp_path)
