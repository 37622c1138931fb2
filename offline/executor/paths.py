"""Property paths such as `ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri`.

A string index into a list picks the element whose name field matches, as SageMaker Pipelines
resolves `Outputs['train']` against DescribeProcessingJob's list of outputs.
"""

from __future__ import annotations

import re

TOKEN = re.compile(r"""\.?([A-Za-z_][A-Za-z0-9_]*)|\[\s*(?:'([^']*)'|"([^"]*)"|(\d+))\s*\]""")
NAME_FIELDS = ("OutputName", "ChannelName", "MetricName", "InputName", "Name")


class PathError(LookupError):
    """A property path does not lead anywhere in the step's properties."""


def parse(path: str) -> list[str | int]:
    tokens: list[str | int] = []
    position = 0
    while position < len(path):
        match = TOKEN.match(path, position)
        if not match:
            raise PathError(f"cannot parse property path {path!r} at {path[position:]!r}")
        name, single, double, index = match.groups()
        if index is not None:
            tokens.append(int(index))
        elif single is not None:
            tokens.append(single)
        elif double is not None:
            tokens.append(double)
        else:
            tokens.append(name)
        position = match.end()
    return tokens


def lookup(value: object, path: str) -> object:
    current = value
    walked = []
    for token in parse(path):
        walked.append(str(token))
        if (isinstance(current, dict) and token in current) or (
            isinstance(current, list) and isinstance(token, int) and token < len(current)
        ):
            current = current[token]
        elif isinstance(current, list) and isinstance(token, str):
            current = _by_name(current, token, walked)
        else:
            raise PathError(f"no {'.'.join(walked)} in the step's properties")
    return current


def _by_name(items: list, name: str, walked: list[str]) -> object:
    for item in items:
        if isinstance(item, dict) and any(item.get(key) == name for key in NAME_FIELDS):
            return item
    raise PathError(f"no element named {name!r} at {'.'.join(walked[:-1])}")
