"""JSONPath in the States language: InputPath, Parameters, ResultSelector, ResultPath, OutputPath.

Paths are evaluated with jsonpath-ng (parsed once, cached). A path that starts with `$$` reads the context
object (Execution, State, StateMachine, Task, Map) instead of the state's input. A definite path (names and
single indexes only) yields one value; any other (wildcards, filters, slices, descendants) yields a list.
"""

from __future__ import annotations

import copy
import functools
import json
from typing import Any

from jsonpath_ng import JSONPath
from jsonpath_ng.exceptions import JSONPathError
from jsonpath_ng.ext import parse
from jsonpath_ng.jsonpath import Child, Fields, Index, Root

from offline.stepfunctions import intrinsics
from offline.stepfunctions.errors import RESULT_PATH_MATCH_FAILURE, PathError, StatesError


@functools.lru_cache(maxsize=2048)
def compile_path(path: str) -> tuple[JSONPath, bool, bool]:
    """(parsed expression, reads the context object, is definite)."""
    if not isinstance(path, str) or not path.startswith("$"):
        raise PathError(f"The path '{path}' is not a JSONPath (it must start with '$')")
    context = path.startswith("$$")
    try:
        expression = parse(path[1:] if context else path)
    except JSONPathError as e:
        raise PathError(f"The path '{path}' is not a valid JSONPath: {e}") from e
    return expression, context, _definite(expression)


def _definite(node: JSONPath) -> bool:
    if isinstance(node, Root):
        return True
    if isinstance(node, Child):
        return _definite(node.left) and _definite(node.right)
    if isinstance(node, Fields):
        return len(node.fields) == 1 and node.fields[0] != "*"
    if isinstance(node, Index):
        return len(node.indices) == 1
    return False


def select(path: str, data: Any, context: dict | None = None) -> Any:
    """The value `path` selects; PathError when a definite path finds nothing."""
    expression, reads_context, definite = compile_path(path)
    source = context if reads_context else data
    if reads_context and source is None:
        raise PathError(f"The path '{path}' reads the context object, which is not available here")
    found = [match.value for match in expression.find(source)]
    if not definite:
        return found
    if not found:
        where = "the context object" if reads_context else f"the input '{_compact(data)}'"
        raise PathError(f"The JSONPath '{path}' could not be found in {where}")
    return found[0]


def apply_input_path(path: str | None, data: Any, context: dict) -> Any:
    """InputPath/OutputPath: absent means `$`, null means an empty object."""
    if path is None:
        return {}
    return select(path, data, context)


def payload(template: Any, data: Any, context: dict) -> Any:
    """Parameters / ResultSelector / ItemSelector: keys ending in `.$` take a path's or an intrinsic's value."""
    if isinstance(template, dict):
        out = {}
        for key, value in template.items():
            if key.endswith(".$") and isinstance(value, str):
                out[key[:-2]] = _dynamic(key, value, data, context)
            else:
                out[key] = payload(value, data, context)
        return out
    if isinstance(template, list):
        return [payload(item, data, context) for item in template]
    return template


def _dynamic(key: str, expression: str, data: Any, context: dict) -> Any:
    if expression.startswith("States."):
        return intrinsics.evaluate(expression, lambda path: select(path, data, context))
    try:
        return select(expression, data, context)
    except PathError as e:
        raise PathError(f"{e} (field '{key}')") from e


def apply_result_path(path: str | None, data: Any, result: Any) -> Any:
    """ResultPath: null discards the result, `$` replaces the input, a reference path places it inside a copy."""
    if path is None:
        return data
    if path == "$":
        return result
    keys = reference_keys(path)
    out = copy.deepcopy(data)
    node = out
    for i, key in enumerate(keys):
        last = i == len(keys) - 1
        if isinstance(key, int):
            if not isinstance(node, list) or not -len(node) <= key < len(node):
                raise _result_path_failure(path, data)
            if last:
                node[key] = result
            else:
                node = node[key]
            continue
        if not isinstance(node, dict):
            raise _result_path_failure(path, data)
        if last:
            node[key] = result
        else:
            node = node.setdefault(key, {})
    return out


@functools.lru_cache(maxsize=512)
def reference_keys(path: str) -> tuple[str | int, ...]:
    """A Reference Path's steps (names and indexes); other JSONPath forms are not allowed where one is needed."""
    expression, reads_context, definite = compile_path(path)
    if reads_context or not definite:
        raise PathError(f"The path '{path}' must be a reference path (names and single indexes from '$')")
    keys: list[str | int] = []

    def walk(node: JSONPath) -> None:
        if isinstance(node, Child):
            walk(node.left)
            walk(node.right)
        elif isinstance(node, Fields):
            keys.append(node.fields[0])
        elif isinstance(node, Index):
            keys.append(node.indices[0])

    walk(expression)
    return tuple(keys)


def _result_path_failure(path: str, data: Any) -> StatesError:
    return StatesError(RESULT_PATH_MATCH_FAILURE, f'Unable to apply ResultPath "{path}" to input "{_compact(data)}"')


def _compact(value: Any) -> str:
    text = json.dumps(value, separators=(",", ":"), default=str)
    return text if len(text) <= 1000 else text[:1000] + "…"
