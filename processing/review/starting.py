"""Starting one human loop with an `sagemaker-a2i-runtime` client, and telling a new loop from an old one.

StartHumanLoop with a name already in use answers in one of two ways: with the same input and flow
definition it is the same loop again (the local runtime returns its ARN, starting nothing); with other
input it is ConflictException ("the same name as another active human loop but has different input
data", botocore's documentation). Both mean *already started*, and both are counted apart. A success
cannot say by itself whether it started the loop, so a loop that may exist is described first: one that
exists already was started by an earlier run (no clock is compared). The caller may say it knows
(`existed`), which saves the DescribeHumanLoop: the job describes the first loop of each capture file
only (processing/start_human_loops.py says why that is enough). Throttling is retried by the client's
retry mode (`retry_config`); what is left after the retries fails the run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

STARTED, ALREADY_STARTED, CONFLICT = "started", "already-started", "conflict"
OUTCOMES = (STARTED, ALREADY_STARTED, CONFLICT)
# A2I's throttling is retried by botocore; adaptive mode also slows the client down after a throttle.
RETRIES = {"mode": "adaptive", "max_attempts": 10}
# Codes that mean the request can never succeed as sent (an unknown or inactive flow definition, a
# refused input): a re-run would fail the same way, so the job stops with a usage-like error.
REFUSED = ("ValidationException", "ResourceNotFoundException")


class StartRefused(RuntimeError):
    """A2I refused the request itself (e.g. an unknown flow definition); re-running cannot help."""


class StartFailed(RuntimeError):
    """A2I failed the request after the client's retries (throttling, quota, an internal error)."""


@dataclass(frozen=True)
class Started:
    name: str
    arn: str | None
    outcome: str  # STARTED, ALREADY_STARTED or CONFLICT


def retry_config():
    """The botocore Config of every A2I runtime client the review jobs use."""
    from botocore.config import Config

    return Config(retries=dict(RETRIES))


def start_loop(a2i: Any, name: str, flow_definition_arn: str, document: dict, existed: bool | None = None) -> Started:
    """Start the loop `name` for one review input; never starts a second loop of that name.

    `existed`: whether the loop is known to exist already (None: ask DescribeHumanLoop).
    """
    if existed is None:
        existed = loop_exists(a2i, name)
    try:
        arn = a2i.start_human_loop(
            HumanLoopName=name,
            FlowDefinitionArn=flow_definition_arn,
            HumanLoopInput={"InputContent": json.dumps(document, separators=(",", ":"), allow_nan=False)},
        )["HumanLoopArn"]
    except _errors() as e:
        if _code(e) == "ConflictException":
            return Started(name, None, CONFLICT)
        raise _failure("StartHumanLoop", name, e) from e
    return Started(name, arn, ALREADY_STARTED if existed else STARTED)


def loop_exists(a2i: Any, name: str) -> bool:
    """Whether a human loop of that name exists (DescribeHumanLoop; ResourceNotFound: no)."""
    try:
        a2i.describe_human_loop(HumanLoopName=name)
    except _errors() as e:
        if _code(e) == "ResourceNotFoundException":
            return False
        raise _failure("DescribeHumanLoop", name, e) from e
    return True


def _failure(operation: str, name: str, error: Exception) -> RuntimeError:
    code = _code(error)
    details = error.response.get("Error", {}).get("Message") if code else str(error)
    message = f"{operation} {name}: {code + ': ' if code else ''}{details}"
    return StartRefused(message) if code in REFUSED else StartFailed(message)


def _code(error: Exception) -> str | None:
    response = getattr(error, "response", None)
    return response.get("Error", {}).get("Code") if isinstance(response, dict) else None


def _errors() -> tuple[type[Exception], ...]:
    from botocore.exceptions import BotoCoreError, ClientError

    return (ClientError, BotoCoreError)
