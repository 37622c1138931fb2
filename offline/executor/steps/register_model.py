"""RegisterModel: CreateModelPackage against the local model registry, with the same boto3 call.

As on SageMaker, registering into a group that does not exist yet creates the group. Two executions
may register into the same new group at once: CreateModelPackageGroup refuses the second creation
(as AWS does), so a refused creation is fine when the group exists by then. Versions come from the
registry in one transaction each, so concurrent registrations get 1, 2, … with no gap or clash.
"""

from __future__ import annotations

from botocore.exceptions import ClientError, ParamValidationError

from offline.executor.context import ExecutionContext, StepFailed
from offline.executor.definition import Step


def run_register_model(ctx: ExecutionContext, step: Step, args: dict) -> dict:
    client = ctx.sagemaker()
    group = args.get("ModelPackageGroupName")
    try:
        if group:
            ensure_group(client, group)
        response = client.create_model_package(**args)
    except (ClientError, ParamValidationError) as e:
        raise StepFailed(f"ClientError: {e}") from e
    return {"ModelPackageArn": response["ModelPackageArn"]}


def ensure_group(client, group: str) -> None:
    """The group exists afterwards, whoever created it; other errors are raised as they came."""
    if _exists(client, group):
        return
    try:
        client.create_model_package_group(
            ModelPackageGroupName=group, ModelPackageGroupDescription="Created by a pipeline's RegisterModel step"
        )
    except ClientError:
        if not _exists(client, group):  # not a lost race: the creation itself failed
            raise


def _exists(client, group: str) -> bool:
    try:
        client.describe_model_package_group(ModelPackageGroupName=group)
    except ClientError as e:
        if e.response["Error"]["Code"] in ("ValidationException", "ResourceNotFound"):
            return False  # SageMaker answers a missing group with a ValidationException
        raise
    return True
