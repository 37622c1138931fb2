"""`mlops demo`: the whole loop offline; `make demo` runs it with --fresh."""

from __future__ import annotations

import sys

import click

from pipelines.cli import exit_codes


@click.command("demo")
@click.option("--fresh", is_flag=True, help="Start from an empty MLOPS_HOME (clears earlier local state).")
def command(fresh: bool) -> None:
    """The whole loop offline: build, deploy through the state machine, two traffic windows, human review,
    monitoring, retrain, shadow comparison, deploy of v2, report; writes $MLOPS_HOME/demo-summary.json."""
    from offline.demo import DemoError, prepare_home, run_demo
    from offline.demo.table import keep_up_hint, summary_table

    try:
        home = prepare_home(fresh)
        click.echo(f"MLOPS_HOME={home}")
        summary = run_demo(home, say=click.echo)
    except DemoError as e:
        click.echo(f"demo failed: {e}", err=True)
        sys.exit(exit_codes.FAILURE)
    from rich.console import Console

    click.echo("")
    Console(width=110).print(summary_table(summary))
    for line in keep_up_hint(home):
        click.echo(line)
    click.echo(f"done in {summary['wall_seconds']:.1f} s")
