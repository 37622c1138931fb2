"""The Step Functions Data Science SDK (stepfunctions 2.3.0), imported quietly, and the ASL fields it lacks.

The SDK's `Fail` state knows only the static `Error` and `Cause`; a deploy that fails must say why, so
`FailWith` adds `ErrorPath` and `CausePath` (ASL fields since 2023, accepted by statelint 3.1.0 and by the
offline interpreter). Importing the SDK goes through `pipelines.quiet_sdk.import_stepfunctions()` (it
would otherwise set the root logger to ERROR).
"""

from __future__ import annotations

import logging
from enum import Enum

from pipelines.quiet_sdk import import_stepfunctions

_log = logging.getLogger("stepfunctions")
_level = _log.level
_log.setLevel(logging.ERROR)  # "IPython failed to import": the SDK's notebook widgets, not used here
import_stepfunctions()

from stepfunctions.inputs import ExecutionInput  # noqa: E402
from stepfunctions.steps import (  # noqa: E402
    Catch,
    Chain,
    Choice,
    ChoiceRule,
    Fail,
    Pass,
    Retry,
    Succeed,
    Task,
    Wait,
)
from stepfunctions.steps.states import State  # noqa: E402
from stepfunctions.workflow import Workflow  # noqa: E402

_log.setLevel(max(_level, logging.WARNING))

__all__ = [
    "Catch",
    "Chain",
    "Choice",
    "ChoiceRule",
    "ExecutionInput",
    "Fail",
    "FailWith",
    "Pass",
    "Retry",
    "State",
    "Succeed",
    "Task",
    "Wait",
    "Workflow",
]


class _Paths(Enum):
    """ASL fields the SDK has no Field for; the SDK writes a field `x_y` as `XY`."""

    ErrorPath = "error_path"
    CausePath = "cause_path"


class FailWith(Fail):
    """A Fail state whose error and cause come from the state's input (`ErrorPath`, `CausePath`)."""

    def allowed_fields(self):
        return [*super().allowed_fields(), _Paths.ErrorPath, _Paths.CausePath]
