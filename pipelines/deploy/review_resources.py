"""Amazon A2I's two resources for an endpoint: the worker task UI (HumanTaskUi) and the flow
definition that sends each human loop to the private work team with that UI.

SageMaker has no update call for either, so both are named `<endpoint>-review-<hash of content>`:
an unchanged one is found and reused, a changed one is created beside the old. Request builders are
pure (settings → request dict, usable as Step Functions task Parameters); `ensure_*` apply them.

Replacing: the new UI and flow definition are created first, the post-processing schedule is pointed
at the new flow definition (pipelines/deploy/review.py), and only then `remove_replaced` deletes the
endpoint's older ones, once nothing points at them:
- a flow definition is kept while a post-processing job is running (it may still start loops with
  it) or while one of its human loops is InProgress/Stopping: A2I does not refuse the deletion, it
  stops and deletes the loops no reviewer has started (AWS docs, "Delete a Flow Definition"), which
  would lose those reviews. A deletion AWS refuses (ResourceInUse) is kept too; a later deploy retries;
- a task UI is kept while a flow definition of this endpoint that still exists points at it
  (DescribeFlowDefinition's HumanLoopConfig.HumanTaskUiArn), a deleted one being awaited a while.
"""

from __future__ import annotations

import time

from botocore.exceptions import ClientError

from pipelines.deploy.changes import CREATED, DELETED, UNCHANGED, Change
from pipelines.deploy.endpoint import _call
from pipelines.deploy.errors import DeployFailed, client_error_text, error_code
from pipelines.deploy.names import content_name, is_content_name, validate_lowercase_name
from pipelines.deploy.review_spec import ReviewSpec

UI, FLOW = "HumanTaskUi", "FlowDefinition"
NOT_FOUND = ("ResourceNotFound", "ResourceNotFoundException")
LOOPS_NOT_ENDED = ("InProgress", "Stopping")
PAGE = 100


def human_task_ui_request(spec: ReviewSpec) -> dict:
    """CreateHumanTaskUi: the Liquid worker template, named by its content."""
    body = {"UiTemplate": {"Content": spec.settings.task_template}}
    name = validate_lowercase_name(content_name(spec.stem, body), "task UI name")
    return {"HumanTaskUiName": name, **body, "Tags": spec.tags}


def flow_definition_request(spec: ReviewSpec) -> dict:
    """CreateFlowDefinition for a custom task type (no activation conditions: every StartHumanLoop
    makes a loop; processing/start_human_loops.py chooses which predictions), named by its content."""
    settings = spec.settings
    ui_arn = spec.arn(f"human-task-ui/{human_task_ui_request(spec)['HumanTaskUiName']}")
    body = {
        "HumanLoopConfig": {
            "WorkteamArn": settings.workteam_arn,
            "HumanTaskUiArn": ui_arn,
            "TaskTitle": settings.task_title,
            "TaskDescription": settings.task_description,
            "TaskCount": settings.task_count,
            "TaskAvailabilityLifetimeInSeconds": settings.task_availability_seconds,
            "TaskTimeLimitInSeconds": settings.task_time_limit_seconds,
        },
        "OutputConfig": {"S3OutputPath": spec.output_path},
        "RoleArn": spec.flow_role_arn,
    }
    name = validate_lowercase_name(content_name(spec.stem, body), "flow definition name")
    return {"FlowDefinitionName": name, **body, "Tags": spec.tags}


def ensure_human_task_ui(sagemaker, request: dict) -> Change:
    name = request["HumanTaskUiName"]
    current = _describe(sagemaker.describe_human_task_ui, HumanTaskUiName=name)
    if current is not None:
        if current.get("HumanTaskUiStatus") == "Deleting":
            raise DeployFailed(
                f"task UI {name} (this template's) is being deleted by an earlier deploy; re-run once it is gone"
            )
        return Change(UI, name, UNCHANGED, "same template")
    _call(sagemaker.create_human_task_ui, **request)
    return Change(UI, name, CREATED, f"{len(request['UiTemplate']['Content'])} characters of Liquid")


