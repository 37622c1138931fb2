"""Deploying through the deploy state machine, as an approval does once the group is set up for deployment.

The demo sets the group up as `mlops deploy --local` does (the state machine and the local counterpart of the
EventBridge rule), then approves the package through the registry's API: the approval itself starts the
execution. The demo answers the production gate (as `mlops deploy --local` does, since the person who ran
the demo asked for the whole loop) and says so.
"""

from __future__ import annotations

import json
from pathlib import Path

from offline.demo.common import APPROVER, ENDPOINT_NAME, DemoError, Say, sagemaker
from offline.demo.stopwatch import STOPWATCH

GATE_REASON = "the offline demo deploys every version it approves; the staging endpoint passed its smoke test"
TASK_COUNT = 2  # reviewers per prediction (the flow definition's TaskCount); a tie goes to a third


def set_up(home: Path, group: str):
    """The group's deploy settings, set up for deployment (state machine + deploy target); and what
    happened to the state machine (created | updated | unchanged)."""
    from offline.deploy import local
    from pipelines.deploy.names import bounded

    settings = local.local_settings(
        group,
        production_endpoint=ENDPOINT_NAME,
        staging_endpoint=bounded(ENDPOINT_NAME, "staging"),
        task_count=TASK_COUNT,
    )
    with STOPWATCH.part("deploy: set up"):
        done = local.set_up(settings, home)
    return settings, done.action


def approve_and_deploy(home: Path, settings, package_arn: str, say: Say) -> dict:
    """Approve the package (which starts its deploy execution), answer the gate, wait for the end."""
    from offline.aws.states.backend import StepFunctionsBackend
    from offline.deploy import local

    backend = StepFunctionsBackend.for_home(home)
    before = {e.arn for e in backend.store.executions(settings.state_machine_arn)}
    sagemaker(home).update_model_package(
        ModelPackageArn=package_arn, ModelApprovalStatus="Approved", ApprovalDescription=f"Approved by {APPROVER}"
    )
    started = [e for e in backend.store.executions(settings.state_machine_arn) if e.arn not in before]
    if not started:
        raise DemoError(f"approving {package_arn} started no deploy execution of {settings.machine_name}")
    execution = started[0].arn
    say(f"   the approval started deploy execution {execution.rsplit(':', 1)[-1]}")
    try:
        with STOPWATCH.part("deploy: staging and smoke test"):
            gate = local.wait_for_gate(execution, home, timeout=120)
        if gate is not None:
            local.answer_gate(execution, True, APPROVER, GATE_REASON, home)
            say(f"   production gate approved by {APPROVER}: {GATE_REASON}")
        with STOPWATCH.part("deploy: production"):
            described = local.wait_until_done(execution, home, timeout=180)
    except local.LocalDeployError as e:
        raise DemoError(str(e)) from e
    states = entered_states(backend, execution)
    if described["status"] != "SUCCEEDED":
        raise DemoError(
            f"deploy execution {execution} {described['status']}: {described.get('error')}: {described.get('cause')} "
            f"(its states: mlops deploy describe {execution})"
        )
    serving = serving_package(home, settings.production)
    if serving != package_arn:
        raise DemoError(f"deploy execution {execution} succeeded but {settings.production} serves {serving}")
    say(f"   {settings.production} InService at {local.serving_url(settings.production, home)}, serving {package_arn}")
    output = json.loads(described.get("output") or "{}")
    return {
        "execution_arn": execution,
        "status": described["status"],
        "model_package_arn": package_arn,
        "endpoint": settings.production,
        "staging_endpoint": settings.staging,
        "gate_approved_by": APPROVER if gate is not None else None,
        "states": states,
        "capture_uri": output.get("CaptureUri"),
    }


def serving_package(home: Path, endpoint: str) -> str | None:
    """The package the endpoint serves now, as the API says it (endpoint → config → model) and as its live
    host was started with; None when they disagree or nothing serves it."""
    from offline.defaults import LOCAL_REGION
    from offline.endpoint.hosts import HostRegistry

    client = sagemaker(home)
    config = client.describe_endpoint_config(
        EndpointConfigName=client.describe_endpoint(EndpointName=endpoint)["EndpointConfigName"]
    )
    model = client.describe_model(ModelName=config["ProductionVariants"][0]["ModelName"])
    container = model.get("PrimaryContainer") or model["Containers"][0]
    host = HostRegistry.for_home(home).serving(LOCAL_REGION, endpoint)
    package = container.get("ModelPackageName")
    return package if host is not None and host.model == package else None


def entered_states(backend, execution: str) -> list[str]:
    """The states the execution entered, in order (every page of its history)."""
    states, params = [], {"executionArn": execution, "maxResults": 1000}
    while True:
        page = backend.get_execution_history(params)
        states += [e["stateEnteredEventDetails"]["name"] for e in page["events"] if "stateEnteredEventDetails" in e]
        if not page.get("nextToken"):
            return states
        params["nextToken"] = page["nextToken"]
