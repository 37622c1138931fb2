"""`mlops monitor …`: this project's Model Monitor engine on the command line.

Thin wrappers over processing.monitoring (imported lazily so `mlops --help` stays fast). Bad input
exits with code 2 and a message naming the problem, and leaves the output folder untouched.
The job code reads local paths only (as a Processing container does): the `s3://` inputs given
here are mapped to their files in the local object store first (`$MLOPS_HOME/s3/<bucket>/<key>`).
"""

from __future__ import annotations

import click

from pipelines.cli import exit_codes

KINDS = ("data-quality", "model-quality")
FORMATS = ("csv", "json", "parquet")


class InputProblem(click.ClickException):
    """Bad input: printed as `Error: …`, exit code 2."""

    exit_code = exit_codes.USAGE


def local_input(location: str | None) -> str | None:
    """An s3:// input → its path in the local object store ($MLOPS_HOME); a local path as it is."""
    if location is None or not location.startswith("s3://"):
        return location
    from offline.store import ObjectStore, ObjectStoreError

    try:
        return str(ObjectStore.for_home().path(location.rstrip("/")))
    except ObjectStoreError as e:
        raise InputProblem(f"{location}: {e}") from None


@click.group("monitor")
def group() -> None:
    """Baselines and checks in Model Monitor's formats (statistics, constraints, violations)."""


