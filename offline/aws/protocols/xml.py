"""Shape-driven XML: serialize output structures and parse request payloads (query and rest-xml protocols)."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any
from xml.etree import ElementTree as ET

from botocore.model import Shape
from botocore.utils import parse_timestamp

from offline.aws.errors import ServiceError


def iso8601(value: Any) -> str:
    """S3/STS body timestamps: 2009-10-12T17:50:30.000Z."""
    moment = _as_datetime(value)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def rfc7231(value: Any) -> str:
    """Header timestamps: Wed, 12 Oct 2009 17:50:00 GMT."""
    return _as_datetime(value).strftime("%a, %d %b %Y %H:%M:%S GMT")


def _as_datetime(value: Any) -> dt.datetime:
    if isinstance(value, (int, float)):
        return dt.datetime.fromtimestamp(value, dt.timezone.utc)
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.timezone.utc) if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    return parse_timestamp(value).astimezone(dt.timezone.utc)


def scalar_text(shape: Shape, value: Any) -> str:
    kind = shape.type_name
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "timestamp":
        return iso8601(value)
    if kind == "blob":
        return base64.b64encode(value if isinstance(value, bytes) else str(value).encode()).decode()
    return str(value)


def add_members(parent: ET.Element, shape: Shape, value: dict) -> None:
    """Append the body members of `value` (headers, status and uri members are skipped) under `parent`."""
    for name, member in shape.members.items():
        if value.get(name) is None or member.serialization.get("location"):
            continue
        _add_value(parent, member.serialization.get("name", name), member, value[name])


def _add_value(parent: ET.Element, name: str, shape: Shape, value: Any) -> None:
    kind = shape.type_name
    if kind == "structure":
        add_members(ET.SubElement(parent, name), shape, value)
    elif kind == "list":
        if shape.serialization.get("flattened"):
            item_name = shape.member.serialization.get("name", name)
            for item in value:
                _add_value(parent, item_name, shape.member, item)
        else:
            container = ET.SubElement(parent, name)
            item_name = shape.member.serialization.get("name", "member")
            for item in value:
                _add_value(container, item_name, shape.member, item)
    elif kind == "map":
        container = parent if shape.serialization.get("flattened") else ET.SubElement(parent, name)
        for key, item in value.items():
            entry = ET.SubElement(container, name if shape.serialization.get("flattened") else "entry")
            ET.SubElement(entry, shape.key.serialization.get("name", "key")).text = str(key)
            _add_value(entry, shape.value.serialization.get("name", "value"), shape.value, item)
    else:
        ET.SubElement(parent, name).text = scalar_text(shape, value)


def to_bytes(root: ET.Element) -> bytes:
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8", xml_declaration=False)


def parse_payload(shape: Shape, data: bytes) -> dict:
    """An XML request payload -> dict by shape (namespaces ignored)."""
    try:
        root = ET.fromstring(data)
    except ET.ParseError as e:
        raise ServiceError.of("MalformedXML", f"The XML you provided was not well-formed: {e}", 400) from None
    return _parse_struct(shape, root)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _parse_struct(shape: Shape, node: ET.Element) -> dict:
    out: dict[str, Any] = {}
    for name, member in shape.members.items():
        xml_name = member.serialization.get("name", name)
        children = [c for c in node if _local(c.tag) == xml_name]
        if not children:
            continue
        if member.type_name == "list" and member.serialization.get("flattened"):
            out[name] = [_parse_value(member.member, c) for c in children]
        else:
            out[name] = _parse_value(member, children[0])
    return out


def _parse_value(shape: Shape, node: ET.Element) -> Any:
    kind = shape.type_name
    if kind == "structure":
        return _parse_struct(shape, node)
    if kind == "list":
        return [_parse_value(shape.member, c) for c in node]
    return parse_scalar(shape, node.text or "")


def parse_scalar(shape: Shape, text: str) -> Any:
    kind = shape.type_name
    try:
        if kind in ("integer", "long"):
            return int(text)
        if kind in ("float", "double"):
            return float(text)
        if kind == "boolean":
            return text.strip().lower() == "true"
        if kind == "timestamp":
            return parse_timestamp(text)
    except (ValueError, TypeError):
        raise ServiceError.of("InvalidArgument", f"Invalid value {text!r} for a {kind}", 400) from None
    return text
