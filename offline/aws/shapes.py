"""Work with botocore's own service models: load them, convert values to and from the wire by shape, and
validate requests the way AWS does.

Validation is two passes: botocore's `ParamValidator` (types, required members, unknown members; its
wording), then the constraints the model declares that botocore leaves to the service (enum values,
regular-expression patterns, maximum lengths and ranges), worded as AWS words them:
`1 validation error detected: Value 'X' at 'modelApprovalStatus' failed to satisfy constraint: Member
must satisfy enum value set: [Approved, Rejected, PendingManualApproval]`.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import re
import threading
import unicodedata
from typing import Any

import botocore.session
from botocore.model import OperationModel, ServiceModel, Shape
from botocore.utils import parse_timestamp
from botocore.validate import ParamValidator

from offline.aws.errors import SerializationException

_SESSION_LOCK = threading.Lock()
_SESSION = None


def _session() -> botocore.session.Session:
    """The one botocore session models are read from; call with _SESSION_LOCK held (it is not thread-safe)."""
    global _SESSION
    if _SESSION is None:
        _SESSION = botocore.session.get_session()
    return _SESSION


@functools.cache
def service_model(name: str) -> ServiceModel:
    """botocore's model of a service (loaded once per process; the SageMaker one is large)."""
    with _SESSION_LOCK:
        return _session().get_service_model(name)


@functools.cache
def is_service(name: str) -> bool:
    """Whether botocore has a model for service `name` (lists its data folders; loads no model)."""
    with _SESSION_LOCK:
        return name in _session().get_available_services()


def operation_model(service: str, operation: str) -> OperationModel:
    return service_model(service).operation_model(operation)


# -- values on the wire (JSON protocols) ---------------------------------------------------------------


def from_wire_json(shape: Shape | None, value: Any) -> Any:
    """JSON-decoded request members -> Python values botocore expects (datetime, bytes)."""
    if shape is None or value is None:
        return value
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        return {k: from_wire_json(shape.members[k], v) if k in shape.members else v for k, v in value.items()}
    if kind == "list" and isinstance(value, list):
        return [from_wire_json(shape.member, v) for v in value]
    if kind == "map" and isinstance(value, dict):
        return {k: from_wire_json(shape.value, v) for k, v in value.items()}
    if kind == "timestamp" and isinstance(value, (int, float, str)) and not isinstance(value, bool):
        try:
            return parse_timestamp(value)
        except (ValueError, TypeError):
            return value  # ParamValidator reports it
        except (OverflowError, RuntimeError, OSError):  # out of any calendar: botocore's checks would crash too
            raise SerializationException(f"Timestamp {str(value)[:40]!r} is out of range") from None
    if kind == "blob" and isinstance(value, str):
        try:
            return base64.b64decode(value, validate=True)
        except ValueError:
            return value
    return value


def to_wire_json(shape: Shape | None, value: Any) -> Any:
    """Python or stored values -> JSON members of the output shape (members the shape lacks are dropped)."""
    if shape is None or value is None:
        return value
    kind = shape.type_name
    if kind == "structure":
        out = {}
        for name, member in shape.members.items():
            if name in value and value[name] is not None:
                out[name] = to_wire_json(member, value[name])
        return out
    if kind == "list":
        return [to_wire_json(shape.member, v) for v in value]
    if kind == "map":
        return {k: to_wire_json(shape.value, v) for k, v in value.items()}
    if kind == "timestamp":
        return _timestamp(shape, value)
    if kind == "blob":
        return base64.b64encode(value if isinstance(value, bytes) else str(value).encode()).decode()
    return value


def _timestamp(shape: Shape, value: Any) -> Any:
    """A timestamp as the member's `timestampFormat` trait asks (the A2I runtime's CreationTime is
    iso8601); epoch seconds otherwise, the JSON protocols' default."""
    from offline.aws.protocols.xml import iso8601, rfc7231

    fmt = shape.serialization.get("timestampFormat")
    if fmt == "iso8601":
        return iso8601(value)
    if fmt == "rfc822":
        return rfc7231(value)
    return epoch_seconds(value)


def epoch_seconds(value: Any) -> float | int:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return round(value.timestamp(), 3)
    if isinstance(value, (int, float)):
        return value
    return round(parse_timestamp(value).timestamp(), 3)


