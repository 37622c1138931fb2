"""`mlops monitor schedule` and `mlops monitor report`: hourly checks of captured traffic, and the page."""

from __future__ import annotations

import json
import sys

import click

from pipelines.cli import exit_codes


@click.command("schedule")
@click.option("--endpoint", required=True, help="Endpoint whose captured traffic to check.")
@click.option(
    "--model-package",
    metavar="ARN",
    help="Take the baselines from this package's drift-check baselines (creates or updates the schedules). "
    "Without it, the endpoint's existing schedules run.",
)
@click.option(
    "--kind",
    "kinds",
    type=click.Choice(["data-quality", "model-quality"]),
    multiple=True,
    help="Which checks (default: data-quality, plus model-quality when --ground-truth is given).",
)
@click.option("--capture-uri", default=None, help="Capture destination (without the endpoint's name).")
@click.option("--ground-truth", "ground_truth", default=None, metavar="S3URI", help="Ground-truth JSON Lines prefix.")
@click.option("--output-uri", default=None, help="Where the hourly reports go (Model Monitor's layout below it).")
@click.option(
    "--include-current-hour", is_flag=True, help="Also check the hour in progress (default: completed hours)."
)
@click.option("--start", help="Check this explicit window instead: its start, ISO-8601 to the second, inclusive.")
@click.option("--end", help="The explicit window's end, ISO-8601 to the second, exclusive.")
@click.option("--json", "as_json", is_flag=True)
def schedule(
    endpoint, model_package, kinds, capture_uri, ground_truth, output_uri, include_current_hour, start, end, as_json
) -> None:
    """Run every hour that has captured data and no result yet (catch-up; running again does nothing new),
    or, with --start and --end, that one window (read whole across hours, with its own report location)."""
    from offline.monitoring import setup
    from offline.monitoring.catchup import run_due, run_explicit
    from offline.monitoring.schedules import ScheduleStore
    from offline.state import StateDB

    window = _window(start, end, include_current_hour)

    if model_package:
        kinds = kinds or (("data-quality", "model-quality") if ground_truth else ("data-quality",))
        try:
            schedules = setup.create_schedules(
                endpoint,
                model_package,
                tuple(kinds),
                capture_uri=capture_uri or setup.DEFAULT_CAPTURE_URI,
                output_uri=output_uri or setup.DEFAULT_OUTPUT_URI,
                ground_truth_uri=ground_truth,
            )
        except setup.SetupError as e:
            raise click.UsageError(str(e)) from None
    else:
        schedules = ScheduleStore(StateDB.for_home()).list(endpoint)
        if kinds:
            schedules = [s for s in schedules if s.kind in kinds]
        if not schedules:
            raise click.UsageError(f"endpoint {endpoint!r} has no monitoring schedule yet: pass --model-package ARN")
    results = []
    for item in schedules:
        ran = [run_explicit(item, *window)] if window else run_due(item, include_current_hour=include_current_hour)
        for execution in ran:
            results.append(execution)
            if not as_json:
                click.echo(f"{item.name} {execution.window_start}: {execution.message}")
                for violation in execution.violations:
                    name = violation.get("feature_name") or violation.get("metric_name")
                    click.echo(f"  {name}: {violation['constraint_check_type']}: {violation['description']}")
    if as_json:
        click.echo(json.dumps([e.__dict__ for e in results], indent=2))
    elif not results:
        click.echo("nothing to do: every hour with captured data already has a result")
    if any(e.status == "Failed" for e in results):
        sys.exit(exit_codes.FAILURE)


def _window(start: str | None, end: str | None, include_current_hour: bool):
    """(start, end) of an explicit window, None without one; bad input is a usage error (exit 2)."""
    from processing.monitoring.errors import MonitorInputError
    from processing.monitoring.readers.capture import parse_time

    if start is None and end is None:
        return None
    if start is None or end is None:
        raise click.UsageError("an explicit window needs both --start and --end")
    if include_current_hour:
        raise click.UsageError("--include-current-hour is for catch-up; an explicit window says its own end")
    try:
        window = parse_time(start), parse_time(end)
    except MonitorInputError as e:
        raise click.UsageError(str(e)) from None
    if any(moment.microsecond for moment in window):
        raise click.UsageError("--start and --end are whole seconds, as captured inferenceTime is")
    if window[1] <= window[0]:
        raise click.UsageError(f"--end {end} is not after --start {start}")
    return window


@click.command("report")
@click.option("--endpoint", required=True, help="Endpoint whose monitoring results to show.")
@click.option("--output", type=click.Path(dir_okay=False), default=None, help="Default: $MLOPS_HOME/report.html")
def report(endpoint, output) -> None:
    """Write the monitoring report: a self-contained HTML page (drift, predictions, model quality)."""
    from offline.monitoring.report import write_report

    try:
        path = write_report(endpoint, output)
    except LookupError as e:
        raise click.UsageError(str(e)) from None
    click.echo(f"report written to {path}")
