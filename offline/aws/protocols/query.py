"""The `query` protocol (STS): form-encoded `Action=<Operation>&Version=…`, XML responses."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree as ET

from botocore.model import OperationModel, ServiceModel

from offline.aws.errors import ServiceError
from offline.aws.protocols import Context
from offline.aws.protocols.xml import add_members, parse_scalar, to_bytes
from offline.aws.wire import Headers, Request, Response


class QueryProtocol:
    def __init__(self, model: ServiceModel):
        self.model = model
        self.namespace = model.metadata.get("xmlNamespace", "")

    def operation(self, request: Request) -> str:
        action = request.form().get("Action")
        if not action:
            raise ServiceError.of("MissingAction", "Missing Action", 400)
        return action

    def parse(self, request: Request, op: OperationModel) -> dict[str, Any]:
        """Top-level scalar members only: enough for the operations answered locally."""
        form = request.form()
        shape = op.input_shape
        if shape is None:
            return {}
        params = {}
        for name, member in shape.members.items():
            key = member.serialization.get("name", name)
            if key in form and member.type_name not in ("structure", "list", "map"):
                params[name] = parse_scalar(member, form[key])
        return params

    def serialize(self, op: OperationModel, result: dict | None, ctx: Context) -> Response:
        root = ET.Element(f"{op.name}Response", xmlns=self.namespace)
        wrapper = op.output_shape.serialization.get("resultWrapper", f"{op.name}Result") if op.output_shape else None
        if wrapper:
            add_members(ET.SubElement(root, wrapper), op.output_shape, result or {})
        ET.SubElement(ET.SubElement(root, "ResponseMetadata"), "RequestId").text = ctx.request_id
        return _xml_response(200, root, ctx)

    def serialize_error(self, error: ServiceError, ctx: Context, request: Request | None = None) -> Response:
        return query_error_response(error, ctx, self.namespace)


def query_error_response(error: ServiceError, ctx: Context, namespace: str = "") -> Response:
    """The one wire form of an error for query (and EC2-style XML) protocols."""
    root = ET.Element("ErrorResponse", xmlns=namespace) if namespace else ET.Element("ErrorResponse")
    node = ET.SubElement(root, "Error")
    ET.SubElement(node, "Type").text = "Sender" if error.sender_fault else "Receiver"
    ET.SubElement(node, "Code").text = error.code
    ET.SubElement(node, "Message").text = error.message
    ET.SubElement(root, "RequestId").text = ctx.request_id
    return _xml_response(error.status, root, ctx)


def _xml_response(status: int, root: ET.Element, ctx: Context) -> Response:
    data = to_bytes(root)
    headers = Headers(
        {"Content-Type": "text/xml", "Content-Length": str(len(data)), "x-amzn-RequestId": ctx.request_id}
    )
    return Response(status, headers, data)
