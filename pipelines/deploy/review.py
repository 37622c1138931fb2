"""`--review a2i`: the endpoint's human review on Amazon A2I, in the order that never leaves the
post-processing schedule pointing at something that does not exist:

task UI → flow definition (awaited until Active) → the starter's code bundle → the hourly schedule,
created or re-pointed at the flow definition → the endpoint's replaced flow definitions and task UIs
deleted once nothing points at them (pipelines/deploy/review_resources.py says when that is).
"""

from __future__ import annotations

from pipelines.deploy.changes import Change
from pipelines.deploy.code_bundle import CodeBundle, upload_bundle
from pipelines.deploy.review_resources import (
    ensure_flow_definition,
    ensure_human_task_ui,
    flow_definition_request,
    human_task_ui_request,
    remove_replaced,
)
from pipelines.deploy.review_schedule import job_name_prefix, review_schedule_request, starter_job_template
from pipelines.deploy.review_spec import ReviewSpec
from pipelines.deploy.scheduler_target import ensure_schedule
from pipelines.images import xgboost_image


def deploy_review(
    clients,
    spec: ReviewSpec,
    bundle: CodeBundle,
    code_prefix: str,
    scheduler_role_arn: str,
    active_wait: dict | None,
    deletion_wait: dict,
) -> list[Change]:
    """Create or reuse the review resources, point the schedule at them, remove what they replaced.

    `active_wait` None: do not wait for a new flow definition to be Active (`--no-wait`)."""
    ui = human_task_ui_request(spec)
    changes = [ensure_human_task_ui(clients.sagemaker, ui)]
    flow = flow_definition_request(spec)
    change, flow_arn = ensure_flow_definition(clients.sagemaker, flow, active_wait)
    changes.append(change)
    code, uploads = upload_bundle(clients.s3, bundle, code_prefix)
    changes += uploads
    template = starter_job_template(spec, code, xgboost_image(spec.region), flow_arn)
    request = review_schedule_request(spec, template, scheduler_role_arn)
    changes.append(ensure_schedule(clients.scheduler, request, "CreateProcessingJob (start_human_loops.py)"))
    changes += remove_replaced(
        clients.sagemaker,
        clients.a2i,
        spec,
        ui["HumanTaskUiName"],
        flow["FlowDefinitionName"],
        job_name_prefix(spec),
        deletion_wait,
    )
    return changes
