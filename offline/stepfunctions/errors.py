"""Errors of the States language: the names AWS reports and the rules by which Retry and Catch match them."""

from __future__ import annotations

ALL = "States.ALL"
TASK_FAILED = "States.TaskFailed"
TIMEOUT = "States.Timeout"
HEARTBEAT_TIMEOUT = "States.HeartbeatTimeout"
RUNTIME = "States.Runtime"
DATA_LIMIT_EXCEEDED = "States.DataLimitExceeded"
NO_CHOICE_MATCHED = "States.NoChoiceMatched"
INTRINSIC_FAILURE = "States.IntrinsicFailure"
RESULT_PATH_MATCH_FAILURE = "States.ResultPathMatchFailure"

# Neither States.ALL nor States.TaskFailed catches these (AWS: terminal errors).
_UNCATCHABLE_BY_WILDCARDS = frozenset({RUNTIME, DATA_LIMIT_EXCEEDED})


class StatesError(Exception):
    """A state's failure as the history reports it: an error name and a cause (both may be empty).

    `heartbeat` marks a States.Timeout raised because HeartbeatSeconds passed without a heartbeat, which
    a retrier or catcher may also name States.HeartbeatTimeout.
    """

    def __init__(self, error: str, cause: str = "", *, heartbeat: bool = False):
        super().__init__(f"{error}: {cause}" if cause else error)
        self.error = error
        self.cause = cause
        self.heartbeat = heartbeat

    def details(self) -> dict:
        """The error and cause members of a failure event (empty ones are left out, as AWS does)."""
        return {key: value for key, value in (("error", self.error), ("cause", self.cause)) if value}

    def as_output(self) -> dict:
        """What a catcher places at its ResultPath: {"Error", "Cause"}."""
        return {"Error": self.error, "Cause": self.cause}


class PathError(ValueError):
    """A path that does not parse, or that selects nothing in the data it is applied to."""


class ExecutionHalted(Exception):
    """The execution was closed elsewhere (StopExecution, a timeout) or a sibling branch failed: unwind quietly."""


def runtime_error(state: str, entered_event: int | None, detail: str) -> StatesError:
    """States.Runtime with AWS's wording, naming the state and the event it was entered at."""
    where = f" (entered at the event id #{entered_event})" if entered_event is not None else ""
    return StatesError(RUNTIME, f"An error occurred while executing the state '{state}'{where}. {detail}")


def matches(error_equals: list[str], error: StatesError) -> bool:
    """Whether a retrier's or catcher's ErrorEquals names this error, with AWS's wildcard rules.

    States.Runtime is never retried nor caught (AWS: it always fails the execution). States.ALL matches every
    other error except States.DataLimitExceeded; States.TaskFailed matches the same set minus States.Timeout
    (a heartbeat timeout included).
    """
    name = error.error
    if name == RUNTIME:
        return False
    for wanted in error_equals:
        if wanted == name or (wanted == HEARTBEAT_TIMEOUT and error.heartbeat):
            return True
        if name in _UNCATCHABLE_BY_WILDCARDS:
            continue
        if wanted == ALL or (wanted == TASK_FAILED and name != TIMEOUT):
            return True
    return False
