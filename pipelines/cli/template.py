"""`mlops template package / register`: the SageMaker Projects template (docs/projects-template.md)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import click

from pipelines.cli import exit_codes


@click.group("template")
def group() -> None:
    """The SageMaker Projects product template: package it, register it in Service Catalog."""


def resolve_region(region: str | None) -> str:
    """--region, else the AWS configuration's (AWS_REGION / AWS_DEFAULT_REGION / config file), else exit 2."""
    region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if not region:
        import boto3

        region = boto3.Session().region_name
    if not region:
        click.echo("Error: no region: pass --region or set AWS_DEFAULT_REGION", err=True)
        raise SystemExit(exit_codes.USAGE)
    from botocore.session import get_session

    known = (
        set(get_session().get_available_regions("sagemaker"))
        | set(get_session().get_available_regions("sagemaker", "aws-cn"))
        | set(get_session().get_available_regions("sagemaker", "aws-us-gov"))
    )
    if region not in known:
        click.echo(f"Error: {region!r} is not a region SageMaker is in", err=True)
        raise SystemExit(exit_codes.USAGE)
    return region


@group.command("package")
@click.option(
    "--output",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write product.yaml, launch-role.yaml, portal.yaml and seed-code.zip into (created if missing).",
)
@click.option("--region", metavar="REGION", help="The region the templates are for. Default: the AWS configuration's.")
@click.option("--json", "as_json", is_flag=True, help="Print what was written as JSON.")
def package_command(output: Path, region: str | None, as_json: bool) -> None:
    """Write the CloudFormation templates (the deploy state machine embedded) and seed-code.zip. Offline."""
    from pipelines.template.package import package
    from pipelines.template.product import PackageError
    from pipelines.template.seed_code import SeedCodeError

    region = resolve_region(region)
    if output.exists() and not output.is_dir():
        click.echo(f"Error: --output {output} is not a folder", err=True)
        raise SystemExit(exit_codes.USAGE)
    try:
        result = package(output, region)
    except (PackageError, SeedCodeError) as e:
        click.echo(f"Error: {e}", err=True)
        raise SystemExit(exit_codes.FAILURE) from None
    except OSError as e:
        click.echo(f"Error: cannot write into {output}: {e.strerror or e}", err=True)
        raise SystemExit(exit_codes.USAGE) from None
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=2))
        return
    click.echo(f"Packaged for {region} into {result.folder}:")
    for name, digest in result.files.items():
        click.echo(f"  {name}  sha256:{digest[:16]}")


@group.command("register")
@click.option("--region", metavar="REGION", help="Default: the AWS configuration's.")
@click.option(
    "--launch-role-arn",
    metavar="ARN",
    help="The role Service Catalog launches the product with. Default: templates/launch-role.yaml's "
    "(arn:aws:iam::<account>:role/service-role/mlops-sagemaker-project-launch).",
)
@click.option(
    "--principal-arn",
    "principal_arns",
    multiple=True,
    metavar="ARN",
    help="A role that may create projects from the template (your Studio users' execution role). Repeatable.",
)
@click.option(
    "--bucket", metavar="NAME", help="Template bucket. Default: sagemaker-mlops-templates-<region>-<account>."
)
@click.option(
    "--portfolio-name", metavar="NAME", help="Default: 'MLOps templates with drift monitoring and human review'."
)
@click.option(
    "--product-name", metavar="NAME", help="Default: 'MLOps template with drift monitoring and human review'."
)
@click.option("--dry-run", is_flag=True, help="Print every request (validated by botocore), send none. Offline.")
@click.option("--json", "as_json", is_flag=True, help="Print the result (or the plan) as JSON.")
def register_command(
    region: str | None,
    launch_role_arn: str | None,
    principal_arns: tuple[str, ...],
    bucket: str | None,
    portfolio_name: str | None,
    product_name: str | None,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Create (or update) the Service Catalog portfolio and Studio-visible product of the template."""
    from pipelines.template.register import RegisterError, RegisterFailed

    region = resolve_region(region)
    names = {
        k: v for k, v in (("portfolio_name", portfolio_name), ("product_name", product_name), ("bucket", bucket)) if v
    }
    try:
        product_yaml, seed = _packaged(region)
        if dry_run:
            _print_plan(region, product_yaml, seed, launch_role_arn, principal_arns, names, as_json)
            return
        report = _register(region, product_yaml, seed, launch_role_arn, principal_arns, names)
    except RegisterError as e:
        click.echo(f"Error: {e}", err=True)
        raise SystemExit(exit_codes.USAGE) from None
    except RegisterFailed as e:
        click.echo(f"Error: {e}", err=True)
        raise SystemExit(exit_codes.FAILURE) from None
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2))
        return
    click.echo(f"Registered {report.version} as product {report.product_id} in portfolio {report.portfolio_id}")
    for what, name, action in report.changes:
        click.echo(f"  {what} {name}: {action}")


def _packaged(region: str) -> tuple[str, bytes]:
    from pipelines.template.package import PRODUCT, SEED_CODE, package
    from pipelines.template.product import PackageError
    from pipelines.template.register import RegisterFailed
    from pipelines.template.seed_code import SeedCodeError

    with tempfile.TemporaryDirectory(prefix="mlops-template-") as folder:
        try:
            result = package(Path(folder), region)
        except (PackageError, SeedCodeError) as e:
            raise RegisterFailed(str(e)) from e
        return result.path(PRODUCT).read_text(encoding="utf-8"), result.path(SEED_CODE).read_bytes()


def _print_plan(region, product_yaml, seed, launch_role_arn, principal_arns, names, as_json) -> None:
    from pipelines.template.register_plan import plan

    document = plan(region, product_yaml, seed, launch_role_arn, principal_arns, **names)
    if as_json:
        click.echo(json.dumps(document, indent=2))
        return
    click.echo(f"Dry run in {region}: {len(document['requests'])} requests, validated by botocore, none sent.")
    for assumption in document["assumptions"]:
        click.echo(f"  assumes: {assumption}")
    for request in document["requests"]:
        click.echo(f"{request['service']} {request['operation']} {json.dumps(request['params'], sort_keys=True)}")


def _register(region, product_yaml, seed, launch_role_arn, principal_arns, names):
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    from pipelines.template.register import LAUNCH_ROLE_NAME, RegisterError, RegisterFailed, RegisterSettings, register

    if not principal_arns:
        raise RegisterError(
            "--principal-arn: name at least one role that may create projects (your Studio users' execution role)"
        )
    session = boto3.Session(region_name=region)
    try:
        account = session.client("sts").get_caller_identity()["Account"]
    except NoCredentialsError as e:
        raise RegisterError("no AWS credentials: configure them, or use --dry-run") from e
    except (ClientError, BotoCoreError) as e:
        raise RegisterFailed(f"GetCallerIdentity failed: {e}") from e
    settings = RegisterSettings(
        region=region,
        account=account,
        launch_role_arn=launch_role_arn or f"arn:aws:iam::{account}:role/{LAUNCH_ROLE_NAME}",
        principal_arns=principal_arns,
        **names,
    )
    return register(session.client("s3"), session.client("servicecatalog"), settings, product_yaml, seed)