def ensure_flow_definition(sagemaker, request: dict, wait: dict | None) -> tuple[Change, str]:
    """Create the flow definition unless it exists; with `wait`, until it is Active (the schedule
    must not start loops with one still Initializing). Returns the change and its ARN."""
    name = request["FlowDefinitionName"]
    current = _describe(sagemaker.describe_flow_definition, FlowDefinitionName=name)
    if current is None:
        arn = _call(sagemaker.create_flow_definition, **request)["FlowDefinitionArn"]
        change = Change(FLOW, name, CREATED, f"work team {request['HumanLoopConfig']['WorkteamArn'].split('/')[-1]}")
        status = "Initializing"
    else:
        arn = current.get("FlowDefinitionArn", "")
        change = Change(FLOW, name, UNCHANGED, "same work team, task UI, task settings, output and role")
        status = _usable(current)
    if wait is not None and status != "Active":
        _wait_active(sagemaker, name, wait)
    return change, arn


def remove_replaced(
    sagemaker, a2i, spec: ReviewSpec, ui_name: str, flow_name: str, job_prefix: str, wait: dict
) -> list[Change]:
    """Delete the endpoint's older flow definitions and task UIs that nothing points at any more."""
    flows = [
        f
        for f in _list(sagemaker, "ListFlowDefinitions", "FlowDefinitionSummaries")
        if is_content_name(f["FlowDefinitionName"], spec.stem) and f["FlowDefinitionName"] != flow_name
    ]
    changes, remaining = [], []
    running = _running_jobs(sagemaker, job_prefix) if flows else []
    for flow in flows:
        change, gone = _remove_flow(sagemaker, a2i, flow, flow_name, running, wait)
        changes.append(change)
        if not gone:
            remaining.append(flow["FlowDefinitionName"])
    uis = [
        u["HumanTaskUiName"]
        for u in _list(sagemaker, "ListHumanTaskUis", "HumanTaskUiSummaries")
        if is_content_name(u["HumanTaskUiName"], spec.stem) and u["HumanTaskUiName"] != ui_name
    ]
    if uis:
        used = _uis_in_use(sagemaker, remaining)
        changes += [_remove_ui(sagemaker, ui, used.get(ui)) for ui in uis]
    return changes


def _remove_flow(sagemaker, a2i, flow: dict, current: str, running: list[str], wait: dict) -> tuple[Change, bool]:
    name, arn = flow["FlowDefinitionName"], flow["FlowDefinitionArn"]
    if flow.get("FlowDefinitionStatus") == "Deleting":
        return Change(FLOW, name, UNCHANGED, "being deleted: reviewers are finishing its tasks"), False
    if running:
        why = f"post-processing job {running[0]} is running and may still start loops with it"
        return Change(FLOW, name, UNCHANGED, f"kept: {why}; a later deploy deletes it"), False
    busy = _loop_in_progress(a2i, arn)
    if busy:
        why = (
            f"human loop {busy} is not finished (deleting the flow definition would cancel the loops "
            "no reviewer has started)"
        )
        return Change(FLOW, name, UNCHANGED, f"kept: {why}; a later deploy deletes it"), False
    try:
        sagemaker.delete_flow_definition(FlowDefinitionName=name)
    except ClientError as e:
        if error_code(e) in NOT_FOUND:
            return Change(FLOW, name, UNCHANGED, "already gone"), True
        return Change(
            FLOW,
            name,
            UNCHANGED,
            f"kept: DeleteFlowDefinition refused ({client_error_text(e)}); a later deploy retries",
        ), False
    gone = _wait_gone(sagemaker, name, wait)
    detail = f"replaced by {current}" + ("" if gone else "; still Deleting (reviewers are finishing tasks)")
    return Change(FLOW, name, DELETED, detail), gone


def _remove_ui(sagemaker, name: str, used_by: str | None) -> Change:
    if used_by:
        return Change(UI, name, UNCHANGED, f"kept: flow definition {used_by} still uses it; a later deploy deletes it")
    try:
        sagemaker.delete_human_task_ui(HumanTaskUiName=name)
    except ClientError as e:
        if error_code(e) in NOT_FOUND:
            return Change(UI, name, UNCHANGED, "already gone")
        return Change(
            UI, name, UNCHANGED, f"kept: DeleteHumanTaskUi refused ({client_error_text(e)}); a later deploy retries"
        )
    return Change(UI, name, DELETED, "no flow definition uses it")


