"""Local Amazon A2I runtime (`sagemaker-a2i-runtime`) over the rest-json protocol.

Requests are checked against botocore's model of the service (types, required members, the loop-name
pattern, lengths, enums) before the loops see them; errors carry the model's status codes (400, 404, 409,
429). StartHumanLoop may be rate-limited (`offline.aws.a2i.throttle`, off by default).
"""

from __future__ import annotations

from botocore.model import OperationModel

from offline.aws.a2i.errors import ValidationException
from offline.aws.a2i.loops import HumanLoops
from offline.aws.a2i.throttle import bucket_from_env
from offline.aws.constants import LOCAL_ACCOUNT_ID
from offline.aws.protocols import Context
from offline.aws.protocols.rest_json import RestJsonProtocol
from offline.aws.sagemaker.human_review import HumanReviewResources
from offline.aws.service import Service, operation
from offline.aws.shapes import service_model, validation_errors


class A2IRuntimeService(Service):
    name = "sagemaker-a2i-runtime"

    def __init__(self, runtime):
        super().__init__(RestJsonProtocol(service_model(self.name)))
        resources = HumanReviewResources(runtime.db, runtime.store, runtime.home, LOCAL_ACCOUNT_ID)
        self.loops = HumanLoops(runtime.db, runtime.store, resources, LOCAL_ACCOUNT_ID, throttle=bucket_from_env())

    def validate(self, op: OperationModel, params: dict) -> None:
        problem = validation_errors(op.input_shape, params)
        if problem:
            raise ValidationException(problem)

    @operation("StartHumanLoop")
    def start_human_loop(self, params: dict, ctx: Context) -> dict:
        return {"HumanLoopArn": self.loops.start(ctx.region, params)}

    @operation("DescribeHumanLoop")
    def describe_human_loop(self, params: dict, ctx: Context) -> dict:
        return self.loops.describe(ctx.region, params["HumanLoopName"])

    @operation("ListHumanLoops")
    def list_human_loops(self, params: dict, ctx: Context) -> dict:
        return self.loops.list(ctx.region, params)

    @operation("StopHumanLoop")
    def stop_human_loop(self, params: dict, ctx: Context) -> dict:
        self.loops.stop(ctx.region, params["HumanLoopName"])
        return {}

    @operation("DeleteHumanLoop")
    def delete_human_loop(self, params: dict, ctx: Context) -> dict:
        self.loops.delete(ctx.region, params["HumanLoopName"])
        return {}
