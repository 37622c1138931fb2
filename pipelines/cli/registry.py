"""`mlops registry list|approve|reject`: the local model registry, through the same boto3 `sagemaker`
calls user code makes (a client from `local_session()`), so the CLI exercises the wire path it shows."""

from __future__ import annotations

import json
import re
import sys
from datetime import datetime, timezone

import click

from pipelines.cli import exit_codes
from processing.registry import APPROVAL_STATUSES

STATUSES = APPROVAL_STATUSES
_SHORT_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}/[0-9]{1,9}$")
_PACKAGE_ARN = re.compile(r"^arn:aws[a-z\-]*:sagemaker:[a-z0-9\-]+:[0-9]{12}:model-package/.+$")


@click.group("registry")
def group() -> None:
    """List, approve and reject model packages in the local model registry."""


@group.command("list")
@click.option("--group", "group_name", help="Only this model package group (name or ARN).")
@click.option(
    "--status",
    type=click.Choice(STATUSES, case_sensitive=False),
    help="Only packages with this approval status.",
)
@click.option("--oldest-first", is_flag=True, help="Ascending creation time (default: newest first).")
@click.option("--limit", type=click.IntRange(1, 10_000), default=None, help="Show at most this many packages.")
@click.option("--json", "as_json", is_flag=True, help="Print the package summaries as JSON.")
def list_packages(group_name: str | None, status: str | None, oldest_first: bool, limit: int | None, as_json: bool):
    """Registered model packages, newest first."""
    sm = _client()
    if group_name:
        _call(sm.describe_model_package_group, ModelPackageGroupName=group_name)  # a clear error if unknown
    request: dict = {"SortBy": "CreationTime", "SortOrder": "Ascending" if oldest_first else "Descending"}
    request.update({"ModelPackageGroupName": group_name} if group_name else {"ModelPackageType": "Both"})
    if status:
        request["ModelApprovalStatus"] = _canonical_status(status)
    pages = sm.get_paginator("list_model_packages").paginate(**request)
    packages = [p for page in _call(lambda: list(pages)) for p in page["ModelPackageSummaryList"]][:limit]
    if as_json:
        click.echo(json.dumps(packages, indent=2, default=_iso))
        return
    if not packages:
        click.echo(
            "no model packages"
            + (f" in {group_name}" if group_name else "")
            + (f" with status {status}" if status else "")
        )
        return
    click.echo(f"{'PACKAGE':<40}{'APPROVAL':<23}{'CREATED':<27}DESCRIPTION")
    for p in packages:
        click.echo(
            f"{_short_name(p):<40}{p.get('ModelApprovalStatus', '-'):<23}{_iso(p['CreationTime']):<27}"
            f"{(p.get('ModelPackageDescription') or '')[:60]}"
        )


@group.command("approve")
@click.argument("package")
@click.option("--description", "-d", default=None, help="ApprovalDescription to record.")
def approve(package: str, description: str | None) -> None:
    """Approve PACKAGE (an ARN or GROUP/VERSION) for deployment."""
    _set_status(package, "Approved", description)


@group.command("reject")
@click.argument("package")
@click.option("--description", "-d", default=None, help="ApprovalDescription to record.")
def reject(package: str, description: str | None) -> None:
    """Reject PACKAGE (an ARN or GROUP/VERSION)."""
    _set_status(package, "Rejected", description)


def _set_status(package: str, status: str, description: str | None) -> None:
    if not (_SHORT_NAME.match(package) or _PACKAGE_ARN.match(package)):
        raise click.BadParameter(
            f"{package!r} is neither a model package ARN nor GROUP/VERSION (e.g. BreastCancerModels/3)",
            param_hint="PACKAGE",
        )
    sm = _client()
    started_after = datetime.now(timezone.utc).replace(microsecond=0)
    before = _call(sm.describe_model_package, ModelPackageName=package)
    request = {"ModelPackageArn": before["ModelPackageArn"], "ModelApprovalStatus": status}
    if description is not None:
        request["ApprovalDescription"] = description
    arn = _call(sm.update_model_package, **request)["ModelPackageArn"]
    previous = before.get("ModelApprovalStatus", "-")
    click.echo(f"{status} {_short_name(before)} ({arn}); was {previous}")
    if status == "Approved" and previous != "Approved":
        for execution in _deploys_started(arn, started_after):
            click.echo(f"The approval started deploy execution {execution} (mlops deploy describe {execution})")


def _deploys_started(package_arn: str, since: datetime) -> list[str]:
    """Deploy executions of `package_arn` started from `since` on: a group set up for deployment starts one when
    a package is approved (offline.deploy.trigger), and saying so spares the user a `mlops deploy executions`."""
    from offline.aws import local_session

    sfn = local_session().client("stepfunctions")
    found = []
    machines = [m for page in sfn.get_paginator("list_state_machines").paginate() for m in page["stateMachines"]]
    executions = sfn.get_paginator("list_executions")
    for machine in machines:
        for page in executions.paginate(stateMachineArn=machine["stateMachineArn"]):
            for execution in page["executions"]:
                if execution["startDate"] < since:
                    continue
                described = sfn.describe_execution(executionArn=execution["executionArn"])
                if package_arn in described.get("input", ""):
                    found.append(execution["executionArn"])
    return found


def _client():
    from offline.aws import local_session

    return local_session().client("sagemaker")


def _call(func, *args, **kwargs):
    """Run a boto3 call; a client error becomes a message on stderr and exit 2 (bad input) or 1."""
    from botocore.exceptions import ClientError

    try:
        return func(*args, **kwargs)
    except ClientError as e:
        err = e.response["Error"]
        click.echo(f"error: {err.get('Message') or err.get('Code')}", err=True)
        bad_input = err.get("Code") in ("ValidationException", "ResourceNotFound")
        sys.exit(exit_codes.USAGE if bad_input else exit_codes.FAILURE)


def _canonical_status(status: str) -> str:
    return next(s for s in STATUSES if s.lower() == status.lower())


def _short_name(package: dict) -> str:
    if package.get("ModelPackageVersion") is not None:
        return f"{package['ModelPackageGroupName']}/{package['ModelPackageVersion']}"
    return package.get("ModelPackageName") or package["ModelPackageArn"].rsplit("/", 1)[-1]


def _iso(value) -> str:
    return value.isoformat(timespec="seconds") if hasattr(value, "isoformat") else str(value)
