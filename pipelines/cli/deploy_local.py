"""`mlops deploy --local`: the deploy workflow on this machine, end to end, from the command line.

It sets the package's group up for deployment (the state machine and the deploy target, so later approvals
deploy by themselves), starts an execution for the package, answers the production gate itself because the
user asked for this deploy on the command line (and says so), waits for the execution to end and prints
`Serving N at http://127.0.0.1:PORT`. The endpoints' hosts keep running in the background; `mlops endpoint
list / stop / delete` manage them. `mlops endpoint serve` stays the foreground single-host command.
"""

from __future__ import annotations

import click

from pipelines.cli import exit_codes

APPROVER = "mlops deploy --local"
APPROVAL_REASON = "the deploy was asked for on the command line"


def run_local(ctx: click.Context, **options) -> None:
    from offline.deploy import local
    from pipelines.deploy.errors import DeployFailed, DeployInputError

    try:
        settings, package = _resolve(options)
        home = _home()
        done = local.set_up(settings, home)
        click.echo(
            f"Deploy target: approvals of {settings.group} start {settings.state_machine_arn} "
            f"(state machine {done.action})"
        )
        execution = local.start(settings, package, home)
    except (DeployInputError, local.LocalDeployError) as e:
        click.echo(f"Error: {e}", err=True)
        raise SystemExit(exit_codes.USAGE) from None
    except DeployFailed as e:
        click.echo(f"Error: {e}", err=True)
        raise SystemExit(exit_codes.FAILURE) from None
    click.echo(f"Started deploy execution {execution}")
    click.echo(f"  model package {package}")
    try:
        gate = local.wait_for_gate(execution, home)
        if gate is not None:
            local.answer_gate(execution, True, APPROVER, APPROVAL_REASON, home)
            click.echo(
                f"Production gate approved by {APPROVER}: you asked for this deploy on the command line "
                f"(staging {settings.staging} passed its smoke test)"
            )
        described = local.wait_until_done(execution, home)
    except local.LocalDeployError as e:
        click.echo(f"Error: {e}", err=True)
        raise SystemExit(exit_codes.FAILURE) from None
    if described["status"] != "SUCCEEDED":
        click.echo(
            f"Error: deploy execution {execution} {described['status']}: {described.get('error')}: "
            f"{described.get('cause')}",
            err=True,
        )
        click.echo(f"  its states: mlops deploy describe {execution}", err=True)
        raise SystemExit(exit_codes.FAILURE)
    if gate is None:
        click.echo(f"Production already served this version: no gate was needed ({settings.production})")
    for name in (settings.production, settings.staging):
        url = local.serving_url(name, home)
        click.echo(f"Serving {name} at {url}" if name == settings.production else f"  staging {name} at {url}")
    monitor = settings.monitor
    click.echo(f"  captured data: {monitor.capture_destination}/{settings.production}/")
    click.echo(
        f"  monitoring: {', '.join(monitor.schedule(k) for k in ('data-quality', 'model-quality'))} "
        f"(run them: mlops monitor schedule --endpoint {settings.production})"
    )
    if settings.review is not None:
        click.echo(f"  human review: schedule {settings.review.schedule} (run it: mlops review start-loops)")


def _resolve(options: dict):
    """The workflow settings and the package (--model-package, else the group's latest approved), checked."""
    from offline.aws import local_session
    from offline.deploy.local import local_settings
    from pipelines.deploy.aws import DEFAULT_GROUP
    from pipelines.deploy.errors import DeployInputError
    from pipelines.deploy.names import bounded, validate_name
    from pipelines.deploy.registry import describe, latest_approved

    sagemaker = local_session().client("sagemaker")
    group = options["model_package_group"]
    arn = options["model_package"] or latest_approved(sagemaker, group or DEFAULT_GROUP)
    package = describe(sagemaker, arn)  # approved, with drift-check baselines (exit 2 otherwise)
    if not package.group:
        raise DeployInputError(f"model package {package.arn} belongs to no model package group; deploy a versioned one")
    if group and group.lower() != package.group.lower():
        raise DeployInputError(f"model package {package.arn} is of group {package.group}, not {group}")
    production = options["endpoint_name"]
    staging = options["staging_endpoint_name"]
    if production:
        validate_name(production, "endpoint name")
        staging = staging or bounded(production, "staging")
    percentage = options["capture_percentage"]
    if percentage != int(percentage):
        raise DeployInputError(f"--capture-percentage {percentage}: SageMaker samples whole percentages (0-100)")
    settings = local_settings(
        package.group,
        staging_endpoint=staging,
        production_endpoint=production,
        capture_destination=options["capture_destination"],
        sampling_percentage=int(percentage),
    )
    return settings, package.arn


def _home():
    from offline.home import mlops_home

    return mlops_home()
