"""What starts the deploy workflow: the EventBridge rule on the model registry's approvals, and the execution
input its target makes of the event. The local trigger (`offline/deploy/trigger.py`) applies the same
pattern and input transformer to the same event, so an execution starts with the same input on both sides.

    event pattern      {"source": ["aws.sagemaker"], "detail-type": ["SageMaker Model Package State Change"],
                        "detail": {"ModelPackageGroupName": [<group>], "ModelApprovalStatus": ["Approved"]}}
    input transformer  {"ModelPackageArn": <arn>, "ModelPackageVersion": <version>,
                        "ModelPackageGroupName": <group>}   (<x> unquoted: EventBridge inserts the JSON value)

The execution is not named by the rule (an EventBridge target cannot name it): Step Functions gives it a
UUID, and the workflow names what it creates from the package version instead.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime, timezone

SOURCE = "aws.sagemaker"
DETAIL_TYPE = "SageMaker Model Package State Change"
INPUT_PATHS = {
    "arn": "$.detail.ModelPackageArn",
    "version": "$.detail.ModelPackageVersion",
    "group": "$.detail.ModelPackageGroupName",
}
INPUT_TEMPLATE = '{"ModelPackageArn": <arn>, "ModelPackageVersion": <version>, "ModelPackageGroupName": <group>}'
_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.-]+)>")
# the package fields the registry's state-change event carries in its detail
DETAIL_FIELDS = (
    "ModelPackageGroupName",
    "ModelPackageVersion",
    "ModelPackageArn",
    "ModelPackageName",
    "ModelPackageDescription",
    "CreationTime",
    "InferenceSpecification",
    "ModelPackageStatus",
    "ModelApprovalStatus",
    "ApprovalDescription",
    "LastModifiedTime",
)


def rule_name(machine_name: str) -> str:
    return f"{machine_name[:56]}-on-approval"


def event_pattern(group: str) -> dict:
    """Approvals of this group's packages only (AWS's templates match the group; issue #15 of
    aws-samples/sagemaker-custom-project-templates: a rule without the status deploys unapproved packages)."""
    return {
        "source": [SOURCE],
        "detail-type": [DETAIL_TYPE],
        "detail": {"ModelPackageGroupName": [group], "ModelApprovalStatus": ["Approved"]},
    }


def input_transformer() -> dict:
    return {"InputPathsMap": dict(INPUT_PATHS), "InputTemplate": INPUT_TEMPLATE}


def state_change_event(package: dict, region: str, account: str) -> dict:
    """The event the registry emits for a package's new state (its detail: the package's own fields)."""
    detail = {key: package[key] for key in DETAIL_FIELDS if key in package}
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": DETAIL_TYPE,
        "source": SOURCE,
        "account": account,
        "time": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [package.get("ModelPackageArn", "")],
        "detail": detail,
    }


def matches(pattern: dict, event: dict) -> bool:
    """EventBridge's matching for patterns of exact values: every key present, its value one of those listed."""
    for key, wanted in pattern.items():
        if key not in event:
            return False
        if isinstance(wanted, dict):
            if not isinstance(event[key], dict) or not matches(wanted, event[key]):
                return False
        elif event[key] not in wanted:
            return False
    return True


def transform(event: dict, paths: dict[str, str], template: str) -> str:
    """The input transformer: each `<name>` of the template replaced by the value its path selects (a JSON value
    where it stands alone, the bare text inside a JSON string); a path selecting nothing gives null / ""."""
    values = {name: _select(event, path) for name, path in paths.items()}
    out, in_string, escaped, i = [], False, False, 0
    while i < len(template):
        char = template[i]
        match = _PLACEHOLDER.match(template, i) if char == "<" else None
        if match and match.group(1) in values:
            value = values[match.group(1)]
            if in_string:
                text = value if isinstance(value, str) else ("" if value is None else json.dumps(value))
                out.append(json.dumps(text)[1:-1])
            else:
                out.append(json.dumps(value))
            i = match.end()
            continue
        if in_string and not escaped and char == '"':
            in_string = False
        elif not in_string and char == '"':
            in_string = True
        escaped = in_string and char == "\\" and not escaped
        out.append(char)
        i += 1
    return "".join(out)


def _select(event: dict, path: str):
    """Dot-notation paths (`$.detail.X`), the syntax InputPathsMap takes."""
    value = event
    for part in path.removeprefix("$").strip(".").split("."):
        if not part:
            continue
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value
