"""`mlops deploy --aws` (without --direct): set the deploy workflow up in the account, start a deploy, and say
how to follow it and answer its production gate (pipelines/deploy/workflow/aws_setup.py does the work).

`--dry-run` runs the same setup against clients that validate every request with botocore and send none,
and prints the plan: the requests, what their answers assumed, the definition and the IAM documents."""

from __future__ import annotations

import json

import click

from pipelines.cli.deploy_aws import DRY_RUN_ROLE, aws_session, deploy_settings


def run_workflow_setup(ctx: click.Context, options: dict) -> None:
    """DeployInputError / DeployFailed propagate to run_aws, which turns them into exits 2 / 1."""
    from pipelines.deploy.workflow.aws_setup import SERVICES, SetupClients, set_up

    if options["dry_run"]:
        import boto3

        from pipelines.deploy.dry_run import DRY_RUN_ACCOUNT, DryRun
        from pipelines.deploy.errors import DeployInputError

        region = options["region"] or boto3.Session().region_name
        if not region:
            raise DeployInputError("no AWS region: pass --region (a dry run needs to know the region's image URIs)")
        role = options["role_arn"] or DRY_RUN_ROLE.format(account=DRY_RUN_ACCOUNT)
        settings = deploy_settings(ctx, options, region, role)
        run = DryRun(region, settings.review.workteam_account if settings.review else DRY_RUN_ACCOUNT)
        if not options["role_arn"]:
            run.assumptions.append(f"the execution role is {role} (no --role-arn given)")
        clients = SetupClients(*(run.client(name) for name in SERVICES))
        report = _set_up(set_up, clients, settings, options, {"Delay": 0, "MaxAttempts": 1})
        from pipelines.deploy.workflow.definition import definition

        plan = {
            "dry_run": True,
            "requests": run.requests,
            "assumptions": run.assumptions,
            "result": report.as_dict(),
            "definition": definition(report.settings),
            "iam_policies": report.iam_policies(),
        }
        click.echo(json.dumps(plan, indent=2, default=str))
        return
    session = aws_session(options)
    settings = deploy_settings(ctx, options, session.region_name, options["role_arn"])
    report = _set_up(set_up, SetupClients.from_session(session), settings, options, None)
    if options["as_json"]:
        click.echo(json.dumps(report.as_dict(), indent=2))
        return
    click.echo(f"Deploy workflow {report.state_machine_arn}")
    for change in report.changes:
        click.echo(f"  {change}")
    click.echo(
        f"approvals of {report.settings.group} start it; the production gate notifies {report.settings.topic_arn}"
    )
    if report.execution_arn:
        click.echo(f"started {report.execution_arn} for {report.package_arn}")
        click.echo(
            f"  staging {report.settings.staging}, then the production gate: mlops deploy approve --aws "
            f"{report.execution_arn} (or reject ... --reason TEXT); follow it with mlops deploy describe --aws "
            f"{report.execution_arn}"
        )
    elif not options["no_start"]:
        click.echo(f"no approved package in {report.settings.group} yet: the next approval starts the first deploy")


def _set_up(set_up, clients, settings, options: dict, role_wait: dict | None):
    return set_up(
        clients,
        settings,
        staging_endpoint=options["staging_endpoint_name"],
        production_endpoint=options["endpoint_name"],
        approval_topic_arn=options["approval_topic_arn"],
        workflow_role_arn=options["workflow_role_arn"],
        events_role_arn=options["events_role_arn"],
        start=not options["no_start"],
        role_wait=role_wait,
    )