@group.command("suggest-baseline")
@click.option("--dataset", required=True, help="CSV, JSON Lines or Parquet file (or a folder of them), or s3://….")
@click.option("--header/--no-header", default=True, show_default=True, help="CSV: the first row holds names.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="csv", show_default=True)
@click.option("--output", required=True, type=click.Path(file_okay=False), help="Folder for the JSON files.")
@click.option("--kind", type=click.Choice(KINDS), default="data-quality", show_default=True)
@click.option("--probability-attribute", help="model-quality: column with P(positive).")
@click.option("--ground-truth-attribute", help="model-quality: column with the true label.")
@click.option("--inference-attribute", help="model-quality: column with the predicted label.")
@click.option("--probability-threshold", type=float, default=0.5, show_default=True, help="model-quality.")
@click.option("--positive-label", help="model-quality: label value that counts as positive (default 1).")
@click.option("--comparison-method", type=click.Choice(("Robust", "Simple")), default="Robust", show_default=True)
@click.option("--comparison-threshold", type=click.FloatRange(0, 1), default=0.1, show_default=True)
@click.option(
    "--categorical-drift-method", type=click.Choice(("LInfinity", "ChiSquared")), default="LInfinity", show_default=True
)
def suggest_baseline(
    dataset: str,
    header: bool,
    fmt: str,
    output: str,
    kind: str,
    probability_attribute: str | None,
    ground_truth_attribute: str | None,
    inference_attribute: str | None,
    probability_threshold: float,
    positive_label: str | None,
    comparison_method: str,
    comparison_threshold: float,
    categorical_drift_method: str,
) -> None:
    """Write statistics.json and constraints.json for DATASET, as Model Monitor's baselining job."""
    from processing.monitoring.errors import MonitorInputError
    from processing.monitoring.readers import DatasetFormat

    dataset_format = DatasetFormat(fmt, header)
    dataset = local_input(dataset)
    try:
        if kind == "model-quality":
            from processing.monitoring.model_quality import ModelQualityAttributes, suggest_model_quality_baseline

            if not ground_truth_attribute:
                raise MonitorInputError("--kind model-quality needs --ground-truth-attribute")
            attributes = ModelQualityAttributes(
                ground_truth_attribute=ground_truth_attribute,
                probability_attribute=probability_attribute,
                inference_attribute=inference_attribute,
                probability_threshold=probability_threshold,
                positive_label=positive_label,
            )
            result = suggest_model_quality_baseline(dataset, dataset_format, output, attributes)
            click.echo(f"model-quality baseline of {result.item_count} rows written to {output}")
            return
        from processing.monitoring.api import suggest_baseline as suggest
        from processing.monitoring.constraints import MonitoringConfig

        config = MonitoringConfig(
            comparison_method=comparison_method,
            comparison_threshold=comparison_threshold,
            categorical_drift_method=categorical_drift_method,
        )
        result = suggest(dataset, dataset_format, output, config)
    except MonitorInputError as e:
        raise InputProblem(str(e)) from None
    click.echo(f"baseline of {result.item_count} rows x {result.features} features written to {output}")


@group.command("run")
@click.option("--kind", type=click.Choice(KINDS), required=True)
@click.option("--baseline-constraints", required=True, help="constraints.json of the baseline (a file or s3://…).")
@click.option("--baseline-statistics", help="statistics.json of the baseline (data quality: needed for drift).")
@click.option("--dataset", help="The window as a dataset file or folder (or use --capture-uri).")
@click.option("--header/--no-header", default=True, show_default=True, help="CSV dataset: first row holds names.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="csv", show_default=True)
@click.option("--capture-uri", help="Data capture location (s3://… maps to $MLOPS_HOME/s3/…, or a folder).")
@click.option("--start", help="Window start, ISO-8601 (e.g. 2024-01-19T19:00:00Z), inclusive.")
@click.option("--end", help="Window end, ISO-8601, exclusive.")
@click.option("--ground-truth-uri", help="model-quality with captured data: ground-truth JSON Lines location.")
@click.option("--probability-attribute", help="model-quality: probability column (index for captured CSV output).")
@click.option("--ground-truth-attribute", help="model-quality with a dataset: the label column.")
@click.option("--inference-attribute", help="model-quality: predicted-label column.")
@click.option("--probability-threshold", type=float, default=0.5, show_default=True)
@click.option("--positive-label", help="model-quality: label value that counts as positive (default 1).")
@click.option("--output", required=True, type=click.Path(file_okay=False), help="Folder for the JSON files.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def run(
    kind: str,
    baseline_constraints: str,
    baseline_statistics: str | None,
    dataset: str | None,
    header: bool,
    fmt: str,
    capture_uri: str | None,
    start: str | None,
    end: str | None,
    ground_truth_uri: str | None,
    probability_attribute: str | None,
    ground_truth_attribute: str | None,
    inference_attribute: str | None,
    probability_threshold: float,
    positive_label: str | None,
    output: str,
    as_json: bool,
) -> None:
    """Check a window of data against a baseline, as a Model Monitor monitoring job.

    Exit code 0 also when violations are found (they are the job's result, in
    constraint_violations.json); 2 for bad input.
    """
    from processing.monitoring.checks.api import run_data_quality_check, run_model_quality_check
    from processing.monitoring.errors import MonitorInputError
    from processing.monitoring.readers import DatasetFormat
    from processing.monitoring.readers.capture import parse_time

    baseline_constraints, baseline_statistics = local_input(baseline_constraints), local_input(baseline_statistics)
    dataset, capture_uri, ground_truth_uri = (
        local_input(dataset),
        local_input(capture_uri),
        local_input(ground_truth_uri),
    )
    try:
        if (dataset is None) == (capture_uri is None):
            raise MonitorInputError("give --dataset or --capture-uri (with --start and --end)")
        if capture_uri is not None and not (start and end):
            raise MonitorInputError("--capture-uri needs --start and --end")
        window = {
            "dataset": dataset,
            "fmt": DatasetFormat(fmt, header),
            "capture_uri": capture_uri,
            "start": parse_time(start),
            "end": parse_time(end),
        }
        if kind == "data-quality":
            result = run_data_quality_check(
                baseline_constraints=baseline_constraints,
                baseline_statistics=baseline_statistics,
                output_dir=output,
                **window,
            )
        else:
            from processing.monitoring.model_quality import ModelQualityAttributes

            if dataset is not None and not ground_truth_attribute:
                raise MonitorInputError("--kind model-quality with --dataset needs --ground-truth-attribute")
            attributes = ModelQualityAttributes(
                ground_truth_attribute=ground_truth_attribute or "groundTruth",
                probability_attribute=probability_attribute,
                inference_attribute=inference_attribute,
                probability_threshold=probability_threshold,
                positive_label=positive_label,
            )
            result = run_model_quality_check(
                baseline_constraints=baseline_constraints,
                output_dir=output,
                attributes=attributes,
                ground_truth_uri=ground_truth_uri,
                **window,
            )
    except MonitorInputError as e:
        raise InputProblem(str(e)) from None
    for note in result.notes:
        click.echo(f"note: {note}", err=True)
    if as_json:
        click.echo(_result_json(result))
        return
    click.echo(result.message)
    for violation in result.violations:
        name = getattr(violation, "feature_name", None) or getattr(violation, "metric_name", "")
        click.echo(f"  {violation.constraint_check_type:<26} {name}: {violation.description}")
    if result.files:
        click.echo(f"files written to {output}")


def _result_json(result) -> str:
    import json

    return json.dumps(
        {
            "kind": result.kind,
            "status": result.status,
            "message": result.message,
            "item_count": result.item_count,
            "violations": [v.document() for v in result.violations],
            "metrics": result.metrics,
            "notes": result.notes,
            "files": [str(f) for f in result.files],
        },
        indent=2,
    )


def _attach_schedule_commands() -> None:
    """`schedule` and `report` live in their own module (the local scheduler and the HTML report)."""
    from pipelines.cli.monitor_schedules import report, schedule

    group.add_command(schedule)
    group.add_command(report)


_attach_schedule_commands()
