"""The `json` protocol (awsJson1.1: SageMaker): POST /, `X-Amz-Target: <Prefix>.<Operation>`, JSON body."""

from __future__ import annotations

import json
from typing import Any

from botocore.model import OperationModel, ServiceModel

from offline.aws.errors import SerializationException, ServiceError
from offline.aws.protocols import Context
from offline.aws.shapes import from_wire_json, to_wire_json
from offline.aws.wire import Headers, Request, Response


class JsonProtocol:
    def __init__(self, model: ServiceModel):
        self.model = model
        self.target_prefix = model.metadata.get("targetPrefix", "")
        self.content_type = f"application/x-amz-json-{model.metadata.get('jsonVersion', '1.0')}"

    def operation(self, request: Request) -> str:
        target = request.headers.get("x-amz-target", "")
        prefix, _, name = target.rpartition(".")
        if request.method != "POST" or prefix != self.target_prefix or not name:
            raise SerializationException(f"Expected a POST with header X-Amz-Target: {self.target_prefix}.<Operation>")
        return name

    def parse(self, request: Request, op: OperationModel) -> dict[str, Any]:
        return from_wire_json(op.input_shape, load_json_object(request.read_body()))

    def serialize(self, op: OperationModel, result: dict | None, ctx: Context) -> Response:
        body = to_wire_json(op.output_shape, result or {}) if op.output_shape else {}
        return self._response(200, body, ctx)

    def serialize_error(self, error: ServiceError, ctx: Context, request: Request | None = None) -> Response:
        return json_error_response(error, ctx, self.content_type)

    def _response(self, status: int, body: dict, ctx: Context) -> Response:
        return _json_response(status, body, ctx, self.content_type)


MAX_JSON_DEPTH = 64  # far beyond any AWS input shape; keeps shape walks well inside Python's recursion limit


def load_json_object(raw: bytes, what: str = "Request body") -> dict[str, Any]:
    """A JSON-protocol request body -> dict; anything else is AWS's `SerializationException` (400).

    Refused: bodies that are not UTF-8 (the protocols' only encoding), not JSON, not an object, nested
    deeper than MAX_JSON_DEPTH, or holding a lone surrogate escape (`"\\ud800"`, which no UTF-8 store can hold).
    An empty body is an empty object, as AWS treats it. `what` names the text in the messages (a JSON
    document inside a member, such as A2I's InputContent, is held to the same limits).
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise SerializationException(f"{what} is not UTF-8 (byte {e.start})") from None
    if not text.strip():
        return {}
    try:
        value = json.loads(text)
    except RecursionError:
        raise SerializationException(f"{what} nests deeper than {MAX_JSON_DEPTH} levels") from None
    except ValueError as e:
        raise SerializationException(f"{what} is not valid JSON: {e}") from None
    if not isinstance(value, dict):
        raise SerializationException(f"{what} must be a JSON object")
    _check_nesting_and_text(value, what)
    return value


def _check_nesting_and_text(value: Any, what: str) -> None:
    """Walk the decoded body without recursion: depth within MAX_JSON_DEPTH, every string valid Unicode."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise SerializationException(f"{what} nests deeper than {MAX_JSON_DEPTH} levels")
        if isinstance(item, dict):
            for key, member in item.items():
                _check_text(key, what)
                stack.append((member, depth + 1))
        elif isinstance(item, list):
            stack.extend((member, depth + 1) for member in item)
        elif isinstance(item, str):
            _check_text(item, what)


def _check_text(text: str, what: str) -> None:
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise SerializationException(f"{what} holds a lone UTF-16 surrogate escape") from None


def json_error_response(
    error: ServiceError, ctx: Context, content_type: str = "application/x-amz-json-1.1"
) -> Response:
    """The one wire form of an error for JSON protocols: `__type` and `Message`, plus x-amzn-ErrorType."""
    response = _json_response(error.status, {"__type": error.code, "Message": error.message}, ctx, content_type)
    response.headers["x-amzn-ErrorType"] = error.code
    return response


def _json_response(status: int, body: dict, ctx: Context, content_type: str) -> Response:
    data = json.dumps(body, separators=(",", ":")).encode()
    headers = Headers(
        {"Content-Type": content_type, "Content-Length": str(len(data)), "x-amzn-RequestId": ctx.request_id}
    )
    return Response(status, headers, data)
