"""Human review of the production endpoint as workflow states (`--review a2i`), the direct deploy's requests:

CreateHumanTaskUi (create, else find) → CreateFlowDefinition (create, else find) → DescribeFlowDefinition
until Active (Failed ends the execution with its FailureReason) → the hourly post-processing schedule
`<endpoint>-human-review` (GetSchedule → UpdateSchedule, or CreateSchedule when absent).

Nothing here depends on the package, so every name and request is fixed when the state machine is built:
a second execution finds the task UI and flow definition it made (their names hold a hash of their content).
The earlier deploys' task UIs and flow definitions that a changed template replaces are not deleted by the
workflow (`mlops deploy --aws --direct --review a2i` does it, with the checks docs/aws-deploy.md describes).
"""

from __future__ import annotations

from pipelines.deploy.review_resources import flow_definition_request, human_task_ui_request
from pipelines.deploy.review_schedule import review_schedule_request, starter_job_template
from pipelines.deploy.workflow.patterns import (
    catch_into,
    create_or_find,
    fail_with,
    sdk,
    transient_retry,
    upsert_schedule,
)
from pipelines.deploy.workflow.sdk import Choice, ChoiceRule, State, Task, Wait
from pipelines.deploy.workflow.settings import WorkflowSettings
from pipelines.images import xgboost_image

FLOW = "$.review.flowDefinition"


def review_states(settings: WorkflowSettings, failed: State, then: State) -> State:
    """The review resources' states, ending in `then`; `then` itself when the deploy has no review."""
    spec = settings.review
    if spec is None:
        return then
    ui = human_task_ui_request(spec)
    flow = flow_definition_request(spec)
    flow_arn = spec.arn(f"flow-definition/{flow['FlowDefinitionName']}")

    create_ui, find_ui = create_or_find(
        Task("Create task UI", resource=sdk("sagemaker", "createHumanTaskUi"), parameters=ui, result_path=None),
        sdk("sagemaker", "describeHumanTaskUi"),
        {"HumanTaskUiName": ui["HumanTaskUiName"]},
        failed,
        "task UI",
    )
    create_flow, find_flow = create_or_find(
        Task(
            "Create flow definition",
            resource=sdk("sagemaker", "createFlowDefinition"),
            parameters=flow,
            result_path=None,
        ),
        sdk("sagemaker", "describeFlowDefinition"),
        {"FlowDefinitionName": flow["FlowDefinitionName"]},
        failed,
        "flow definition",
    )
    describe = Task(
        "Describe flow definition",
        resource=sdk("sagemaker", "describeFlowDefinition"),
        parameters={"FlowDefinitionName": flow["FlowDefinitionName"]},
        result_path=FLOW,
    )
    describe.add_retry(transient_retry("SageMaker"))
    catch_into(describe, failed)
    wait = Wait("Wait for flow definition", seconds=settings.poll_seconds)
    wait.next(describe)
    active = Choice("Flow definition active?")
    status = f"{FLOW}.FlowDefinitionStatus"

    template = starter_job_template(spec, settings.starter_code, xgboost_image(settings.region), flow_arn)
    request = review_schedule_request(spec, template, settings.scheduler_role)
    find_schedule = upsert_schedule("review", request["Name"], request, failed, then)

    active.add_choice(ChoiceRule.StringEquals(status, "Active"), find_schedule)
    active.add_choice(
        ChoiceRule.StringEquals(status, "Failed"),
        fail_with(
            "Flow definition failed",
            "Deploy.FlowDefinitionFailed",
            f"flow definition {flow['FlowDefinitionName']} is Failed ({{}}); delete it and run the deploy again",
            f"{FLOW}.FailureReason",
        ),
    )
    active.default_choice(wait)
    describe.next(active)
    create_ui.next(create_flow)
    find_ui.next(create_flow)
    create_flow.next(describe)
    find_flow.next(describe)
    return create_ui
