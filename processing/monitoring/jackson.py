"""JSON laid out as Jackson's DefaultPrettyPrinter lays it out, as Model Monitor's files are.

`"key" : value`, two-space indentation per object level (arrays do not indent: they are inline,
`[ a, b ]`, and objects inside them continue on the same line, `[ {` … `}, {` … `} ]`), `{ }` and
`[ ]` when empty, no trailing newline. Floats print as Java doubles (javanum.py), ints as longs;
NaN and infinities as quoted strings (Jackson's QUOTE_NON_NUMERIC_NUMBERS default). Non-ASCII
text is written as UTF-8; control characters are escaped with upper-case hex, as Jackson does.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from .javanum import java_double

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}


def dumps(value: object) -> str:
    """Serialise dicts (key order kept), lists, str, int, float, bool and None."""
    parts: list[str] = []
    _write(value, 0, parts)
    return "".join(parts)


def _write(value: object, level: int, out: list[str]) -> None:
    if isinstance(value, Mapping):
        _write_object(value, level, out)
    elif isinstance(value, (list, tuple)):
        _write_array(value, level, out)
    else:
        out.append(_scalar(value))


def _write_object(obj: Mapping, level: int, out: list[str]) -> None:
    if not obj:
        out.append("{ }")
        return
    inner = "\n" + "  " * (level + 1)
    out.append("{")
    for i, (key, item) in enumerate(obj.items()):
        out.append(("," if i else "") + inner + _string(str(key)) + " : ")
        _write(item, level + 1, out)
    out.append("\n" + "  " * level + "}")


def _write_array(items: Sequence, level: int, out: list[str]) -> None:
    if not items:
        out.append("[ ]")
        return
    if all(type(item) is float for item in items):  # sketch levels: thousands of doubles
        out.append("[ " + ", ".join(_numbers(items)) + " ]")
        return
    out.append("[ ")
    for i, item in enumerate(items):
        if i:
            out.append(", ")
        _write(item, level, out)
    out.append(" ]")


def _scalar(value: object) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _number(value)
    # numpy scalars and the like
    if hasattr(value, "item"):
        return _scalar(value.item())
    raise TypeError(f"cannot serialise {type(value).__name__} as JSON")


def _numbers(values: Sequence[float]) -> list[str]:
    """Many doubles at once: in [1e-3, 1e7) Java and Python print them alike (NaN fails the test)."""
    return [repr(v) if 1e-3 <= abs(v) < 1e7 else _number(v) for v in values]


def _number(value: float) -> str:
    if math.isnan(value) or math.isinf(value):
        return _string(java_double(value))
    return java_double(value)


def _string(text: str) -> str:
    if text.isprintable() and '"' not in text and "\\" not in text:
        return '"' + text + '"'
    return '"' + "".join(_escape(ch) for ch in text) + '"'


def _escape(ch: str) -> str:
    if ch in _ESCAPES:
        return _ESCAPES[ch]
    if ord(ch) < 0x20:
        return f"\\u{ord(ch):04X}"
    return ch
