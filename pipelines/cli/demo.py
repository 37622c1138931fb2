"""`mlops demo`: the whole loop offline; `make demo` runs it with --fresh."""

from __future__ import annotations

import sys

import click

from pipelines.cli import exit_codes


@click.command("demo")
@click.option("--fresh", is_flag=True, help="Start from an empty MLOPS_HOME (clears earlier local state).")
def command(fresh: bool) -> None:
    """The whole loop offline: build, approve, serve, review, monitor, retrain, report; writes
    $MLOPS_HOME/demo-summary.json."""
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
    review = summary["human_review"]
    click.echo(
        f"human review of [{review['window']['start']}, {review['window']['end']}): {review['loops_started']} loops "
        f"({review['review_loops']} review, {review['audit_loops']} audit), {review['completed']} completed by "
        f"{review['reviewer']}; {review['ground_truth_records']} ground-truth records, {review['labelled_rows']} "
        "labelled rows"
    )
    for window in summary["monitoring"]:
        found = ", ".join(f"{v['feature_name']} {v['constraint_check_type']}" for v in window["violations"]) or "none"
        click.echo(
            f"{window['kind']} {window['window']}: {window['status']} ({window['items']} rows); violations: {found}"
        )
    retrain = summary["retrain"]
    click.echo(
        f"retrained: v{retrain['model_package_arn'].rsplit('/', 1)[-1]} PendingManualApproval on "
        f"{retrain['train_rows']} training rows (v1 {retrain['previous_train_rows']}), {retrain['test_rows']} test rows; "
        f"test AUC {retrain['metrics']['auc']['value']:.4f} (v1 {retrain['previous_metrics']['auc']['value']:.4f})"
    )
    for kind, check in retrain["checks"].items():
        found = ", ".join(f"{v['name']} {v['constraint_check_type']}" for v in check["violations"]) or "none"
        click.echo(f"  {kind} check against v1's baseline: violations {found} (recorded; the demo's retrain goes on)")
    click.echo(f"report: {summary['report']}")
    click.echo(f"done in {summary['wall_seconds']:.1f} s; summary in {home / SUMMARY_FILE}")
