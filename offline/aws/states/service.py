"""Local Step Functions over the json protocol (1.0, `X-Amz-Target: AWSStepFunctions.<Operation>`).

Requests are checked against botocore's model of the service before the backend sees them; executions run
in background runner processes (`offline.stepfunctions.runner`), so StartExecution returns at once.
"""

from __future__ import annotations

from botocore.model import OperationModel

from offline.aws.protocols import Context
from offline.aws.protocols.json import JsonProtocol
from offline.aws.service import Service, operation
from offline.aws.shapes import service_model, validation_errors
from offline.aws.states.backend import StepFunctionsBackend
from offline.aws.states.errors import ValidationException


class StatesService(Service):
    name = "stepfunctions"

    def __init__(self, runtime):
        super().__init__(JsonProtocol(service_model(self.name)))
        self.backend = StepFunctionsBackend(runtime.db, runtime.home)

    def validate(self, op: OperationModel, params: dict) -> None:
        problem = validation_errors(op.input_shape, params)
        if problem:
            raise ValidationException(problem)

    # -- state machines --------------------------------------------------------------------------------

    @operation("CreateStateMachine")
    def create_state_machine(self, params: dict, ctx: Context) -> dict:
        return self.backend.create_state_machine(ctx.region, params)

    @operation("DescribeStateMachine")
    def describe_state_machine(self, params: dict, ctx: Context) -> dict:
        return self.backend.describe_state_machine(params["stateMachineArn"])

    @operation("UpdateStateMachine")
    def update_state_machine(self, params: dict, ctx: Context) -> dict:
        return self.backend.update_state_machine(params)

    @operation("DeleteStateMachine")
    def delete_state_machine(self, params: dict, ctx: Context) -> dict:
        self.backend.delete_state_machine(params["stateMachineArn"])
        return {}

    @operation("ListStateMachines")
    def list_state_machines(self, params: dict, ctx: Context) -> dict:
        return self.backend.list_state_machines(ctx.region, params)

    # -- executions ------------------------------------------------------------------------------------

    @operation("StartExecution")
    def start_execution(self, params: dict, ctx: Context) -> dict:
        return self.backend.start_execution(params)

    @operation("DescribeExecution")
    def describe_execution(self, params: dict, ctx: Context) -> dict:
        return self.backend.describe_execution(params["executionArn"])

    @operation("DescribeStateMachineForExecution")
    def describe_state_machine_for_execution(self, params: dict, ctx: Context) -> dict:
        return self.backend.describe_state_machine_for_execution(params["executionArn"])

    @operation("GetExecutionHistory")
    def get_execution_history(self, params: dict, ctx: Context) -> dict:
        return self.backend.get_execution_history(params)

    @operation("ListExecutions")
    def list_executions(self, params: dict, ctx: Context) -> dict:
        return self.backend.list_executions(params)

    @operation("StopExecution")
    def stop_execution(self, params: dict, ctx: Context) -> dict:
        return self.backend.stop_execution(params)

    # -- task tokens -----------------------------------------------------------------------------------

    @operation("SendTaskSuccess")
    def send_task_success(self, params: dict, ctx: Context) -> dict:
        self.backend.send_task_success(params["taskToken"], params["output"])
        return {}

    @operation("SendTaskFailure")
    def send_task_failure(self, params: dict, ctx: Context) -> dict:
        self.backend.send_task_failure(params["taskToken"], params.get("error"), params.get("cause"))
        return {}

    @operation("SendTaskHeartbeat")
    def send_task_heartbeat(self, params: dict, ctx: Context) -> dict:
        self.backend.send_task_heartbeat(params["taskToken"])
        return {}
