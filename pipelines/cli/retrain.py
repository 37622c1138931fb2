"""`mlops retrain`: the build pipeline run locally again, with the reviewers' labels in its training split."""

from __future__ import annotations

import json
import sys

import click

from pipelines.cli import exit_codes

SHOWN_METRICS = ("auc", "accuracy", "precision", "recall", "f1", "false_positive_rate", "false_negative_rate")


@click.command("retrain")
@click.option(
    "--labels-uri", default=None, help="HumanLabelsUrl: the labelled rows (default the pipeline's, where "
    "`mlops review collect` writes them)."
)  # fmt: skip
@click.option(
    "--fail-on-violation/--no-fail-on-violation",
    default=True,
    show_default=True,
    help="Whether the quality checks' violations stop the build (both checks); off, they are recorded.",
)
@click.option("--kwargs", "kwargs_text", default=None, help="JSON object of get_pipeline keyword arguments.")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
def command(labels_uri: str | None, fail_on_violation: bool, kwargs_text: str | None, as_json: bool) -> None:
    """Retrain: a build with both quality checks against the approved version's baselines, labels in train only.

    The new version is registered PendingManualApproval; its test metrics are printed beside the approved
    version's. Exit 0 when the build succeeded, 1 when it failed (e.g. stopped by a check's violations),
    2 for bad input (nothing approved yet).
    """
    from offline.executor.definition import DefinitionError
    from offline.executor.progress import LiveProgress
    from offline.retrain import FAIL_ON_VIOLATION, RetrainInputError, retrain
    from pipelines._utils import CliError, parse_struct

    try:
        kwargs = parse_struct(kwargs_text, "--kwargs", dict)
    except CliError as e:
        raise click.UsageError(str(e)) from None
    if labels_uri is not None and not labels_uri.startswith("s3://"):
        raise click.BadParameter(f"{labels_uri!r} is not an s3:// URI", param_hint="--labels-uri")
    progress = LiveProgress("retraining build")
    try:
        with progress:
            result = retrain(
                labels_uri=labels_uri,
                fail_on_violation={kind: fail_on_violation for kind in FAIL_ON_VIOLATION},
                pipeline_kwargs=kwargs,
                listener=progress,
            )
    except (RetrainInputError, DefinitionError, ValueError) as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(exit_codes.USAGE)
    summary = result.summary()
    if as_json:
        click.echo(json.dumps(summary, indent=2))
    else:
        _print(result, fail_on_violation)
    sys.exit(exit_codes.SUCCESS if result.status == "Succeeded" else exit_codes.FAILURE)


def _print(result, fail_on_violation: bool) -> None:
    click.echo(f"retraining build {result.execution_id}: {result.status}")
    if result.failure_reason:
        click.echo(f"  failure: {result.failure_reason}")
    click.echo(f"labels from {result.labels_uri} (training split only)")
    for check in result.checks:
        stops = "stop the build" if check.fail_on_violation else "are recorded, the build goes on"
        found = "; ".join(
            f"{v.get('constraint_check_type')} on {v.get('feature_name') or v.get('metric_name')}"
            for v in check.violations
        )
        click.echo(
            f"{check.kind} check ({check.status}): {len(check.violations)} violation(s){': ' + found if found else ''}"
            f" (violations {stops})"
        )
        if check.report_uri:
            click.echo(f"  report {check.report_uri}")
    previous, new = result.previous, result.new
    if new is None:
        click.echo(f"nothing registered; the approved version stays {previous.model_package_arn}")
        return
    click.echo(f"registered {new.model_package_arn} (PendingManualApproval)")
    click.echo(f"{'':<22}{'approved':>12}{'new':>12}")
    click.echo(f"{'package':<22}{_version(previous.model_package_arn):>12}{_version(new.model_package_arn):>12}")
    click.echo(f"{'train rows':<22}{_cell(previous.train_rows):>12}{_cell(new.train_rows):>12}")
    click.echo(f"{'test rows':<22}{_cell(previous.test_rows):>12}{_cell(new.test_rows):>12}")
    for name in SHOWN_METRICS:
        before, after = (v.get(name, {}).get("value") for v in (previous.metrics, new.metrics))
        click.echo(f"{'test ' + name:<22}{_cell(before):>12}{_cell(after):>12}")
    if not fail_on_violation:
        click.echo("(--no-fail-on-violation: check violations did not stop this build)")


def _version(arn: str) -> str:
    return "v" + arn.rsplit("/", 1)[-1]


def _cell(value) -> str:
    if value is None:
        return "-"
    return f"{value:.4f}" if isinstance(value, float) else str(value)
