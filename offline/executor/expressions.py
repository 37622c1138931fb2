"""Resolve the definition's expressions against an execution's state.

`{"Get": "Parameters.X"}`, `{"Get": "Execution.PipelineExecutionId"}`,
`{"Get": "Steps.S.<property path>"}`, `{"Get": "Steps.S.PropertyFiles.F"}` (with JsonGet),
`{"Std:Join": {"On": sep, "Values": [...]}}` and `{"Std:JsonGet": {"PropertyFile": ..., "Path": ...}}`,
plus the condition types of ConditionStep. `references()` finds which steps a value reads, which
is how data dependencies become scheduling dependencies.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator

from offline.executor import paths

JSON_PATH_TOKEN = re.compile(r"""([^.\[\]]+)|\[(\d+)\]|\['([^']*)'\]""")


class ExpressionError(ValueError):
    """An expression cannot be resolved (unknown parameter, missing property, bad JsonGet path)."""


class Resolver:
    def __init__(
        self,
        parameters: dict[str, object],
        execution: dict[str, object],
        step_properties: Callable[[str], dict],
        property_file: Callable[[str, str], object],
    ):
        self.parameters = parameters
        self.execution = execution
        self.step_properties = step_properties
        self.property_file = property_file

    def resolve(self, value: object) -> object:
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if set(value) == {"Get"}:
            return self._get(value["Get"])
        if set(value) == {"Std:Join"}:
            join = value["Std:Join"]
            return str(join.get("On", "")).join(_text(self.resolve(v)) for v in join.get("Values", []))
        if set(value) == {"Std:JsonGet"}:
            return self._json_get(value["Std:JsonGet"])
        return {key: self.resolve(v) for key, v in value.items()}

    def condition(self, condition: dict) -> bool:
        kind = condition.get("Type")
        if kind == "Not":
            return not self.condition(condition["Condition"])
        if kind == "Or":
            return any(self.condition(c) for c in condition["Conditions"])
        if kind == "In":
            query = self.resolve(condition["QueryValue"])
            return any(_equal(query, self.resolve(v)) for v in condition["Values"])
        left, right = self.resolve(condition.get("LeftValue")), self.resolve(condition.get("RightValue"))
        compare = COMPARISONS.get(kind)
        if compare is None:
            raise ExpressionError(f"condition type {kind!r} is not supported")
        try:
            return compare(left, right)
        except TypeError:
            raise ExpressionError(f"cannot compare {left!r} with {right!r} ({kind})") from None

    def _get(self, reference: str) -> object:
        scope, _, rest = reference.partition(".")
        if scope == "Parameters":
            if rest not in self.parameters:
                raise ExpressionError(f"unknown parameter {rest!r}")
            return self.parameters[rest]
        if scope == "Execution":
            if rest not in self.execution:
                raise ExpressionError(f"unknown execution variable {rest!r}")
            return self.execution[rest]
        if scope == "Steps":
            step, _, path = rest.partition(".")
            try:
                return paths.lookup(self.step_properties(step), path)
            except paths.PathError as e:
                raise ExpressionError(f"Steps.{step}: {e}") from None
        raise ExpressionError(f"cannot resolve {reference!r}")

    def _json_get(self, spec: dict) -> object:
        source = spec.get("PropertyFile")
        if isinstance(source, dict):
            source = source.get("Get", "")
        match = re.fullmatch(r"Steps\.([^.]+)\.PropertyFiles\.(.+)", str(source))
        if not match:
            raise ExpressionError(f"JsonGet needs a step's property file, not {source!r}")
        document = self.property_file(match.group(1), match.group(2))
        return json_path(document, spec.get("Path", ""))


def json_path(document: object, path: str) -> object:
    """JsonGet's path: dotted keys and [n] list indexes, e.g. `binary_classification_metrics.auc.value`."""
    current = document
    for key, index, quoted in JSON_PATH_TOKEN.findall(path):
        token = int(index) if index else (quoted or key)
        try:
            current = current[token]
        except (KeyError, IndexError, TypeError):
            raise ExpressionError(f"JsonGet path {path!r} has no {token!r}") from None
    return current


def references(value: object) -> Iterator[str]:
    """Names of the steps a definition value reads (through Get or JsonGet)."""
    if isinstance(value, list):
        for v in value:
            yield from references(v)
    elif isinstance(value, dict):
        get = value.get("Get")
        if isinstance(get, str) and get.startswith("Steps."):
            yield get.split(".")[1]
        for v in value.values():
            yield from references(v)


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def _number(value: object) -> object:
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _equal(left: object, right: object) -> bool:
    return _number(left) == _number(right)


COMPARISONS: dict[str, Callable[[object, object], bool]] = {
    "Equals": _equal,
    "GreaterThan": lambda a, b: _number(a) > _number(b),
    "GreaterThanOrEqualTo": lambda a, b: _number(a) >= _number(b),
    "LessThan": lambda a, b: _number(a) < _number(b),
    "LessThanOrEqualTo": lambda a, b: _number(a) <= _number(b),
}
