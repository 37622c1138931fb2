"""Helpers behind `get-pipeline-definition` and `run-pipeline` (AWS's template conventions).

A pipeline module exposes `get_pipeline(**kwargs)` (and optionally `get_pipeline_custom_tags`), so
the CLIs and the CodeBuild job drive any pipeline by module name.
"""

from __future__ import annotations

import ast
import importlib
import json

DEFAULT_MODULE = "pipelines.build.pipeline"


class CliError(ValueError):
    """A CLI argument is malformed; the message says which and why."""


def parse_struct(text: str | None, what: str, kind: type):
    """`--kwargs` / `--tags`: JSON, or a Python literal as AWS's template accepts (ast.literal_eval)."""
    if not text:
        return kind()
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError) as e:
            raise CliError(f"{what} is neither JSON nor a Python literal: {e}") from None
    if not isinstance(value, kind):
        raise CliError(f"{what} must be a {'JSON object' if kind is dict else 'JSON list'}, not {type(value).__name__}")
    return value


def load_pipeline_module(module_name: str):
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        raise CliError(f"cannot import pipeline module {module_name!r}: {e}") from None
    if not hasattr(module, "get_pipeline"):
        raise CliError(f"module {module_name!r} has no get_pipeline(**kwargs)")
    return module


def get_pipeline_driver(module_name: str, kwargs: dict):
    """The pipeline object the module builds from `kwargs`."""
    return load_pipeline_module(module_name).get_pipeline(**kwargs)


def get_pipeline_custom_tags(module_name: str, kwargs: dict, tags: list) -> list:
    """The module's own tag hook (it adds the SageMaker project's tags), if it has one."""
    module = load_pipeline_module(module_name)
    hook = getattr(module, "get_pipeline_custom_tags", None)
    if hook is None or not kwargs.get("sagemaker_project_arn"):
        return tags
    return hook(tags, kwargs.get("region"), kwargs.get("sagemaker_project_arn"))


def validate_tags(tags: list) -> list:
    for tag in tags:
        if not (isinstance(tag, dict) and set(tag) == {"Key", "Value"}):
            raise CliError(f'each tag must be {{"Key": ..., "Value": ...}}, not {tag!r}')
    return tags
