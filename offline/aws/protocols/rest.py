"""What the REST protocols (rest-xml, rest-json) share: members that travel in the query string and headers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.model import Shape

from offline.aws.protocols.xml import rfc7231, scalar_text
from offline.aws.wire import Headers


def put_header_members(shape: Shape, result: dict, headers: Headers) -> int | None:
    """Write the output members located in headers (`header`, `headers` prefix maps) into `headers`;
    returns the HTTP status a `statusCode` member sets, if the result has one."""
    status = None
    for name, member in shape.members.items():
        value = result.get(name)
        location = member.serialization.get("location")
        if value is None or location not in ("header", "headers", "statusCode"):
            continue
        wire_name = member.serialization.get("name", name)
        if location == "header":
            headers[wire_name] = rfc7231(value) if member.type_name == "timestamp" else scalar_text(member, value)
        elif location == "headers":
            for key, item in value.items():
                headers[wire_name + key] = item
        else:
            status = int(value)
    return status


def query_member(
    member: Shape, wire_name: str, query: list[tuple[str, str]], parse: Callable[[Shape, str], Any]
) -> Any:
    """An input member from the query string (every value for a list member); None when absent."""
    values = [v for k, v in query if k == wire_name]
    if not values:
        return None
    return [parse(member.member, v) for v in values] if member.type_name == "list" else parse(member, values[0])


def prefixed_headers(headers: Headers, wire_name: str) -> dict[str, str]:
    """A `headers` input member: the request's headers that start with its prefix, the prefix removed."""
    prefix = wire_name.lower()
    return {k[len(prefix) :]: v for k, v in headers.items() if k.startswith(prefix)}
