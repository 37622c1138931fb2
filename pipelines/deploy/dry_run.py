"""`--dry-run`: real boto3 clients that validate every request and send none.

Each request goes through botocore's own parameter validation against the service model (the step
that raises ParamValidationError), is recorded, and is answered here instead of by AWS: reads get
placeholder answers (no approved package lookups, no existing resources), writes an empty success.
What the answers assume is listed, so the printed plan says what would differ in a real account.
"""

from __future__ import annotations

import copy
import hashlib
from datetime import datetime, timezone

from pipelines.deploy.aws import AwsClients

DRY_RUN_ACCOUNT = "000000000000"
_NOT_FOUND = {
    ("sagemaker", "DescribeModel"): "ValidationException",
    ("sagemaker", "DescribeEndpointConfig"): "ValidationException",
    ("sagemaker", "DescribeEndpoint"): "ValidationException",
    ("sagemaker", "DescribeDataQualityJobDefinition"): "ResourceNotFound",
    ("sagemaker", "DescribeModelQualityJobDefinition"): "ResourceNotFound",
    ("sagemaker", "DescribeMonitoringSchedule"): "ResourceNotFound",
    ("scheduler", "GetSchedule"): "ResourceNotFoundException",
    ("s3", "HeadObject"): "404",
}


class DryRun:
    def __init__(self, region: str):
        self.region = region
        self.requests: list[dict] = []
        self.assumptions: list[str] = []
        self._pending: dict[int, dict] = {}

    def clients(self) -> AwsClients:
        """Clients for sagemaker, s3, scheduler and sts that never open a connection."""
        import boto3

        session = boto3.Session(aws_access_key_id="dry-run", aws_secret_access_key="dry-run", region_name=self.region)
        clients = {name: session.client(name) for name in ("sagemaker", "s3", "scheduler", "sts")}
        for client in clients.values():
            client.meta.events.register("before-parameter-build.*.*", self._record)
            client.meta.events.register("before-call.*.*", self._answer)
        return AwsClients(**clients)

    def _record(self, params: dict, model, context: dict, **_kwargs) -> None:
        self._pending[id(context)] = {
            "service": model.service_model.service_name,
            "operation": model.name,
            "params": _printable(copy.deepcopy(params)),
        }

    def _answer(self, model, context: dict, **_kwargs):
        """botocore validated the request: keep it and answer it (a 2xx answer or a not-found error)."""
        from botocore.awsrequest import AWSResponse

        entry = self._pending.pop(id(context), {"service": model.service_model.service_name, "operation": model.name})
        service = model.service_model.service_name
        self.requests.append(entry)
        code = _NOT_FOUND.get((service, model.name))
        if code:
            self._assume("nothing of this deploy exists yet: Describe*, GetSchedule and HeadObject answer 'not found'")
            status = 404 if service in ("s3", "scheduler") else 400
            return AWSResponse(None, status, {}, None), {"Error": {"Code": code, "Message": "dry run"}}
        return AWSResponse(None, 200, {}, None), self._read_answer(service, model.name, entry.get("params", {}))

    def _read_answer(self, service: str, operation: str, params: dict) -> dict:
        if operation == "GetCallerIdentity":
            self._assume(f"the account is {DRY_RUN_ACCOUNT} (GetCallerIdentity is not sent)")
            return {
                "Account": DRY_RUN_ACCOUNT,
                "Arn": f"arn:aws:iam::{DRY_RUN_ACCOUNT}:user/dry-run",
                "UserId": "DRYRUN",
            }
        if operation == "ListModelPackages":
            group = params["ModelPackageGroupName"]
            arn = f"arn:aws:sagemaker:{self.region}:{DRY_RUN_ACCOUNT}:model-package/{group.lower()}/1"
            self._assume(f"the latest approved package of {group} is {arn}")
            return {
                "ModelPackageSummaryList": [
                    {
                        "ModelPackageArn": arn,
                        "ModelPackageGroupName": group,
                        "CreationTime": datetime.now(timezone.utc),
                        "ModelPackageStatus": "Completed",
                        "ModelApprovalStatus": "Approved",
                    }
                ]
            }
        if operation == "DescribeModelPackage":
            return self._package(params["ModelPackageName"])
        return {}

    def _package(self, arn: str) -> dict:
        group = arn.split(":model-package/")[-1].split("/")[0] if ":model-package/" in arn else "group"
        base = f"s3://sagemaker-{self.region}-{DRY_RUN_ACCOUNT}/dry-run/{group}/drift-check"
        self._assume(f"{arn} is Approved with drift-check baselines under {base}")

        def source(kind: str, name: str) -> dict:
            return {"ContentType": "application/json", "S3Uri": f"{base}/{kind}/{name}.json"}

        from pipelines.deploy.images import xgboost_image

        model = f"s3://sagemaker-{self.region}-{DRY_RUN_ACCOUNT}/dry-run/{group}/model.tar.gz"
        return {
            "ModelPackageArn": arn,
            "ModelPackageGroupName": group,
            "ModelApprovalStatus": "Approved",
            "InferenceSpecification": {
                "Containers": [{"Image": xgboost_image(self.region), "ModelDataUrl": model}],
                "SupportedContentTypes": ["text/csv", "application/json"],
                "SupportedResponseMIMETypes": ["text/csv", "application/json"],
            },
            "DriftCheckBaselines": {
                "ModelDataQuality": {
                    "Statistics": source("data-quality", "statistics"),
                    "Constraints": source("data-quality", "constraints"),
                },
                "ModelQuality": {"Constraints": source("model-quality", "constraints")},
            },
        }

    def _assume(self, text: str) -> None:
        if text not in self.assumptions:
            self.assumptions.append(text)


def _printable(value):
    """Request params as JSON: bytes become their size and SHA-256, datetimes ISO strings."""
    if isinstance(value, (bytes, bytearray)):
        return {"bytes": len(value), "sha256": hashlib.sha256(value).hexdigest()}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _printable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_printable(v) for v in value]
    return value
