"""Local Amazon EventBridge Scheduler over the rest-json protocol: CreateSchedule, GetSchedule, UpdateSchedule,
DeleteSchedule and ListSchedules, each request checked against botocore's model first."""

from __future__ import annotations

from botocore.model import OperationModel

from offline.aws.constants import LOCAL_ACCOUNT_ID
from offline.aws.protocols import Context
from offline.aws.protocols.rest_json import RestJsonProtocol
from offline.aws.scheduler.errors import ValidationException
from offline.aws.scheduler.schedules import Schedules
from offline.aws.service import Service, operation
from offline.aws.shapes import service_model, validation_errors


class SchedulerService(Service):
    name = "scheduler"

    def __init__(self, runtime):
        super().__init__(RestJsonProtocol(service_model(self.name)))
        self.schedules = Schedules(runtime.db, LOCAL_ACCOUNT_ID)

    def validate(self, op: OperationModel, params: dict) -> None:
        problem = validation_errors(op.input_shape, params)
        if problem:
            raise ValidationException(problem)

    @operation("CreateSchedule")
    def create_schedule(self, params: dict, ctx: Context) -> dict:
        return {"ScheduleArn": self.schedules.create(ctx.region, params)}

    @operation("GetSchedule")
    def get_schedule(self, params: dict, ctx: Context) -> dict:
        return self.schedules.get(ctx.region, params["Name"], params.get("GroupName"))

    @operation("UpdateSchedule")
    def update_schedule(self, params: dict, ctx: Context) -> dict:
        return {"ScheduleArn": self.schedules.update(ctx.region, params)}

    @operation("DeleteSchedule")
    def delete_schedule(self, params: dict, ctx: Context) -> dict:
        self.schedules.delete(ctx.region, params["Name"], params.get("GroupName"))
        return {}

    @operation("ListSchedules")
    def list_schedules(self, params: dict, ctx: Context) -> dict:
        return self.schedules.list(ctx.region, params)
