"""Names and tags of what a deploy creates, after AWS's project templates.

- The endpoint is `<project or model package group>-<stage>` (the template's `${SageMakerProjectName}-${StageName}`).
- Schedules are `<endpoint>-data-quality` / `<endpoint>-model-quality` for both monitor engines (and
  locally), so reports, metric dimensions and alarms keep their names when the engine changes.
- Models, endpoint configs and job definitions are immutable on AWS; their names end in a hash of
  their content, so a re-run finds the one it made before and a change makes a new one.
- Tags: `sagemaker:deployment-stage`, plus `sagemaker:project-name` / `-id` when given.
"""

from __future__ import annotations

import hashlib
import json

from pipelines.deploy.errors import DeployInputError
from processing.names import MAX_NAME, InvalidName, check_name

KINDS = ("data-quality", "model-quality")


def validate_name(name: str, what: str) -> str:
    try:
        return check_name(name, what)
    except InvalidName as e:
        raise DeployInputError(str(e)) from e


def digest(value: object, length: int = 10) -> str:
    """A short, stable hash of a JSON-able value (key order does not matter)."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def bounded(stem: str, suffix: str, limit: int = MAX_NAME) -> str:
    """`<stem>-<suffix>`, the stem cut (at a letter or digit) so the whole fits in limit characters."""
    room = limit - len(suffix) - 1
    cut = stem[:room].rstrip("-")
    return f"{cut}-{suffix}" if cut else suffix


def default_endpoint_name(project_name: str | None, model_package_group: str, stage: str) -> str:
    stem = project_name or model_package_group
    name = bounded(stem.lower(), stage)
    return validate_name(name, "endpoint name")


def schedule_name(endpoint: str, kind: str) -> str:
    """The monitoring schedule's name; an endpoint name too long for the suffix keeps a hash of itself."""
    if kind not in KINDS:
        raise DeployInputError(f"unknown monitoring kind {kind!r}")
    name = f"{endpoint}-{kind}"
    if len(name) <= MAX_NAME:
        return name
    return bounded(bounded(endpoint, digest(endpoint, 6), MAX_NAME - len(kind) - 1), kind)


def content_name(stem: str, content: object) -> str:
    """`<stem>-<hash of content>`: the same content always gets the same name."""
    return bounded(stem, digest(content))


def deployment_tags(stage: str, project_name: str | None = None, project_id: str | None = None) -> list[dict]:
    tags = [{"Key": "sagemaker:deployment-stage", "Value": stage}]
    if project_name:
        tags.append({"Key": "sagemaker:project-name", "Value": project_name})
    if project_id:
        tags.append({"Key": "sagemaker:project-id", "Value": project_id})
    return tags
