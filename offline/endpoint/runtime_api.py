"""The sagemaker-runtime InvokeEndpoint wire protocol (rest-json): header rules and AWS's error answers.

Header constraints come from botocore's own service model (lengths and patterns of each header member),
so a request AWS would refuse is refused here with AWS's wording: `ValidationError`, HTTP 400,
"1 validation error detected: Value '…' at 'inferenceId' failed to satisfy constraint: …".
Container errors become `ModelError` (HTTP 424) with the fields botocore parses from the body:
OriginalStatusCode, OriginalMessage, LogStreamArn, Message ("Received client error (400) from primary
with message "…". See https://…/aws/sagemaker/Endpoints/<name> in account <id> for more information.").
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from offline.endpoint.handler import Answer

CONTAINER_NAME = "primary"  # how AWS names a single-container endpoint's container in ModelError messages
_JAVA_CLASSES = {r"\p{ASCII}": r"\x00-\x7f", r"\p{Print}": r"\x20-\x7e"}


@dataclass(frozen=True)
class HeaderRule:
    member: str  # the API member name, e.g. InferenceId
    header: bytes  # lower-case wire header name, as ASGI servers deliver it
    min_length: int
    max_length: int | None
    pattern: re.Pattern | None
    pattern_text: str
    sensitive: bool


@dataclass(frozen=True)
class WireError:
    status: int
    code: str
    body: bytes


def header_rules() -> dict[bytes, HeaderRule]:
    """One rule per header member of InvokeEndpointInput, read from botocore's sagemaker-runtime model."""
    import botocore.session

    model = botocore.session.get_session().get_service_model("sagemaker-runtime")
    shape = model.operation_model("InvokeEndpoint").input_shape
    rules = []
    for member, member_shape in shape.members.items():
        if member_shape.serialization.get("location") != "header":
            continue
        meta = member_shape.metadata
        pattern_text = meta.get("pattern", "")
        rules.append(
            HeaderRule(
                member=member,
                header=member_shape.serialization["name"].lower().encode("latin-1"),
                min_length=int(meta.get("min", 0)),
                max_length=meta.get("max"),
                pattern=_python_pattern(pattern_text) if pattern_text else None,
                pattern_text=pattern_text,
                sensitive=bool(meta.get("sensitive")),
            )
        )
    return {rule.header: rule for rule in rules}


def validate_headers(rules: dict[bytes, HeaderRule], headers: dict[bytes, bytes]) -> WireError | None:
    """Every constraint the request breaks, in one ValidationError as AWS reports them; None if valid.

    `rules` maps wire header names to rules (`header_rules()`); only headers the request carries are checked.
    """
    problems = []
    for name, raw in headers.items():
        rule = rules.get(name)
        if rule is None:
            continue
        value = raw.decode("latin-1")
        shown = "Value" if rule.sensitive else f"Value '{value}'"
        where = f"at '{rule.member[0].lower()}{rule.member[1:]}'"
        if len(value) < rule.min_length:
            problems.append(
                f"{shown} {where} failed to satisfy constraint: "
                f"Member must have length greater than or equal to {rule.min_length}"
            )
        elif rule.max_length is not None and len(value) > rule.max_length:
            problems.append(
                f"{shown} {where} failed to satisfy constraint: "
                f"Member must have length less than or equal to {rule.max_length}"
            )
        elif rule.pattern is not None and not rule.pattern.fullmatch(value):
            problems.append(
                f"{shown} {where} failed to satisfy constraint: "
                f"Member must satisfy regular expression pattern: {rule.pattern_text}"
            )
    if not problems:
        return None
    noun = "error" if len(problems) == 1 else "errors"
    return validation_error(f"{len(problems)} validation {noun} detected: " + "; ".join(problems))


def validation_error(message: str, status: int = 400) -> WireError:
    return WireError(status, "ValidationError", _json({"message": message}))


def endpoint_not_found(name: str, account: str) -> WireError:
    return validation_error(f"Endpoint {name} of account {account} not found.")


def model_error(answer: Answer, endpoint: str, account: str, region: str) -> WireError:
    """A container's 4xx/5xx as InvokeEndpoint reports it: 424 ModelError carrying the original answer."""
    original = answer.body.decode("utf-8", "replace")
    side = "client" if answer.status < 500 else "server"
    group = f"/aws/sagemaker/Endpoints/{endpoint}"
    console = f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#logEventViewer:group={group}"
    message = (
        f'Received {side} error ({answer.status}) from {CONTAINER_NAME} with message "{original}". '
        f"See {console} in account {account} for more information."
    )
    body = {
        "ErrorCode": f"{side.upper()}_ERROR_FROM_MODEL",
        "LogStreamArn": f"arn:aws:logs:{region}:{account}:log-group:{group}",
        "Message": message,
        "OriginalMessage": original,
        "OriginalStatusCode": answer.status,
    }
    return WireError(424, "ModelError", _json(body))


def model_timeout(endpoint: str, account: str, region: str, seconds: float) -> WireError:
    """The container did not answer in time: ModelError with status 0, as InvokeEndpoint reports it."""
    message = (
        f"Your invocation timed out while waiting for a response from container {CONTAINER_NAME} "
        f"(the local limit is {seconds:g} s). Review the latency of the container, resolve the issue, and try again."
    )
    group = f"/aws/sagemaker/Endpoints/{endpoint}"
    body = {
        "ErrorCode": "SERVER_ERROR_FROM_MODEL",
        "LogStreamArn": f"arn:aws:logs:{region}:{account}:log-group:{group}",
        "Message": f'Received server error (0) from {CONTAINER_NAME} with message "{message}". See the log of '
        f"endpoint {endpoint} for more information.",
        "OriginalMessage": message,
        "OriginalStatusCode": 0,
    }
    return WireError(424, "ModelError", _json(body))


def service_unavailable(message: str) -> WireError:
    return WireError(503, "ServiceUnavailable", _json({"message": message}))


def _python_pattern(java: str) -> re.Pattern | None:
    """The few Java regex constructs AWS models use, in Python's dialect; None if it cannot be read."""
    text = java
    for construct, replacement in _JAVA_CLASSES.items():
        text = text.replace(f"[{construct}]", f"[{replacement}]").replace(construct, f"[{replacement}]")
    text = text.replace(r"\z", r"\Z")
    try:
        return re.compile(text, re.DOTALL)
    except re.error:
        return None


def _json(document: dict) -> bytes:
    return json.dumps(document, separators=(",", ":")).encode("utf-8")
