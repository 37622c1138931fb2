"""JSON Lines as Spark's JSON source reads it (Model Monitor's `{"json": {"lines": true}}`).

Spark infers one schema over the whole file, so this reads twice: first the column types (integers
→ long, any float → double, booleans, and anything mixed with text → string; nested objects and
arrays are kept as their JSON text), then the values in batches. Columns come out sorted by name, as
Spark's inferred schemas are. Numbers in a string column keep their JSON text. A line that is not a
JSON object, or one nested more than MAX_DEPTH levels, is an error naming its line number.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ..batch import BOOLEAN_KIND, FRACTIONAL_KIND, INTEGRAL_KIND, TEXT, Batch, ColumnBatch
from ..errors import MonitorInputError

BATCH_ROWS = 65536
MAX_DEPTH = 100  # nested values are kept as their JSON text, rebuilt recursively (two frames a level)
NULL_TYPE, LONG, DOUBLE, BOOL, STRING = "null", "long", "double", "boolean", "string"
_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1


class _IntToken(str):
    """An integer as its JSON text."""


class _FloatToken(str):
    """A non-integer number as its JSON text."""


def parse_line(line: str) -> object:
    """One JSON document with numbers kept as their text (so "1.50" stays "1.50")."""
    return json.loads(line, parse_int=_IntToken, parse_float=_FloatToken)


def value_type(value: object) -> str:
    if value is None:
        return NULL_TYPE
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, _IntToken):
        return LONG if _INT64_MIN <= int(value) <= _INT64_MAX else DOUBLE
    if isinstance(value, _FloatToken):
        return DOUBLE
    return STRING  # strings, and nested objects or arrays (kept as JSON text)


def merge_types(a: str, b: str) -> str:
    """Spark's compatibleType for the primitive types this reader distinguishes."""
    if a == b or b == NULL_TYPE:
        return a
    if a == NULL_TYPE:
        return b
    if {a, b} == {LONG, DOUBLE}:
        return DOUBLE
    return STRING


def infer_schema(path: Path) -> list[tuple[str, str]]:
    types: dict[str, str] = {}
    for _, record in _records(path):
        for key, value in record.items():
            types[key] = merge_types(types.get(key, NULL_TYPE), value_type(value))
    if not types:
        raise MonitorInputError(f"{path} holds no JSON records")
    return sorted(types.items())


def read_batches(path: Path, batch_rows: int = BATCH_ROWS) -> Iterator[Batch]:
    schema = infer_schema(path)
    rows: list[dict] = []
    for _, record in _records(path):
        rows.append(record)
        if len(rows) >= batch_rows:
            yield to_batch(rows, schema)
            rows = []
    if rows:
        yield to_batch(rows, schema)


def to_batch(rows: list[dict], schema: list[tuple[str, str]]) -> Batch:
    """Typed columns from parsed records, following the inferred schema."""
    import pyarrow as pa

    columns = []
    for name, kind in schema:
        cells = [row.get(name) for row in rows]
        valid = np.array([c is not None for c in cells], dtype=bool)
        if kind == LONG:
            values = np.array([int(c) if c is not None else 0 for c in cells], dtype=np.int64)
            columns.append(ColumnBatch(name, INTEGRAL_KIND, values, valid))
        elif kind == DOUBLE:
            values = np.array([float(c) if c is not None else 0.0 for c in cells], dtype=np.float64)
            columns.append(ColumnBatch(name, FRACTIONAL_KIND, values, valid))
        elif kind == BOOL:
            values = np.array([bool(c) for c in cells], dtype=bool)
            columns.append(ColumnBatch(name, BOOLEAN_KIND, values, valid))
        else:
            columns.append(ColumnBatch(name, TEXT, pa.array([_as_text(c) for c in cells], type=pa.string())))
    return Batch(columns, len(rows))


def _as_text(value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value  # _IntToken and _FloatToken are str: their JSON text
    return _compact(value)


def _compact(value: object) -> str:
    """Nested JSON back to compact text, numbers as they were written."""
    if isinstance(value, (_IntToken, _FloatToken)):
        return str(value)
    if isinstance(value, dict):
        return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + _compact(v) for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_compact(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def _too_deep(record: dict) -> bool:
    """Whether a record nests objects or arrays more than MAX_DEPTH levels (walked without recursion)."""
    stack = [(value, 2) for value in record.values() if isinstance(value, (dict, list))]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            return True
        children = value.values() if isinstance(value, dict) else value
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def _records(path: Path) -> Iterator[tuple[int, dict]]:
    try:
        with open(path, encoding="utf-8") as f:
            for number, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                too_deep = f"{path} line {number} nests JSON deeper than {MAX_DEPTH} levels"
                try:
                    record = parse_line(line)
                except json.JSONDecodeError as e:
                    raise MonitorInputError(f"{path} line {number} is not valid JSON ({e.msg})") from None
                except RecursionError:  # deeper than Python's parser goes
                    raise MonitorInputError(too_deep) from None
                if not isinstance(record, dict):
                    raise MonitorInputError(f"{path} line {number} is not a JSON object")
                if _too_deep(record):
                    raise MonitorInputError(too_deep)
                yield number, record
    except UnicodeDecodeError as e:
        raise MonitorInputError(f"{path} is not UTF-8 text (invalid byte at offset {e.start})") from None
    except OSError as e:
        raise MonitorInputError(f"cannot read {path}: {e.strerror or e}") from None
