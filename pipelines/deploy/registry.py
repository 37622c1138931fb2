"""The model package to deploy and the drift-check baselines it carries.

"Latest approved" is ListModelPackages with `ModelApprovalStatus="Approved"`, `SortBy="CreationTime"`
and `SortOrder="Descending"`: the API's default order is ascending, so the first entry without it is
the *oldest* approved package (the trap in AWS's own deploy seed code).
"""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.deploy.errors import DeployFailed, DeployInputError, client_error_text, error_code

APPROVED = "Approved"


@dataclass(frozen=True)
class Baselines:
    data_quality_statistics: str
    data_quality_constraints: str
    model_quality_constraints: str
    model_quality_statistics: str | None = None


@dataclass(frozen=True)
class ModelPackage:
    arn: str
    group: str | None
    approval_status: str
    baselines: Baselines
    model_data_url: str | None = None
    image: str | None = None


def latest_approved(sagemaker, group: str) -> str:
    """The ARN of the group's newest approved package; DeployInputError when it has none."""
    try:
        response = sagemaker.list_model_packages(
            ModelPackageGroupName=group,
            ModelApprovalStatus=APPROVED,
            SortBy="CreationTime",
            SortOrder="Descending",
            MaxResults=1,
        )
    except Exception as e:
        if error_code(e) in ("ValidationException", "ResourceNotFound"):
            raise DeployInputError(f"cannot list model packages of group {group!r}: {client_error_text(e)}") from None
        raise DeployFailed(f"ListModelPackages failed: {client_error_text(e)}") from None
    summaries = response.get("ModelPackageSummaryList", [])
    if not summaries:
        raise DeployInputError(
            f"model package group {group!r} has no approved model package; approve one "
            "(mlops registry approve, or the Model Registry) or pass --model-package"
        )
    return summaries[0]["ModelPackageArn"]


def describe(sagemaker, arn: str) -> ModelPackage:
    """The package, checked: approved, with data-quality and model-quality drift-check baselines."""
    try:
        package = sagemaker.describe_model_package(ModelPackageName=arn)
    except Exception as e:
        if error_code(e) in ("ValidationException", "ResourceNotFound"):
            raise DeployInputError(f"model package {arn!r} cannot be read: {client_error_text(e)}") from None
        raise DeployFailed(f"DescribeModelPackage failed: {client_error_text(e)}") from None
    status = package.get("ModelApprovalStatus", "")
    if status != APPROVED:
        raise DeployInputError(f"model package {arn} is {status or 'not approved'}; only Approved packages deploy")
    containers = package.get("InferenceSpecification", {}).get("Containers", [])
    return ModelPackage(
        arn=package.get("ModelPackageArn", arn),
        group=package.get("ModelPackageGroupName"),
        approval_status=status,
        baselines=drift_check_baselines(package),
        model_data_url=containers[0].get("ModelDataUrl") if containers else None,
        image=containers[0].get("Image") if containers else None,
    )


def drift_check_baselines(package: dict) -> Baselines:
    """DriftCheckBaselines.ModelDataQuality.{Statistics,Constraints} and ModelQuality.Constraints."""
    drift = package.get("DriftCheckBaselines") or {}
    wanted = {
        "ModelDataQuality.Statistics": drift.get("ModelDataQuality", {}).get("Statistics", {}).get("S3Uri"),
        "ModelDataQuality.Constraints": drift.get("ModelDataQuality", {}).get("Constraints", {}).get("S3Uri"),
        "ModelQuality.Constraints": drift.get("ModelQuality", {}).get("Constraints", {}).get("S3Uri"),
    }
    missing = [name for name, uri in wanted.items() if not uri]
    if missing:
        raise DeployInputError(
            f"model package {package.get('ModelPackageArn')} has no drift-check baseline "
            f"{', '.join('DriftCheckBaselines.' + m for m in missing)}; register it with the build pipeline's "
            "baselines (DriftCheckBaselines) to monitor it"
        )
    return Baselines(
        data_quality_statistics=wanted["ModelDataQuality.Statistics"],
        data_quality_constraints=wanted["ModelDataQuality.Constraints"],
        model_quality_constraints=wanted["ModelQuality.Constraints"],
        model_quality_statistics=drift.get("ModelQuality", {}).get("Statistics", {}).get("S3Uri"),
    )
