"""The model package to deploy and the drift-check baselines it carries.

"Latest approved" and the drift-check baseline keys are `processing.registry`'s (their one home);
this module turns their answers into the deploy's errors.
"""

from __future__ import annotations

from dataclasses import dataclass

from botocore.exceptions import ClientError

from pipelines.deploy.errors import DeployFailed, DeployInputError, client_error_text, error_code
from processing.registry import (
    APPROVED,
    DATA_QUALITY,
    DRIFT_CHECK_KEYS,
    MODEL_QUALITY,
    drift_check_baseline,
    latest_approved_package,
)


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
        arn = latest_approved_package(sagemaker, group)
    except ClientError as e:
        if error_code(e) in ("ValidationException", "ResourceNotFound"):
            raise DeployInputError(f"cannot list model packages of group {group!r}: {client_error_text(e)}") from e
        raise DeployFailed(f"ListModelPackages failed: {client_error_text(e)}") from e
    if arn is None:
        raise DeployInputError(
            f"model package group {group!r} has no approved model package; approve one "
            "(mlops registry approve, or the Model Registry) or pass --model-package"
        )
    return arn


def describe(sagemaker, arn: str) -> ModelPackage:
    """The package, checked: approved, with data-quality and model-quality drift-check baselines."""
    try:
        package = sagemaker.describe_model_package(ModelPackageName=arn)
    except ClientError as e:
        if error_code(e) in ("ValidationException", "ResourceNotFound"):
            raise DeployInputError(f"model package {arn!r} cannot be read: {client_error_text(e)}") from e
        raise DeployFailed(f"DescribeModelPackage failed: {client_error_text(e)}") from e
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
    data_quality = drift_check_baseline(package, DATA_QUALITY) or {}
    model_quality = drift_check_baseline(package, MODEL_QUALITY) or {}
    dq, mq = DRIFT_CHECK_KEYS[DATA_QUALITY], DRIFT_CHECK_KEYS[MODEL_QUALITY]
    wanted = {
        f"{dq}.Statistics": data_quality.get("statistics"),
        f"{dq}.Constraints": data_quality.get("constraints"),
        f"{mq}.Constraints": model_quality.get("constraints"),
    }
    missing = [name for name, uri in wanted.items() if not uri]
    if missing:
        raise DeployInputError(
            f"model package {package.get('ModelPackageArn')} has no drift-check baseline "
            f"{', '.join('DriftCheckBaselines.' + m for m in missing)}; register it with the build pipeline's "
            "baselines (DriftCheckBaselines) to monitor it"
        )
    return Baselines(
        data_quality_statistics=wanted[f"{dq}.Statistics"],
        data_quality_constraints=wanted[f"{dq}.Constraints"],
        model_quality_constraints=wanted[f"{mq}.Constraints"],
        model_quality_statistics=model_quality.get("statistics"),
    )
