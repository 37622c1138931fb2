"""SageMaker's resource-name rule, in one place: endpoints, variants, configs, schedules, jobs.

`^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$` is the pattern botocore's SageMaker model gives EndpointName,
VariantName, MonitoringScheduleName and the job names. Job code (human-loop starters) uses it too,
so it lives in `processing/`; callers wrap `InvalidName` in their own error type, keeping the cause.
"""

from __future__ import annotations

import re

SAGEMAKER_NAME = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")
MAX_NAME = 63


class InvalidName(ValueError):
    """A name SageMaker would refuse; the message says the rule."""


def check_name(name: object, what: str) -> str:
    """`name` when SageMaker accepts it as `what`, else InvalidName naming the rule."""
    if not isinstance(name, str) or not SAGEMAKER_NAME.fullmatch(name):
        raise InvalidName(
            f"{what} {name!r} is not a valid SageMaker name: 1-63 letters, digits and hyphens, "
            "starting and ending with a letter or digit"
        )
    return name
