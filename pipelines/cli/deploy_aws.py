"""`mlops deploy --aws`: the options and the run of the AWS deploy (pipelines/deploy).

Kept apart from `deploy --local`'s serve options: the two share `--model-package`,
`--model-package-group`, `--endpoint-name` and `--capture-destination`; every other option belongs
to one target and is refused with the other.
"""

from __future__ import annotations

import json

import click

from pipelines.cli import exit_codes

ENGINES = ("managed", "processing")
LOCAL_ONLY = (
    "model_data",
    "port",
    "workers",
    "header_timeout",
    "capture_percentage",
    "capture_mode",
    "csv_types",
    "json_types",
    "no_capture",
)
AWS_ONLY = (
    "monitor_engine",
    "region",
    "role_arn",
    "scheduler_role_arn",
    "report_destination",
    "ground_truth",
    "stage",
    "instance_type",
    "project_name",
    "project_id",
    "kms_key_id",
    "no_wait",
    "dry_run",
    "as_json",
)
DRY_RUN_ROLE = "arn:aws:iam::000000000000:role/mlops-execution-role"


def aws_options(command):
    """The options only `--aws` takes."""
    options = [
        click.option(
            "--monitor-engine",
            type=click.Choice(ENGINES),
            default=None,
            help="managed: Model Monitor schedules; processing: this project's analyzer as scheduled "
            "Processing jobs (works without Model Monitor). Default: processing.",
        ),
        click.option("--region", metavar="REGION", help="Default: the AWS configuration's region."),
        click.option("--role-arn", metavar="ARN", help="Execution role of the model and the monitoring jobs."),
        click.option(
            "--scheduler-role-arn",
            metavar="ARN",
            help="processing engine: the role Scheduler assumes. Default: --role-arn.",
        ),
        click.option(
            "--report-destination",
            metavar="S3URI",
            help="Default: s3://sagemaker-<region>-<account>/monitoring/reports.",
        ),
        click.option(
            "--ground-truth",
            metavar="S3URI",
            help="Default: s3://sagemaker-<region>-<account>/ground-truth/<endpoint>.",
        ),
        click.option("--stage", default="staging", show_default=True, help="Deployment stage (names and tags)."),
        click.option("--instance-type", default="ml.m5.large", show_default=True),
        click.option("--project-name", metavar="NAME", help="SageMaker project name (tags, default endpoint name)."),
        click.option("--project-id", metavar="ID", help="SageMaker project id (tags)."),
        click.option("--kms-key-id", metavar="KEY", help="KMS key for captured data."),
        click.option("--no-wait", is_flag=True, help="Do not wait for the endpoint to be InService."),
        click.option("--dry-run", is_flag=True, help="Print every request (validated by botocore), send none."),
        click.option("--json", "as_json", is_flag=True, help="Print the result as JSON."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def check_targets(ctx: click.Context, target: str) -> None:
    """Options given for the other target are a usage error, not silently ignored."""
    wrong = LOCAL_ONLY if target == "aws" else AWS_ONLY
    given = [name for name in wrong if _given(ctx, name)]
    if given:
        flags = ", ".join("--" + name.replace("_", "-") for name in given)
        raise click.UsageError(f"{flags}: only for {'--local' if target == 'aws' else '--aws'}")


def run_aws(ctx: click.Context, **options) -> None:
    """Deploy to AWS (or print the plan with --dry-run); exit 2 on bad input, 1 when AWS fails."""
    from pipelines.deploy.errors import DeployFailed, DeployInputError

    try:
        if options["dry_run"]:
            _dry_run(ctx, options)
            return
        clients, settings = _real(ctx, options)
        from pipelines.deploy.aws import deploy

        report = deploy(clients, settings)
    except DeployInputError as e:
        click.echo(f"Error: {e}", err=True)
        raise SystemExit(exit_codes.USAGE) from None
    except DeployFailed as e:
        click.echo(f"Error: {e}", err=True)
        raise SystemExit(exit_codes.FAILURE) from None
    if options["as_json"]:
        click.echo(json.dumps(report.as_dict(), indent=2))
        return
    click.echo(
        f"Deployed {report.model_package_arn} to endpoint {report.endpoint_name} ({report.monitor_engine} monitoring)"
    )
    for change in report.changes:
        click.echo(f"  {change}")
    click.echo(f"captured data: {report.capture_uri}")
    for kind, uri in report.report_uris.items():
        click.echo(f"{kind} reports: {uri}/yyyy/mm/dd/hh/")


def _settings(ctx: click.Context, options: dict, region: str, role_arn: str):
    from pipelines.deploy.aws import DEFAULT_GROUP, DeploySettings

    return DeploySettings(
        role_arn=role_arn,
        region=region,
        monitor_engine=options["monitor_engine"] or "processing",
        model_package_arn=options["model_package"],
        model_package_group=options["model_package_group"] or DEFAULT_GROUP,
        endpoint_name=options["endpoint_name"],
        stage=options["stage"],
        capture_destination=options["capture_destination"] if _given(ctx, "capture_destination") else None,
        report_destination=options["report_destination"],
        ground_truth=options["ground_truth"],
        scheduler_role_arn=options["scheduler_role_arn"],
        kms_key_id=options["kms_key_id"],
        instance_type=options["instance_type"],
        project_name=options["project_name"],
        project_id=options["project_id"],
        wait=not options["no_wait"] and not options["dry_run"],
    )


def _real(ctx: click.Context, options: dict):
    import boto3

    from pipelines.deploy.aws import AwsClients
    from pipelines.deploy.errors import DeployInputError

    session = boto3.Session(region_name=options["region"]) if options["region"] else boto3.Session()
    if not session.region_name:
        raise DeployInputError("no AWS region: pass --region or configure one (AWS_REGION, ~/.aws/config)")
    if session.get_credentials() is None:
        raise DeployInputError("no AWS credentials found; configure them, or use --dry-run to see the requests")
    if not options["role_arn"]:
        raise DeployInputError("--role-arn is required: the execution role of the model and the monitoring jobs")
    return AwsClients.from_session(session), _settings(ctx, options, session.region_name, options["role_arn"])


def _dry_run(ctx: click.Context, options: dict) -> None:
    import boto3

    from pipelines.deploy.aws import deploy
    from pipelines.deploy.dry_run import DryRun, engine_switch_plan
    from pipelines.deploy.errors import DeployInputError

    region = options["region"] or boto3.Session().region_name
    if not region:
        raise DeployInputError("no AWS region: pass --region (a dry run needs to know the region's image URIs)")
    run = DryRun(region)
    role = options["role_arn"] or DRY_RUN_ROLE
    if not options["role_arn"]:
        run.assumptions.append(f"the execution role is {DRY_RUN_ROLE} (no --role-arn given)")
    settings = _settings(ctx, options, region, role)
    report = deploy(run.clients(), settings)
    plan = {
        "dry_run": True,
        "requests": run.requests,
        "assumptions": run.assumptions,
        "result": report.as_dict(),
        "engine_switch": engine_switch_plan(region, settings, report.policy_inputs.spec),
        "iam_policies": report.iam_policies(),
    }
    click.echo(json.dumps(plan, indent=2))


def _given(ctx: click.Context, name: str) -> bool:
    from click.core import ParameterSource

    source = ctx.get_parameter_source(name)
    return source not in (None, ParameterSource.DEFAULT)
