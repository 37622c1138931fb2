"""Choice rules: comparisons of a Variable with a literal or a `…Path` value, And / Or / Not, the Is* tests.

A comparison whose operands are not of its type is false (as on AWS); a Variable that selects nothing is an
error except under IsPresent.
"""

from __future__ import annotations

import operator
import re
from datetime import datetime
from typing import Any

from offline.stepfunctions.errors import PathError
from offline.stepfunctions.paths import select

_ORDER = {
    "Equals": operator.eq,
    "LessThan": operator.lt,
    "GreaterThan": operator.gt,
    "LessThanEquals": operator.le,
    "GreaterThanEquals": operator.ge,
}
_KINDS = ("String", "Numeric", "Boolean", "Timestamp")
COMPARATORS = frozenset(
    [f"{kind}{op}{suffix}" for kind in _KINDS for op in _ORDER for suffix in ("", "Path")]
    + ["StringMatches", "IsPresent", "IsNull", "IsString", "IsNumeric", "IsBoolean", "IsTimestamp"]
)


def choose(choices: list[dict], data: Any, context: dict) -> str | None:
    """The Next of the first rule that holds, or None."""
    for rule in choices:
        if holds(rule, data, context):
            return rule["Next"]
    return None


def holds(rule: dict, data: Any, context: dict) -> bool:
    if "And" in rule:
        return all(holds(r, data, context) for r in rule["And"])
    if "Or" in rule:
        return any(holds(r, data, context) for r in rule["Or"])
    if "Not" in rule:
        return not holds(rule["Not"], data, context)
    comparator = next((key for key in rule if key in COMPARATORS), None)
    if comparator is None:
        raise PathError(f"The choice rule {rule} has no comparison operator")
    expected = rule[comparator]
    if comparator == "IsPresent":
        try:
            select(rule["Variable"], data, context)
        except PathError:
            return expected is False
        return expected is True
    value = select(rule["Variable"], data, context)
    if comparator.startswith("Is"):
        return _is(comparator[2:], value) == expected
    if comparator.endswith("Path"):
        comparator, expected = comparator[:-4], select(expected, data, context)
    if comparator == "StringMatches":
        return isinstance(value, str) and isinstance(expected, str) and _wildcard(expected).fullmatch(value) is not None
    kind = next(k for k in _KINDS if comparator.startswith(k))
    compare = _ORDER[comparator[len(kind) :]]
    left, right = _typed(kind, value), _typed(kind, expected)
    if left is None or right is None:
        return False
    if kind == "Boolean" and compare is not operator.eq:
        return False
    return compare(left, right)


def _typed(kind: str, value: Any) -> Any:
    if kind == "String":
        return value if isinstance(value, str) else None
    if kind == "Numeric":
        return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    if kind == "Boolean":
        return value if isinstance(value, bool) else None
    return parse_timestamp(value)


def _is(kind: str, value: Any) -> bool:
    if kind == "Null":
        return value is None
    if kind == "String":
        return isinstance(value, str)
    if kind == "Numeric":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "Boolean":
        return isinstance(value, bool)
    return parse_timestamp(value) is not None


_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")


def parse_timestamp(value: Any) -> datetime | None:
    """An RFC 3339 timestamp with an uppercase T and a zone (what AWS accepts), else None."""
    if not isinstance(value, str) or not _TIMESTAMP.fullmatch(value):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _wildcard(pattern: str) -> re.Pattern:
    """StringMatches: `*` matches any run of characters, `\\*` a literal star."""
    parts, i = [], 0
    while i < len(pattern):
        if pattern.startswith("\\*", i) or pattern.startswith("\\\\", i):
            parts.append(re.escape(pattern[i + 1]))
            i += 2
        elif pattern[i] == "*":
            parts.append(".*")
            i += 1
        else:
            parts.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(parts), re.DOTALL)
