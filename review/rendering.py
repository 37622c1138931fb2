"""Liquid as A2I renders task templates: autoescape on, plus A2I's filters `skip_autoescape`, `to_json`
and `grant_read_access` (DG:a2i-custom-templates). One home for SageMaker's local RenderUiTemplate and the
reviewer portal, so what a template previews locally is what A2I shows.

Rendering never raises for a bad template: like RenderUiTemplate, it returns the errors (`Code`,
`Message`) beside whatever rendered. Templates are parsed once per distinct content (a small cache).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from liquid import BoundTemplate, Environment, Markup, is_undefined, soft_str
from liquid.exceptions import LiquidError

# Bounds on what one render may cost: A2I's templates are ≤ 128,000 characters, their inputs ≤ 3 MB.
MAX_LOOP_ITERATIONS = 1_000_000
MAX_OUTPUT_BYTES = 32 * 1024 * 1024
_CACHED_TEMPLATES = 64

GrantReadAccess = Callable[[str], str]


@dataclass(frozen=True)
class RenderError:
    """One problem with a template or its input, in the shape of SageMaker's `RenderingError`."""

    code: str
    message: str

    def as_aws(self) -> dict[str, str]:
        return {"Code": self.code, "Message": self.message}


@dataclass(frozen=True)
class Rendered:
    html: str
    errors: list[RenderError] = field(default_factory=list)


class _A2ILiquid(Environment):
    loop_iteration_limit = MAX_LOOP_ITERATIONS
    output_stream_limit = MAX_OUTPUT_BYTES


def _skip_autoescape(value: Any) -> Markup:
    """Output the value as it is (A2I's way to insert trusted HTML, e.g. a table the caller built)."""
    return Markup("" if is_undefined(value) else soft_str(value))


def _to_json(value: Any) -> str:
    """The value as JSON text; still HTML-escaped by autoescape unless `skip_autoescape` follows."""
    return json.dumps(None if is_undefined(value) else value, ensure_ascii=False, default=str)


def _keep(uri: str) -> str:
    return uri


@functools.lru_cache(maxsize=8)
def _environment(grant_read_access: GrantReadAccess) -> Environment:
    env = _A2ILiquid(autoescape=True)
    env.add_filter("skip_autoescape", _skip_autoescape)
    env.add_filter("to_json", _to_json)
    env.add_filter("grant_read_access", lambda value: "" if is_undefined(value) else grant_read_access(soft_str(value)))
    return env


@functools.lru_cache(maxsize=_CACHED_TEMPLATES)
def _parse(content: str, grant_read_access: GrantReadAccess) -> BoundTemplate:
    return _environment(grant_read_access).from_string(content)


def check_template(content: str) -> list[RenderError]:
    """The template's syntax errors (none: it parses)."""
    try:
        _parse(content, _keep)
    except LiquidError as e:
        return [_error(e)]
    return []


def render(content: str, task_input: Any, *, grant_read_access: GrantReadAccess | None = None) -> Rendered:
    """Render a task template for one task: `task.input` is the loop's parsed InputContent.

    `grant_read_access` turns an `s3://` URI into a URL a browser can fetch (A2I presigns it); by default
    URIs are kept as they are. The script tag of A2I's crowd elements is kept: a page that shows the result
    offline swaps it for its own stand-ins.
    """
    try:
        template = _parse(content, grant_read_access or _keep)
        return Rendered(template.render(task={"input": task_input}))
    except LiquidError as e:
        return Rendered("", [_error(e)])


def _error(error: LiquidError) -> RenderError:
    return RenderError(type(error).__name__, str(error))