def _uis_in_use(sagemaker, flows: list[str]) -> dict[str, str]:
    """{task UI name: a flow definition still pointing at it} for the flow definitions that remain."""
    used = {}
    for flow in flows:
        current = _describe(sagemaker.describe_flow_definition, FlowDefinitionName=flow)
        ui_arn = ((current or {}).get("HumanLoopConfig") or {}).get("HumanTaskUiArn")
        if ui_arn:
            used.setdefault(ui_arn.rsplit("/", 1)[-1], flow)
    return used


def _loop_in_progress(a2i, flow_arn: str) -> str | None:
    """The name of a human loop of the flow definition that has not ended, newest first; None when all ended."""
    paginator = a2i.get_paginator("list_human_loops")
    pages = paginator.paginate(FlowDefinitionArn=flow_arn, SortOrder="Descending", PaginationConfig={"PageSize": PAGE})
    try:
        for page in pages:
            for loop in page.get("HumanLoopSummaries", []):
                if loop.get("HumanLoopStatus") in LOOPS_NOT_ENDED:
                    return loop.get("HumanLoopName", "?")
    except ClientError as e:
        if error_code(e) in NOT_FOUND:  # the flow definition is gone already
            return None
        raise DeployFailed(f"ListHumanLoops of {flow_arn} failed: {client_error_text(e)}") from None
    return None


def _running_jobs(sagemaker, prefix: str) -> list[str]:
    """Post-processing jobs of this endpoint still running (`<prefix>-<execution id>`)."""
    try:
        found = sagemaker.list_processing_jobs(NameContains=prefix, StatusEquals="InProgress", MaxResults=PAGE)
    except ClientError as e:
        raise DeployFailed(f"ListProcessingJobs failed: {client_error_text(e)}") from None
    names = [j.get("ProcessingJobName", "") for j in found.get("ProcessingJobSummaries", [])]
    return [n for n in names if n.startswith(f"{prefix}-")]


def _list(sagemaker, operation: str, key: str) -> list[dict]:
    from botocore import xform_name

    pages = sagemaker.get_paginator(xform_name(operation)).paginate(PaginationConfig={"PageSize": PAGE})
    try:
        return [item for page in pages for item in page.get(key, [])]
    except ClientError as e:
        raise DeployFailed(
            f"{operation} failed: {client_error_text(e)}. The review resources are in place; "
            "removing the ones they replaced did not run: re-run the deploy"
        ) from None


def _usable(current: dict) -> str:
    status = current.get("FlowDefinitionStatus", "")
    name = current.get("FlowDefinitionName", "")
    if status == "Failed":
        raise DeployFailed(
            f"flow definition {name} is Failed ({current.get('FailureReason') or 'no reason given'}); "
            f"delete it (aws sagemaker delete-flow-definition --flow-definition-name {name}) and re-run the deploy"
        )
    if status == "Deleting":
        raise DeployFailed(f"flow definition {name} is being deleted by an earlier deploy; re-run once it is gone")
    return status


def _wait_active(sagemaker, name: str, wait: dict) -> None:
    for attempt in range(wait["MaxAttempts"]):
        if attempt:
            time.sleep(wait["Delay"])
        current = _describe(sagemaker.describe_flow_definition, FlowDefinitionName=name)
        if current is not None and _usable(current) == "Active":
            return
    raise DeployFailed(
        f"flow definition {name} did not become Active within {wait['Delay'] * wait['MaxAttempts']} s; "
        "re-run the deploy (it resumes)"
    )


def _wait_gone(sagemaker, name: str, wait: dict) -> bool:
    """Poll until the deleted flow definition is gone, at most wait's attempts (reviewers finishing a
    task keep it Deleting); its task UI is deleted only once it is gone."""
    for attempt in range(wait["MaxAttempts"]):
        if attempt:
            time.sleep(wait["Delay"])
        if _describe(sagemaker.describe_flow_definition, FlowDefinitionName=name) is None:
            return True
    return False


def _describe(describe, **kwargs) -> dict | None:
    try:
        return describe(**kwargs)
    except ClientError as e:
        if error_code(e) in NOT_FOUND:
            return None
        raise DeployFailed(
            f"{describe.__name__} {next(iter(kwargs.values()))} failed: {client_error_text(e)}"
        ) from None
