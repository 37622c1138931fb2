"""Names and tags of what a deploy creates, after AWS's project templates.

- The endpoint is `<project or model package group>-<stage>` (the template's `${SageMakerProjectName}-${StageName}`).
- Schedules are `<endpoint>-data-quality` / `<endpoint>-model-quality` for both monitor engines (and
  locally), so reports, metric dimensions and alarms keep their names when the engine changes.
- Models, endpoint configs, job definitions, task UIs and flow definitions are immutable on AWS;
  their names end in a hash of their content, so a re-run finds the one it made before and a change
  makes a new one. A2I's task UIs and flow definitions are `<endpoint, lower case>-review-<hash>`:
  A2I accepts only lower-case names (`[a-z0-9](-*[a-z0-9]){0,62}`).
- Tags: `sagemaker:deployment-stage`, plus `sagemaker:project-name` / `-id` when given.
"""

from __future__ import annotations

import hashlib
import json

from pipelines.deploy.errors import DeployInputError
from processing.names import MAX_NAME, InvalidName, check_name

KINDS = ("data-quality", "model-quality")
DIGEST = 10  # hex digits of a content hash in a name
REVIEW_SCHEDULE = "human-review"


def validate_name(name: str, what: str) -> str:
    try:
        return check_name(name, what)
    except InvalidName as e:
        raise DeployInputError(str(e)) from e


def digest(value: object, length: int = DIGEST) -> str:
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
    return suffixed(endpoint, kind)


def review_schedule_name(endpoint: str) -> str:
    """The human-review post-processing schedule: `<endpoint>-human-review`."""
    return suffixed(endpoint, REVIEW_SCHEDULE)


def suffixed(endpoint: str, suffix: str, room: int = 0) -> str:
    """`<endpoint>-<suffix>` leaving `room` characters free; an endpoint name too long keeps a hash of
    itself, so two long endpoint names sharing a beginning never share a name."""
    name = f"{endpoint}-{suffix}"
    if len(name) + room <= MAX_NAME:
        return name
    return bounded(bounded(endpoint, digest(endpoint, 6), MAX_NAME - room - len(suffix) - 1), suffix)


def review_stem(endpoint: str) -> str:
    """`<endpoint, lower case>-review`, the stem of the endpoint's task UIs and flow definitions
    (`<stem>-<hash>`, within A2I's 63 lower-case characters)."""
    return suffixed(endpoint.lower(), "review", room=DIGEST + 1)


def is_content_name(name: str, stem: str) -> bool:
    """Whether `name` is `<stem>-<hash>` as content_name makes it (not another stem's that merely begins so)."""
    rest = name[len(stem) + 1 :] if name.startswith(f"{stem}-") else ""
    return len(rest) == DIGEST and all(c in "0123456789abcdef" for c in rest)


def validate_lowercase_name(name: str, what: str) -> str:
    """A2I's rule: SageMaker's name rule, in lower case only."""
    validate_name(name, what)
    if name != name.lower():
        raise DeployInputError(f"{what} {name!r} must be lower case (Amazon A2I accepts only a-z, 0-9 and hyphens)")
    return name


VERSION_ROOM = 8  # "-v" and up to 6 digits: a group's package versions up to 999,999


def versioned_stem(stem: str) -> str:
    """The part of `<stem>-v<version>-<hash>` before `-v`, cut so the whole fits SageMaker's 63 characters (the
    deploy workflow's names; its IAM policy scopes them to `<versioned stem>-v*`)."""
    return bounded(stem, "0" * DIGEST, MAX_NAME - VERSION_ROOM)[: -DIGEST - 1]


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
