"""Intrinsic functions (`"X.$": "States.Format('…{}', $.a)"`): AWS's argument syntax and its error.

Arguments are string literals in single quotes (escapes `\\'`, `\\\\`, `\\{`, `\\}`), numbers, true/false/null,
paths (`$.a['b']`, `$$.Execution.Id`) and nested calls. Any failure is `States.IntrinsicFailure`.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import random
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from offline.stepfunctions.errors import INTRINSIC_FAILURE, PathError, StatesError

_NAME = re.compile(r"States\.[A-Za-z0-9]+")
_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?")
_LITERALS = {"true": True, "false": False, "null": None}
_HASHES = {"MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512"}


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple


@dataclass(frozen=True)
class Text:
    value: str  # escapes resolved
    raw: str  # as written, so States.Format can tell `\{` from `{`


@dataclass(frozen=True)
class Path:
    path: str


def failure(message: str) -> StatesError:
    return StatesError(INTRINSIC_FAILURE, message)


@functools.lru_cache(maxsize=1024)
def parse(expression: str) -> Call:
    parser = _Parser(expression)
    call = parser.call()
    parser.skip_spaces()
    if parser.pos != len(expression):
        raise parser.error("unexpected text after the function call")
    return call


def evaluate(expression: str, resolve: Callable[[str], Any]) -> Any:
    """The value of an intrinsic expression; `resolve(path)` reads paths from the state's data."""
    return _call(parse(expression), resolve)


class _Parser:
    def __init__(self, text: str):
        self.text, self.pos = text, 0

    def error(self, what: str) -> StatesError:
        return failure(f"The value of the intrinsic function '{self.text}' is invalid: {what} at position {self.pos}")

    def skip_spaces(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] == " ":
            self.pos += 1

    def call(self) -> Call:
        match = _NAME.match(self.text, self.pos)
        if not match:
            raise self.error("expected a function name States.<Name>")
        self.pos = match.end()
        self.expect("(")
        args: list = []
        self.skip_spaces()
        if self.peek() != ")":
            while True:
                args.append(self.argument())
                self.skip_spaces()
                if self.peek() == ",":
                    self.pos += 1
                    continue
                break
        self.expect(")")
        return Call(match.group(0), tuple(args))

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def expect(self, char: str) -> None:
        self.skip_spaces()
        if self.peek() != char:
            raise self.error(f"expected '{char}'")
        self.pos += 1

    def argument(self):
        self.skip_spaces()
        char = self.peek()
        if char == "'":
            return self.string()
        if char == "$":
            return self.path()
        if self.text.startswith("States.", self.pos):
            return self.call()
        for word, value in _LITERALS.items():
            if self.text.startswith(word, self.pos):
                self.pos += len(word)
                return value
        match = _NUMBER.match(self.text, self.pos)
        if match:
            self.pos = match.end()
            number = match.group(0)
            return float(number) if match.group(1) or match.group(2) else int(number)
        raise self.error("expected an argument")

    def string(self) -> Text:
        self.pos += 1
        value, start = [], self.pos
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == "\\" and self.pos + 1 < len(self.text):
                value.append(self.text[self.pos + 1])
                self.pos += 2
                continue
            if char == "'":
                raw = self.text[start : self.pos]
                self.pos += 1
                return Text("".join(value), raw)
            value.append(char)
            self.pos += 1
        raise self.error("unterminated string")

    def path(self) -> Path:
        start, depth, quote = self.pos, 0, ""
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if quote:
                quote = "" if char == quote else quote
            elif char in "'\"" and depth:
                quote = char
            elif char in "[(":
                depth += 1
            elif char in "])":
                if depth == 0:
                    break
                depth -= 1
            elif char == "," and depth == 0:
                break
            self.pos += 1
        return Path(self.text[start : self.pos].rstrip())


def _call(call: Call, resolve: Callable[[str], Any]) -> Any:
    function = _FUNCTIONS.get(call.name)
    if function is None:
        raise failure(f"The intrinsic function '{call.name}' is not supported")
    if call.name == "States.Format":
        return _format(call, resolve)
    args = [_value(arg, resolve) for arg in call.args]
    try:
        return function(*args)
    except StatesError:
        raise
    except (TypeError, ValueError, AttributeError) as e:
        raise failure(f"Invalid arguments in {call.name}: {e}") from e


def _value(arg: Any, resolve: Callable[[str], Any]) -> Any:
    if isinstance(arg, Call):
        return _call(arg, resolve)
    if isinstance(arg, Text):
        return arg.value
    if isinstance(arg, Path):
        try:
            return resolve(arg.path)
        except PathError as e:
            raise failure(str(e)) from e
    return arg


