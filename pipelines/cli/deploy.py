"""`mlops deploy --local | --aws`: deploy the latest approved model package.

`--local` serves it on this machine exactly as `mlops endpoint serve` does (same options). `--aws`
deploys it to a SageMaker endpoint with data capture and monitoring (pipelines/cli/deploy_aws.py).
"""

from __future__ import annotations

import click

from pipelines.cli.deploy_aws import aws_options, check_targets, run_aws
from pipelines.cli.endpoint import run_serve, serve_options


@click.command("deploy")
@click.option("--local", "target", flag_value="local", help="Serve on 127.0.0.1 with data capture.")
@click.option("--aws", "target", flag_value="aws", help="Run the deploy workflow in your AWS account.")
@serve_options
@aws_options
@click.pass_context
def command(ctx: click.Context, target: str | None, **options) -> None:
    """Deploy the latest approved model package (or --model-package ARN) locally or to AWS."""
    if target is None:
        raise click.UsageError("choose where to deploy: --local or --aws")
    check_targets(ctx, target)
    if target == "aws":
        run_aws(ctx, **options)
        return
    run_serve(**options)
