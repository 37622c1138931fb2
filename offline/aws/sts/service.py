"""STS GetCallerIdentity, which the SageMaker SDK calls to check default-bucket ownership."""

from __future__ import annotations

from offline.aws.constants import LOCAL_USER_ARN, LOCAL_USER_ID
from offline.aws.protocols import Context
from offline.aws.protocols.query import QueryProtocol
from offline.aws.service import Service, operation
from offline.aws.shapes import service_model


class STSService(Service):
    name = "sts"

    def __init__(self, runtime=None):
        super().__init__(QueryProtocol(service_model(self.name)))

    @operation("GetCallerIdentity")
    def get_caller_identity(self, params: dict, ctx: Context) -> dict:
        return {"UserId": LOCAL_USER_ID, "Account": ctx.account_id, "Arn": LOCAL_USER_ARN}
