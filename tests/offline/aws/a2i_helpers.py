"""Shared set-up of the A2I tests: a task UI and a flow definition made through boto3's sagemaker client."""

from __future__ import annotations

import json

ROLE = "arn:aws:iam::123456789012:role/review"
WORKTEAM = "arn:aws:sagemaker:us-east-1:123456789012:workteam/private-crowd/reviewers"
BUCKET = "review-output"
TEMPLATE = (
    '<script src="https://assets.crowd.aws/crowd-html-elements.js"></script>'
    "<crowd-form><p>{{ task.input.text }}</p></crowd-form>"
)


def make_flow(sm, s3=None, name: str = "review-flow", task_count: int = 1, ui: str | None = None, **config) -> str:
    """A flow definition writing to s3://review-output/out; returns its ARN."""
    if s3 is not None:
        s3.create_bucket(Bucket=BUCKET)
    if ui is None:
        ui = sm.create_human_task_ui(HumanTaskUiName=f"{name}-ui", UiTemplate={"Content": TEMPLATE})["HumanTaskUiArn"]
    return sm.create_flow_definition(
        FlowDefinitionName=name,
        RoleArn=ROLE,
        HumanLoopConfig={
            "WorkteamArn": WORKTEAM,
            "HumanTaskUiArn": ui,
            "TaskCount": task_count,
            "TaskTitle": "Review a prediction",
            "TaskDescription": "Label one uncertain prediction",
            **config,
        },
        OutputConfig={"S3OutputPath": f"s3://{BUCKET}/out"},
    )["FlowDefinitionArn"]


def loop_input(**fields) -> dict:
    return {"InputContent": json.dumps({"text": "check <b>this</b>", **fields})}
