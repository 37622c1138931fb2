"""`mlops monitor …`: this project's Model Monitor engine on the command line.

Thin wrappers over processing.monitoring (imported lazily so `mlops --help` stays fast). Bad input
exits with code 2 and a message naming the problem, and leaves the output folder untouched.
"""

from __future__ import annotations

import click

from pipelines.cli import exit_codes

KINDS = ("data-quality", "model-quality")
FORMATS = ("csv", "json", "parquet")


class InputProblem(click.ClickException):
    """Bad input: printed as `Error: …`, exit code 2."""

    exit_code = exit_codes.USAGE


@click.group("monitor")
def group() -> None:
    """Baselines and checks in Model Monitor's formats (statistics, constraints, violations)."""


@group.command("suggest-baseline")
@click.option("--dataset", required=True, help="CSV, JSON Lines or Parquet file (or a folder of them).")
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
