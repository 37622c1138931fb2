"""Which model to serve: a registered model package (default: the latest approved) or a model.tar.gz.

The package is read through the local registry's boto3 client (`offline.aws.local_session`),
with the same calls a deploy on AWS makes: ListModelPackages(ModelApprovalStatus=Approved,
SortBy=CreationTime, SortOrder=Descending) then DescribeModelPackage for
InferenceSpecification.Containers[0] (ModelDataUrl, Environment). The archive is extracted the way
SageMaker lays out /opt/ml/model: `xgboost-model` at the root, the handler under `code/`.
"""

from __future__ import annotations

import os
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

from offline.store import ObjectStore, ObjectStoreError
from processing import registry


class ArtifactError(ValueError):
    """The model to serve cannot be found or read; the message says what to do."""


@dataclass(frozen=True)
class ModelSpec:
    model_data: str  # s3:// URI in the local store, or a local path to model.tar.gz
    environment: dict[str, str] = field(default_factory=dict)
    package_arn: str | None = None
    group: str | None = None


def latest_approved_package(sagemaker_client, group: str | None = None) -> str:
    """The ARN of the newest approved model package (in `group` if given)."""
    from botocore.exceptions import ClientError

    try:
        arn = registry.latest_approved_package(sagemaker_client, group)
    except ClientError as e:
        raise ArtifactError(f"cannot list model packages: {e.response['Error'].get('Message', e)}") from e
    if arn is None:
        where = f"in model package group {group!r}" if group else "in the local model registry"
        raise ArtifactError(
            f"no approved model package {where}; run the build pipeline and approve a package "
            "(mlops registry approve), or pass --model-package ARN or --model-data PATH"
        )
    return arn


def describe_package(sagemaker_client, arn: str) -> ModelSpec:
    """ModelDataUrl and Environment of the package's first container."""
    from botocore.exceptions import ClientError

    try:
        package = sagemaker_client.describe_model_package(ModelPackageName=arn)
    except ClientError as e:
        raise ArtifactError(f"cannot describe model package {arn}: {e.response['Error'].get('Message', e)}") from e
    containers = package.get("InferenceSpecification", {}).get("Containers") or []
    if not containers or not containers[0].get("ModelDataUrl"):
        raise ArtifactError(f"model package {arn} has no InferenceSpecification.Containers[0].ModelDataUrl")
    container = containers[0]
    return ModelSpec(
        model_data=container["ModelDataUrl"],
        environment=dict(container.get("Environment") or {}),
        package_arn=package["ModelPackageArn"],
        group=package.get("ModelPackageGroupName"),
    )


def locate_archive(model_data: str, home: str | os.PathLike | None = None) -> Path:
    """The model.tar.gz on disk: an s3:// URI is looked up in the local object store."""
    if model_data.startswith("s3://"):
        store = ObjectStore.for_home(home)
        try:
            path = store.path(model_data)
        except ObjectStoreError as e:
            raise ArtifactError(str(e)) from None
        if not path.is_file():
            raise ArtifactError(f"{model_data} is not in the local object store ({path} does not exist)")
        return path
    path = Path(model_data).expanduser()
    if not path.is_file():
        raise ArtifactError(f"model data {model_data} is not a file (give a model.tar.gz or an s3:// URI)")
    return path


def extract_archive(archive: Path, destination: Path) -> Path:
    """Unpack model.tar.gz safely (no links out, no absolute paths) as SageMaker fills /opt/ml/model."""
    destination.mkdir(parents=True, exist_ok=True)
    try:
        with tarfile.open(archive, "r:*") as tar:
            tar.extractall(destination, filter="data")
    except (tarfile.TarError, OSError, EOFError) as e:
        raise ArtifactError(f"cannot extract {archive}: {e}") from None
    if not (destination / "code").is_dir():
        raise ArtifactError(
            f"{archive} holds no code/ folder: the local host serves the inference handler packed with the "
            "model (code/inference.py), as the SageMaker SDK's repack step produces it"
        )
    return destination
