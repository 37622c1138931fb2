"""Shared set-up of the portal tests: flow definitions on a local work team, review inputs, signing in."""

from __future__ import annotations

import json
import re

from review.templates import task_template

ROLE = "arn:aws:iam::123456789012:role/review"
BUCKET = "portal-output"
LABEL = {"name": "diagnosis", "positive": {"value": 1, "name": "malignant"}, "negative": {"value": 0, "name": "benign"}}


def team_arn(team: str = "default", region: str = "us-east-1", account: str = "123456789012") -> str:
    return f"arn:aws:sagemaker:{region}:{account}:workteam/private-crowd/{team}"


def make_flow(
    session,
    name: str = "portal-flow",
    task_count: int = 2,
    team: str = "default",
    template: str | None = None,
    **config,
) -> str:
    """A flow definition with the project's task template (or `template`) on a local team; returns its ARN."""
    sm, s3 = session.client("sagemaker"), session.client("s3")
    if BUCKET not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
        s3.create_bucket(Bucket=BUCKET)
    ui = sm.create_human_task_ui(HumanTaskUiName=f"{name}-ui", UiTemplate={"Content": template or task_template()})
    return sm.create_flow_definition(
        FlowDefinitionName=name,
        RoleArn=ROLE,
        HumanLoopConfig={
            "WorkteamArn": config.pop("WorkteamArn", team_arn(team)),
            "HumanTaskUiArn": ui["HumanTaskUiArn"],
            "TaskCount": task_count,
            "TaskTitle": "Review a prediction",
            "TaskDescription": "Label one uncertain prediction",
            **config,
        },
        OutputConfig={"S3OutputPath": f"s3://{BUCKET}/out"},
    )["FlowDefinitionArn"]


def review_input(**changes) -> dict:
    return {
        "endpoint": "breast-cancer",
        "eventId": "e-1",
        "inferenceId": None,
        "inferenceTime": "2024-05-01T10:00:00Z",
        "rowIndex": 0,
        "reason": "review",
        "probability": 0.62,
        "predictedLabel": 1,
        "features": {"mean radius": 17.99, "mean texture": 10.38},
        "label": LABEL,
        **changes,
    }


def start(session, name: str, flow: str, content: dict | None = None) -> None:
    session.client("sagemaker-a2i-runtime").start_human_loop(
        HumanLoopName=name,
        FlowDefinitionArn=flow,
        HumanLoopInput={"InputContent": json.dumps(content or review_input())},
    )


def label_answer(label: int, predicted: int = 1, reason: str = "") -> dict:
    """What the project's template submits for `label` (as crowd-form: every radio button, the text area)."""
    return {
        "label-positive": {"1": label == 1},
        "label-negative": {"0": label == 0},
        "agree": {"agree": label == predicted},
        "disagree": {"disagree": label != predicted},
        "reason": reason,
    }


def csrf_of(html: str) -> str:
    """The session's CSRF token a signed-in page carries."""
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)


def login_token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