def to_plain_json(value: Any) -> Any:
    """Python request values -> JSON-storable ones (datetimes as epoch seconds, bytes as base64)."""
    if isinstance(value, dict):
        return {k: to_plain_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain_json(v) for v in value]
    if isinstance(value, dt.datetime):
        return epoch_seconds(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return value


# -- validation ----------------------------------------------------------------------------------------


def validation_errors(shape: Shape | None, params: dict) -> str | None:
    """A message describing everything wrong with `params` for `shape`, or None if it is valid."""
    if shape is None:
        return None if not params else "This operation takes no parameters"
    report = ParamValidator().validate(params, shape)
    if report.has_errors():
        return report.generate_report()
    problems: list[str] = []
    _check(shape, params, "", problems)
    if not problems:
        return None
    count = len(problems)
    return f"{count} validation error{'s' if count > 1 else ''} detected: " + "; ".join(problems)


def _check(shape: Shape, value: Any, path: str, problems: list[str]) -> None:
    meta = shape.metadata
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        for name, member in shape.members.items():
            if name in value and value[name] is not None:
                _check(member, value[name], _join(path, name), problems)
        return
    if kind == "list" and isinstance(value, list):
        _check_size(meta, len(value), value, path, problems)
        for i, item in enumerate(value, 1):
            _check(shape.member, item, f"{path}.{i}.member", problems)
        return
    if kind == "map" and isinstance(value, dict):
        _check_size(meta, len(value), value, path, problems)
        for key, item in value.items():
            _check(shape.key, key, f"{path}.key", problems)
            _check(shape.value, item, f"{path}.{key}.member", problems)
        return
    if kind == "string" and isinstance(value, str):
        if shape.enum and value not in shape.enum:
            problems.append(_fail(value, path, f"Member must satisfy enum value set: [{', '.join(shape.enum)}]"))
            return
        _check_size(meta, len(value), value, path, problems)
        pattern = meta.get("pattern")
        compiled = _compiled_pattern(pattern) if pattern else None
        if compiled is not None and not compiled.fullmatch(value):
            problems.append(_fail(value, path, f"Member must satisfy regular expression pattern: {pattern}"))
        return
    if kind in ("integer", "long", "float", "double") and isinstance(value, (int, float)):
        if "min" in meta and value < meta["min"]:
            problems.append(_fail(value, path, f"Member must have value greater than or equal to {meta['min']}"))
        if "max" in meta and value > meta["max"]:
            problems.append(_fail(value, path, f"Member must have value less than or equal to {meta['max']}"))


def _check_size(meta: dict, size: int, value: Any, path: str, problems: list[str]) -> None:
    if "min" in meta and size < meta["min"]:
        problems.append(_fail(value, path, f"Member must have length greater than or equal to {meta['min']}"))
    if "max" in meta and size > meta["max"]:
        problems.append(_fail(value, path, f"Member must have length less than or equal to {meta['max']}"))


def _join(path: str, name: str) -> str:
    camel = name[:1].lower() + name[1:]
    return f"{path}.{camel}" if path else camel


def _fail(value: Any, path: str, constraint: str) -> str:
    return f"Value '{_java_repr(value)}' at '{path}' failed to satisfy constraint: {constraint}"


def _java_repr(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_java_repr(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={_java_repr(v)}" for k, v in value.items()) + "}"
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


# -- Java regular expressions (as AWS writes them) in Python -------------------------------------------

_CATEGORY_RE = re.compile(r"\\p\{([A-Z][a-z]?)\}")
_QUANTIFIED_END_RE = re.compile(r"\$\{\d+(,\d*)?\}")


@functools.lru_cache(maxsize=512)
def _compiled_pattern(pattern: str) -> re.Pattern | None:
    """Compile a model pattern; `\\p{L}`-style Unicode classes become explicit ranges.

    Patterns Python cannot express are skipped (None) rather than rejecting valid input.
    """
    translated = _QUANTIFIED_END_RE.sub("$", pattern)
    if "\\p{" in translated:
        translated = _expand_categories(translated)
    try:
        return re.compile(translated)
    except re.error:
        return None


def _expand_categories(pattern: str) -> str:
    out, in_class, i = [], False, 0
    while i < len(pattern):
        ch = pattern[i]
        match = _CATEGORY_RE.match(pattern, i) if ch == "\\" else None
        if match:
            ranges = _category_ranges(match.group(1))
            out.append(ranges if in_class else f"[{ranges}]")
            i = match.end()
            continue
        if ch == "\\":
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if ch == "[" and not in_class:
            in_class = True
        elif ch == "]" and in_class:
            in_class = False
        out.append(ch)
        i += 1
    return "".join(out)


@functools.cache
def _category_ranges(category: str) -> str:
    """Character-class body for a Unicode general category (exact in the BMP; astral planes admitted)."""
    ranges: list[tuple[int, int]] = []
    for code in range(0x10000):
        if 0xD800 <= code <= 0xDFFF:
            continue
        if unicodedata.category(chr(code)).startswith(category):
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1] = (ranges[-1][0], code)
            else:
                ranges.append((code, code))
    body = "".join(_escape(a) if a == b else f"{_escape(a)}-{_escape(b)}" for a, b in ranges)
    if category[0] in "LMNSP":
        body += "\\U00010000-\\U0010FFFF"
    return body


def _escape(code: int) -> str:
    return f"\\u{code:04x}"
