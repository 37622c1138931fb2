"""RegisterModel: CreateModelPackage against the local model registry, with the same boto3 call.

As on SageMaker, registering into a group that does not exist yet creates the group.
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
            _ensure_group(client, group)
        response = client.create_model_package(**args)
    except (ClientError, ParamValidationError) as e:
        raise StepFailed(f"ClientError: {e}") from e
    return {"ModelPackageArn": response["ModelPackageArn"]}


def _ensure_group(client, group: str) -> None:
    try:
        client.describe_model_package_group(ModelPackageGroupName=group)
    except ClientError:
        client.create_model_package_group(
            ModelPackageGroupName=group, ModelPackageGroupDescription="Created by a pipeline's RegisterModel step"
        )
