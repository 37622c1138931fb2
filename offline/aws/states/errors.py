"""Step Functions' error codes (all HTTP 400, as its model declares), with AWS's message wording."""

from __future__ import annotations

from offline.aws.errors import ServiceError


class _StatesError(ServiceError):
    status = 400
    prefix = ""

    def __init__(self, detail: str):
        super().__init__(f"{self.prefix}: '{detail}'" if self.prefix else detail)


class InvalidArn(_StatesError):
    code, prefix = "InvalidArn", "Invalid Arn"


class InvalidName(_StatesError):
    code, prefix = "InvalidName", "Invalid Name"


class InvalidDefinition(_StatesError):
    code, prefix = "InvalidDefinition", "Invalid State Machine Definition"


class InvalidExecutionInput(_StatesError):
    code, prefix = "InvalidExecutionInput", "Invalid State Machine Execution Input"


class InvalidOutput(_StatesError):
    code, prefix = "InvalidOutput", "Invalid Output"


class InvalidToken(_StatesError):
    code, prefix = "InvalidToken", "Invalid Token"


class StateMachineAlreadyExists(_StatesError):
    code, prefix = "StateMachineAlreadyExists", "State Machine Already Exists"


class StateMachineDoesNotExist(_StatesError):
    code, prefix = "StateMachineDoesNotExist", "State Machine Does Not Exist"


class StateMachineTypeNotSupported(_StatesError):
    code = "StateMachineTypeNotSupported"


class ExecutionAlreadyExists(_StatesError):
    code, prefix = "ExecutionAlreadyExists", "Execution Already Exists"


class ExecutionDoesNotExist(_StatesError):
    code, prefix = "ExecutionDoesNotExist", "Execution Does Not Exist"


class TaskDoesNotExist(_StatesError):
    code, prefix = "TaskDoesNotExist", "Task Does Not Exist"


class TaskTimedOut(_StatesError):
    code, prefix = "TaskTimedOut", "Task Timed Out"


class MissingRequiredParameter(_StatesError):
    code = "MissingRequiredParameter"


class ValidationException(_StatesError):
    code = "ValidationException"
