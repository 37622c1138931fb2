"""`mlops deploy --local | --aws`: deploy the latest approved model package.

`--local` serves it on this machine exactly as `mlops endpoint serve` does (same options). `--aws` will
run the deploy workflow against an AWS account; it is not part of this milestone yet.
"""

from __future__ import annotations

import click

from pipelines.cli import exit_codes
from pipelines.cli.endpoint import run_serve, serve_options


@click.command("deploy")
@click.option("--local", "target", flag_value="local", help="Serve on 127.0.0.1 with data capture.")
@click.option("--aws", "target", flag_value="aws", help="Run the deploy workflow in your AWS account.")
@serve_options
def command(target: str | None, **options) -> None:
    """Deploy the latest approved model package (or --model-package ARN) locally or to AWS."""
    if target is None:
        raise click.UsageError("choose where to deploy: --local or --aws")
    if target == "aws":
        click.echo("Error: deploy --aws is not available yet; use --local", err=True)
        raise SystemExit(exit_codes.USAGE)
    run_serve(**options)
