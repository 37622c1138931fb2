"""`mlops deploy`: deploy an approved model package through the deploy workflow (a Step Functions state machine).

    mlops deploy --local [--model-package ARN] [--endpoint-name N]   offline: set the group up for deployment,
                                                                      run the workflow, answer its production gate
    mlops deploy --aws --role-arn ARN [--dry-run]                     the state machine, its roles and the
                                                                      EventBridge rule on approvals, in AWS
    mlops deploy definition                                           the state machine's JSON (offline)
    mlops deploy executions | describe EXECUTION                      follow the workflow's executions
    mlops deploy approve EXECUTION | reject EXECUTION --reason TEXT   answer an execution's production gate

`--local` and `--aws` stay options of `deploy` itself; the rest are its subcommands (pipelines/cli/deploy_workflow.py).
"""

from __future__ import annotations

import click

from pipelines.cli.deploy_aws import aws_options, check_targets, flags_of, given, run_aws, workflow_options
from pipelines.cli.deploy_workflow import SUBCOMMANDS
from pipelines.cli.endpoint import serve_options


@click.group("deploy", invoke_without_command=True, subcommand_metavar="[COMMAND]")
@click.option("--local", "target", flag_value="local", help="Run the deploy workflow on this machine.")
@click.option("--aws", "target", flag_value="aws", help="Set the deploy workflow up in your AWS account.")
@serve_options
@aws_options
@workflow_options
@click.pass_context
def command(ctx: click.Context, target: str | None, **options) -> None:
    """Deploy the latest approved model package (or --model-package ARN) through the deploy workflow:
    staging endpoint, smoke test, production gate, production endpoint, monitoring and human review."""
    if ctx.invoked_subcommand:
        stray = [name for name in ctx.params if given(ctx, name)]
        if stray:
            raise click.UsageError(
                f"{flags_of(ctx, stray)}: options of `mlops deploy` itself, not of `mlops deploy {ctx.invoked_subcommand}`"
            )
        return
    if target is None:
        raise click.UsageError(
            "choose where to deploy: --local or --aws (or a command: definition, executions, describe, approve, reject)"
        )
    check_targets(ctx, target)
    if target == "aws":
        run_aws(ctx, **options)
        return
    from pipelines.cli.deploy_local import run_local

    run_local(ctx, **options)


for _subcommand in SUBCOMMANDS:
    command.add_command(_subcommand)
