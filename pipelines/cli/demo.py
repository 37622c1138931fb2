"""`mlops demo`: the whole loop offline; `make demo` runs it with --fresh."""

from __future__ import annotations

import sys

import click

from pipelines.cli import exit_codes


@click.command("demo")
@click.option("--fresh", is_flag=True, help="Start from an empty MLOPS_HOME (clears earlier local state).")
def command(fresh: bool) -> None:
    """The whole loop offline: build, approve, serve, monitor, report; writes $MLOPS_HOME/demo-summary.json."""
    from offline.demo import SUMMARY_FILE, DemoError, prepare_home, run_demo

    try:
        home = prepare_home(fresh)
        click.echo(f"MLOPS_HOME={home}")
        summary = run_demo(home, say=click.echo)
    except DemoError as e:
        click.echo(f"demo failed: {e}", err=True)
        sys.exit(exit_codes.FAILURE)
    click.echo("")
    for package in summary["model_packages"]:
        click.echo(
            f"model package v{package['version']} {package['approval_status']}: "
            f"test AUC {package['test_auc']:.4f}, accuracy {package['test_accuracy']:.4f}"
        )
        click.echo(f"  model  {package['model_data_uri']}")
    endpoint, predictions = summary["endpoint"], summary["predictions"]
    click.echo(
        f"endpoint {endpoint['name']}: {endpoint['requests']} requests, {endpoint['captured_records']} captured "
        f"in {endpoint['capture_uri']}"
    )
    click.echo(
        f"predictions: {predictions['above_upper']} above {predictions['upper']}, {predictions['below_lower']} below "
        f"{predictions['lower']}, {predictions['needs_review']} for human review"
    )
    for window in summary["monitoring"]:
        found = ", ".join(f"{v['feature_name']} {v['constraint_check_type']}" for v in window["violations"]) or "none"
        click.echo(
            f"{window['kind']} {window['window']}: {window['status']} ({window['items']} rows); violations: {found}"
        )
    click.echo(f"report: {summary['report']}")
    click.echo(f"done in {summary['wall_seconds']:.1f} s; summary in {home / SUMMARY_FILE}")