def _format(call: Call, resolve: Callable[[str], Any]) -> str:
    if not call.args or not isinstance(call.args[0], Text):
        raise failure("States.Format needs a string literal template as its first argument")
    values = [_value(arg, resolve) for arg in call.args[1:]]
    out, raw, i, used = [], call.args[0].raw, 0, 0
    while i < len(raw):
        if raw[i] == "\\" and i + 1 < len(raw):
            out.append(raw[i + 1])
            i += 2
        elif raw.startswith("{}", i):
            if used >= len(values):
                raise failure("States.Format has more placeholders than arguments")
            out.append(_as_text(values[used]))
            used += 1
            i += 2
        else:
            out.append(raw[i])
            i += 1
    if used != len(values):
        raise failure("States.Format has more arguments than placeholders")
    return "".join(out)


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (dict, list)):
        raise failure("States.Format arguments must be strings, numbers, booleans or null")
    return json.dumps(value)


def _array(value: Any, name: str) -> list:
    if not isinstance(value, list):
        raise failure(f"{name} expects an array, got {json.dumps(value)[:200]}")
    return value


def _integer(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value:
        raise failure(f"{name} expects an integer, got {json.dumps(value)[:200]}")
    return int(value)


def _array_range(start: Any, end: Any, step: Any) -> list[int]:
    start, end, step = (_integer(v, "States.ArrayRange") for v in (start, end, step))
    if step == 0:
        raise failure("States.ArrayRange needs a non-zero step")
    values = list(range(start, end + (1 if step > 0 else -1), step))
    if len(values) > 1000:
        raise failure("States.ArrayRange may return at most 1000 items")
    return values


def _array_partition(array: Any, size: Any) -> list[list]:
    array, size = _array(array, "States.ArrayPartition"), _integer(size, "States.ArrayPartition")
    if size <= 0:
        raise failure("States.ArrayPartition needs a positive chunk size")
    return [array[i : i + size] for i in range(0, len(array), size)]


def _array_get_item(array: Any, index: Any) -> Any:
    array, index = _array(array, "States.ArrayGetItem"), _integer(index, "States.ArrayGetItem")
    if not 0 <= index < len(array):
        raise failure(f"States.ArrayGetItem index {index} is out of bounds for an array of {len(array)}")
    return array[index]


def _array_unique(array: Any) -> list:
    seen, out = set(), []
    for item in _array(array, "States.ArrayUnique"):
        key = json.dumps(item, sort_keys=True)
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


def _hash(data: Any, algorithm: Any) -> str:
    name = _HASHES.get(algorithm)
    if name is None:
        raise failure(f"States.Hash algorithm must be one of {', '.join(_HASHES)}")
    text = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    return hashlib.new(name, text.encode()).hexdigest()


def _json_merge(left: Any, right: Any, deep: Any) -> dict:
    if deep is not False:
        raise failure("States.JsonMerge supports only a shallow merge (false)")
    if not isinstance(left, dict) or not isinstance(right, dict):
        raise failure("States.JsonMerge expects two objects")
    return {**left, **right}


def _math_random(start: Any, end: Any, seed: Any = None) -> int:
    start, end = _integer(start, "States.MathRandom"), _integer(end, "States.MathRandom")
    rng = random.Random(_integer(seed, "States.MathRandom")) if seed is not None else random
    return rng.randrange(start, end)


def _string_split(text: Any, delimiters: Any) -> list[str]:
    if not isinstance(text, str) or not isinstance(delimiters, str) or not delimiters:
        raise failure("States.StringSplit expects a string and a non-empty string of delimiters")
    return [part for part in re.split("[" + re.escape(delimiters) + "]", text) if part]


def _string_to_json(text: Any) -> Any:
    if not isinstance(text, str):
        raise failure("States.StringToJson expects a string")
    try:
        return json.loads(text)
    except ValueError as e:
        raise failure(f"States.StringToJson could not parse its argument: {e}") from e


def _base64_decode(text: Any) -> str:
    try:
        return base64.b64decode(text, validate=True).decode()
    except (ValueError, TypeError) as e:
        raise failure(f"States.Base64Decode could not decode its argument: {e}") from e


_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "States.Format": _format,
    "States.StringToJson": _string_to_json,
    "States.JsonToString": lambda value: json.dumps(value, separators=(",", ":")),
    "States.Array": lambda *values: list(values),
    "States.ArrayPartition": _array_partition,
    "States.ArrayContains": lambda array, value: value in _array(array, "States.ArrayContains"),
    "States.ArrayRange": _array_range,
    "States.ArrayGetItem": _array_get_item,
    "States.ArrayLength": lambda array: len(_array(array, "States.ArrayLength")),
    "States.ArrayUnique": _array_unique,
    "States.Base64Encode": lambda text: base64.b64encode(text.encode()).decode(),
    "States.Base64Decode": _base64_decode,
    "States.Hash": _hash,
    "States.JsonMerge": _json_merge,
    "States.MathRandom": _math_random,
    "States.MathAdd": lambda a, b: _integer(a, "States.MathAdd") + _integer(b, "States.MathAdd"),
    "States.StringSplit": _string_split,
    "States.UUID": lambda: str(uuid.uuid4()),
}
