"""The `rest-xml` protocol (S3): operations are routed by method, path and query/header markers, all read
from botocore's model (`http.requestUri`, required querystring/header members), so an unimplemented S3
operation is still recognised and named in the error."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree as ET

from botocore.model import OperationModel, ServiceModel, Shape

from offline.aws.errors import NotImplementedByLocalRuntime, ServiceError
from offline.aws.protocols import Context
from offline.aws.protocols.rest import prefixed_headers, put_header_members, query_member
from offline.aws.protocols.xml import add_members, parse_payload, parse_scalar, to_bytes
from offline.aws.wire import Headers, Request, Response

_VIRTUAL_HOST_RES = (
    re.compile(r"^(?P<bucket>.+)\.s3(?:[.-][a-z0-9-]+)*\.amazonaws\.com(?:\.cn)?$"),
    re.compile(r"^(?P<bucket>.+)\.localhost$"),
)


STATUS_KEY = "__status__"  # a handler's result may set the HTTP status (206 for ranged GETs)


@dataclass(frozen=True)
class _Route:
    operation: str
    method: str
    kind: str  # "root" | "bucket" | "object"
    markers: tuple[tuple[str, str, str | None], ...]  # (where, name, value): where is "query" or "header"


@dataclass(frozen=True)
class Location:
    bucket: str | None
    key: str | None


class RestXmlProtocol:
    def __init__(self, model: ServiceModel, namespace: str, root_names: dict[str, str] | None = None):
        self.model = model
        self.namespace = namespace
        self.root_names = root_names or {}
        self.routes = [r for r in (_route(model.operation_model(n)) for n in model.operation_names) if r]

    # -- requests --------------------------------------------------------------------------------------

    def locate(self, request: Request) -> Location:
        host = request.host.rsplit(":", 1)[0] if not request.host.startswith("[") else request.host
        path = request.path
        for pattern in _VIRTUAL_HOST_RES:
            match = pattern.match(host.lower())
            if match:
                return Location(match.group("bucket"), path[1:] or None)
        bucket, _, key = path[1:].partition("/")
        return Location(bucket or None, key or None)

    def operation(self, request: Request) -> str:
        where = self.locate(request)
        kind = "object" if where.key else "bucket" if where.bucket else "root"
        query = dict(request.query)
        best: _Route | None = None
        for route in self.routes:
            if route.method != request.method or route.kind != kind:
                continue
            matches = all(_has_marker(m, query, request.headers) for m in route.markers)
            if matches and (best is None or len(route.markers) > len(best.markers)):
                best = route
        if best is None:
            raise NotImplementedByLocalRuntime("s3", f"{request.method} {kind} request")
        return best.operation

    def parse(self, request: Request, op: OperationModel) -> dict[str, Any]:
        shape = op.input_shape
        if shape is None:
            return {}
        where = self.locate(request)
        query = request.query
        params: dict[str, Any] = {}
        payload = shape.serialization.get("payload")
        for name, member in shape.members.items():
            location = member.serialization.get("location")
            wire_name = member.serialization.get("name", name)
            if location == "uri":
                value = where.bucket if wire_name == "Bucket" else where.key if wire_name.startswith("Key") else None
                if value is not None:
                    params[name] = value
            elif location == "querystring" and member.type_name != "map":
                value = query_member(member, wire_name, query, parse_scalar)
                if value is not None:
                    params[name] = value
            elif location == "header" and wire_name in request.headers:
                params[name] = _header_value(member, request.headers[wire_name])
            elif location == "headers":
                found = prefixed_headers(request.headers, wire_name)
                if found:
                    params[name] = found
            elif name == payload:
                if member.type_name in ("blob", "string") or member.serialization.get("streaming"):
                    params[name] = request.body
                else:
                    data = request.read_body()
                    if data.strip():
                        params[name] = parse_payload(member, data)
        return params

    # -- responses -------------------------------------------------------------------------------------

    def serialize(self, op: OperationModel, result: dict | None, ctx: Context) -> Response:
        result = result or {}
        headers = Headers({"x-amz-request-id": ctx.request_id, "x-amz-id-2": ctx.request_id})
        status = result.get(STATUS_KEY) or op.http.get("responseCode", 200)
        shape = op.output_shape
        body: Any = b""
        length = None
        if shape is not None:
            status = put_header_members(shape, result, headers) or status
            payload = shape.serialization.get("payload")
            if payload:
                member = shape.members[payload]
                value = result.get(payload)
                if member.type_name == "structure" and value is not None:
                    root = ET.Element(member.serialization.get("name", payload), xmlns=self.namespace)
                    add_members(root, member, value)
                    body = to_bytes(root)
                elif value is not None:
                    body = value
                    length = result.get("ContentLength")
            elif any(
                result.get(n) is not None and not m.serialization.get("location") for n, m in shape.members.items()
            ):
                root = ET.Element(self.root_names.get(op.name, f"{op.name}Result"), xmlns=self.namespace)
                add_members(root, shape, result)
                body = to_bytes(root)
        if isinstance(body, bytes):
            if body:
                headers["Content-Type"] = "application/xml"
            if "content-length" not in headers:
                headers["Content-Length"] = str(len(body))
            return Response(status, headers, body)
        return Response(status, headers, body, length=length)

    def serialize_error(self, error: ServiceError, ctx: Context, request: Request | None = None) -> Response:
        return rest_xml_error_response(error, ctx, request)


def rest_xml_error_response(error: ServiceError, ctx: Context, request: Request | None = None) -> Response:
    """The one wire form of an S3 error: `<Error><Code/><Message/>…</Error>`; HEAD and 304 carry no body."""
    headers = Headers({"x-amz-request-id": ctx.request_id, "x-amz-id-2": ctx.request_id})
    if error.status == 304 or (request is not None and request.method == "HEAD"):  # S3 sends no body
        headers["Content-Length"] = "0"
        return Response(error.status, headers, b"")
    root = ET.Element("Error")
    ET.SubElement(root, "Code").text = error.code
    ET.SubElement(root, "Message").text = error.message
    for name, value in error.fields.items():
        ET.SubElement(root, name).text = str(value)
    ET.SubElement(root, "RequestId").text = ctx.request_id
    data = to_bytes(root)
    headers.update({"content-type": "application/xml", "content-length": str(len(data))})
    return Response(error.status, headers, data)


def _route(op: OperationModel) -> _Route | None:
    path, _, query = op.http["requestUri"].partition("?")
    kind = {"/": "root", "/{Bucket}": "bucket", "/{Bucket}/{Key+}": "object"}.get(path)
    if kind is None:
        return None
    markers: list[tuple[str, str, str | None]] = []
    for part in filter(None, query.split("&")):
        name, eq, value = part.partition("=")
        markers.append(("query", name, value if eq else None))
    shape = op.input_shape
    for name in shape.required_members if shape is not None else []:
        member = shape.members[name]
        location = member.serialization.get("location")
        if location in ("querystring", "header"):
            wire_name = member.serialization.get("name", name)
            markers.append(("query" if location == "querystring" else "header", wire_name, None))
    return _Route(op.name, op.http["method"], kind, tuple(markers))


def _has_marker(marker: tuple[str, str, str | None], query: dict[str, str], headers: Headers) -> bool:
    where, name, value = marker
    if where == "header":
        return name in headers
    return name in query and (value is None or query[name] == value)


def _header_value(shape: Shape, text: str) -> Any:
    if shape.type_name == "list":
        return [parse_scalar(shape.member, v.strip()) for v in text.split(",") if v.strip()]
    return parse_scalar(shape, text)
