"""The `rest-json` protocol (the A2I runtime): the operation is the method plus a path template from
botocore's model (`POST /human-loops`, `GET /human-loops/{HumanLoopName}`); inputs come from URI labels,
the query string, headers and a JSON body, each member where its `location` trait puts it.

Errors are the JSON protocols' one wire form (`__type`, `Message`, `x-amzn-ErrorType`), which botocore's
rest-json parser reads the same way; their HTTP status is the error class's (the model's `httpStatusCode`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from botocore.model import OperationModel, ServiceModel, Shape

from offline.aws.errors import NotImplementedByLocalRuntime, SerializationException, ServiceError
from offline.aws.protocols import Context
from offline.aws.protocols.json import json_error_response, load_json_object
from offline.aws.protocols.rest import prefixed_headers, put_header_members, query_member
from offline.aws.protocols.xml import parse_scalar
from offline.aws.shapes import from_wire_json, to_wire_json
from offline.aws.wire import Headers, Request, Response

CONTENT_TYPE = "application/json"
_LABEL = re.compile(r"\{([^}]+)\}")


@dataclass(frozen=True)
class _Route:
    operation: str
    method: str
    pattern: re.Pattern  # named groups l0, l1, … for the labels, in order
    labels: tuple[str, ...]  # the labels' wire names (`HumanLoopName`), without a trailing `+`
    literal: int  # characters outside labels: the most specific template wins


class RestJsonProtocol:
    def __init__(self, model: ServiceModel):
        self.model = model
        self.routes = sorted(
            (_route(model.operation_model(name)) for name in model.operation_names), key=lambda r: -r.literal
        )

    # -- requests --------------------------------------------------------------------------------------

    def operation(self, request: Request) -> str:
        path = request.raw_path
        for route in self.routes:
            if route.method == request.method and route.pattern.match(path):
                return route.operation
        raise NotImplementedByLocalRuntime(self.model.service_name, f"{request.method} {path}")

    def parse(self, request: Request, op: OperationModel) -> dict[str, Any]:
        shape = op.input_shape
        if shape is None:
            return {}
        route = next(r for r in self.routes if r.operation == op.name)
        match = route.pattern.match(request.raw_path)
        labels = {name: unquote(match.group(f"l{i}")) for i, name in enumerate(route.labels)} if match else {}
        query = request.query
        params: dict[str, Any] = {}
        body_members = {}
        payload = shape.serialization.get("payload")
        for name, member in shape.members.items():
            location = member.serialization.get("location")
            wire_name = member.serialization.get("name", name)
            if location == "uri":
                if wire_name in labels:
                    params[name] = _scalar(member, labels[wire_name])
            elif location == "querystring":
                if member.type_name == "map":
                    bound = {m.serialization.get("name", n) for n, m in shape.members.items()}
                    found = {k: v for k, v in query if k not in bound}
                    if found:
                        params[name] = found
                    continue
                value = query_member(member, wire_name, query, _scalar)
                if value is not None:
                    params[name] = value
            elif location == "header":
                if wire_name in request.headers:
                    params[name] = _scalar(member, request.headers[wire_name])
            elif location == "headers":
                found = prefixed_headers(request.headers, wire_name)
                if found:
                    params[name] = found
            elif name == payload:
                if member.type_name in ("blob", "string"):
                    params[name] = request.read_body()
                else:
                    body = load_json_object(request.read_body())
                    if body:
                        params[name] = from_wire_json(member, body)
            elif location is None:
                body_members[name] = member
        if body_members and not payload:
            body = load_json_object(request.read_body())
            for key, value in body.items():
                member = body_members.get(key)
                # a key the shape lacks stays, so validation names it as an unknown parameter
                params[key] = from_wire_json(member, value) if member is not None else value
        return params

    # -- responses -------------------------------------------------------------------------------------

    def serialize(self, op: OperationModel, result: dict | None, ctx: Context) -> Response:
        result = result or {}
        status = op.http.get("responseCode", 200)
        headers = Headers({"x-amzn-RequestId": ctx.request_id})
        shape = op.output_shape
        body: dict[str, Any] = {}
        raw: bytes | None = None
        if shape is not None:
            status = put_header_members(shape, result, headers) or status
            payload = shape.serialization.get("payload")
            for name, member in shape.members.items():
                value = result.get(name)
                if value is None or member.serialization.get("location"):
                    continue
                if name != payload:
                    body[name] = to_wire_json(member, value)
                elif member.type_name in ("blob", "string"):
                    raw = value if isinstance(value, bytes) else str(value).encode()
                else:
                    body = to_wire_json(member, value)
        if raw is None:
            # AWS answers an output without members with an empty body; botocore reads either as {}
            raw = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode() if body else b""
        if raw:
            headers["Content-Type"] = CONTENT_TYPE
        headers["Content-Length"] = str(len(raw))
        return Response(status, headers, raw)

    def serialize_error(self, error: ServiceError, ctx: Context, request: Request | None = None) -> Response:
        return json_error_response(error, ctx, CONTENT_TYPE)


def _route(op: OperationModel) -> _Route:
    path = op.http.get("requestUri", "/").partition("?")[0]
    regex, labels = "", []
    for piece in re.split(r"(\{[^}]+\})", path):
        label = _LABEL.fullmatch(piece)
        if label:
            name = label.group(1)
            regex += f"(?P<l{len(labels)}>{'.+' if name.endswith('+') else '[^/]+'})"
            labels.append(name.rstrip("+"))
        else:
            regex += re.escape(piece)
    return _Route(
        op.name, op.http.get("method", "POST"), re.compile(f"^{regex}/?$"), tuple(labels), len(_LABEL.sub("", path))
    )


def _scalar(shape: Shape, text: str) -> Any:
    """A URI label, query value or header as the member's type; a value that is not one is refused."""
    try:
        return parse_scalar(shape, text)
    except ServiceError as e:
        raise SerializationException(e.message) from None
