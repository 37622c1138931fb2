"""`mlops teardown --aws --project NAME | --local`: remove what a project created (docs/projects-template.md)."""

from __future__ import annotations

import json

import click

from pipelines.cli import exit_codes


@click.command("teardown")
@click.option("--aws", "target", flag_value="aws", help="A project's AWS resources, stack and (asked first) data.")
@click.option("--local", "target", flag_value="local", help="Stop the local home's processes and clear it.")
@click.option("--project", metavar="NAME", help="--aws: the SageMaker project's name (or --project-name of a deploy).")
@click.option("--project-id", metavar="ID", help="--aws: only resources tagged with this project id too.")
@click.option("--region", metavar="REGION", help="--aws: default: the AWS configuration's.")
@click.option("--dry-run", is_flag=True, help="--aws: list what would be deleted; deletions are validated, none sent.")
@click.option("--yes", is_flag=True, help="--aws: delete the data buckets, registry and keys without asking.")
@click.option("--no-wait", is_flag=True, help="--aws: do not wait for the stacks to go (data is then kept).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_context
def command(ctx: click.Context, target: str | None, **options) -> None:
    """Remove what the template and the deploy workflow created (--aws), or a local home (--local)."""
    if target is None:
        raise click.UsageError("choose what to tear down: --aws --project NAME, or --local")
    aws_only = [o for o in ("project", "project_id", "region", "dry_run", "yes", "no_wait") if options[o]]
    if target == "local":
        if aws_only:
            raise click.UsageError(f"{', '.join('--' + o.replace('_', '-') for o in aws_only)}: only with --aws")
        _local(options["as_json"])
        return
    if not options["project"]:
        raise click.UsageError("--aws needs --project NAME")
    _aws(**options)


def _local(as_json: bool) -> None:
    from pipelines.teardown.local import LocalTeardownError, local_home, teardown_local

    home = local_home()
    try:
        report = teardown_local(home)
    except LocalTeardownError as e:
        click.echo(f"Error: {e}", err=True)
        raise SystemExit(exit_codes.USAGE) from None
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2))
        return
    for process in report.stopped:
        click.echo(f"stopped pid {process['pid']} ({process['how']}): {process['what']}")
    click.echo(f"{home}: {report.detail}")


def _aws(
    project: str, project_id: str | None, region: str | None, dry_run: bool, yes: bool, no_wait: bool, as_json: bool
) -> None:
    import boto3
    from botocore.exceptions import BotoCoreError, NoCredentialsError

    from pipelines.cli.template import resolve_region
    from pipelines.teardown.aws import TeardownClients, Waits, dry_run_answer, teardown
    from pipelines.teardown.inventory import TeardownFailed, find

    region = resolve_region(region)
    session = boto3.Session(region_name=region)
    clients = TeardownClients.from_session(session)
    recorder = None
    if dry_run:
        from pipelines.template.dry_run import Recorder

        recorder = Recorder(region, dry_run_answer)
        for client in clients.all():
            recorder.attach(client)
    try:
        inventory = find(clients, project, project_id)
        report = teardown(clients, inventory, _confirm(yes, as_json), Waits(enabled=not no_wait), dry_run)
    except NoCredentialsError:
        click.echo(
            "Error: no AWS credentials: teardown (even --dry-run) reads the account to find the project", err=True
        )
        raise SystemExit(exit_codes.USAGE) from None
    except TeardownFailed as e:
        click.echo(f"Error: {e}", err=True)
        raise SystemExit(exit_codes.FAILURE) from None
    except BotoCoreError as e:
        click.echo(f"Error: {e}", err=True)
        raise SystemExit(exit_codes.FAILURE) from None
    document = {"inventory": inventory.as_dict(), **report.as_dict()}
    if recorder is not None:
        document["requests_not_sent"] = [r for r in recorder.requests if not r["sent"]]
    if as_json:
        click.echo(json.dumps(document, indent=2, default=str))
        return
    if not inventory.resources and not inventory.stacks and not inventory.sagemaker_project:
        click.echo(f"Nothing of project {project} in {region}.")
        return
    for step in report.steps:
        detail = f" ({step['detail']})" if step["detail"] else ""
        click.echo(f"{step['action']}: {step['kind']} {step['name']}{detail}")
    for resource in inventory.owned_by_stacks():
        click.echo(
            f"{'would go' if dry_run else 'goes'} with its stack {resource.stack}: {resource.kind} {resource.name}"
        )
    if recorder is not None:
        click.echo(f"Dry run: {len(document['requests_not_sent'])} requests validated and not sent.")


def _confirm(yes: bool, as_json: bool):
    def confirm(data) -> bool:
        if yes:
            return True
        lines = "\n".join(f"  {r.kind} {r.name}" for r in data)
        try:
            return click.confirm(
                f"Delete the project's data too? This cannot be undone:\n{lines}\n", default=False, err=as_json
            )
        except click.Abort:  # no answer (end of input): keep the data
            return False

    return confirm
