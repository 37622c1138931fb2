"""The deploy workflow offline, end to end: approving a package over boto3 starts an execution (a background
runner), which deploys staging, smoke-tests it, waits at the production gate until it is answered, then deploys
production and its monitoring. Real hosts serve the endpoints; InvokeEndpoint goes through sagemaker-runtime."""

from __future__ import annotations

import json
import threading

from botocore.config import Config
from click.testing import CliRunner

from pipelines.cli import main
from tests.deploy.workflow.conftest import ROW, entered_states, executions, wait_for

GATE = "Approve production"


def the_execution(home, settings, before: set[str] | frozenset = frozenset()) -> str:
    def fresh():
        found = [
            e["executionArn"] for e in executions(home, settings.state_machine_arn) if e["executionArn"] not in before
        ]
        return found[0] if found else None

    return wait_for(fresh, 30, "the approval to start a deploy execution")


def at_gate(home, arn: str) -> bool:
    from offline.aws.states.backend import StepFunctionsBackend

    backend = StepFunctionsBackend.for_home(home)
    if backend.describe_execution(arn)["status"] != "RUNNING":
        raise AssertionError(f"the execution ended before the gate: {backend.describe_execution(arn)}")
    return any(task.state_name == GATE for task in backend.pending_tasks(arn))


def ended(home, arn: str, timeout: float = 120) -> dict:
    from offline.aws import local_session

    sfn = local_session(home).client("stepfunctions")
    return wait_for(
        lambda: (d := sfn.describe_execution(executionArn=arn))["status"] != "RUNNING" and d, timeout, f"{arn} to end"
    )


def deploy(home, registry, settings, tag: str, model) -> str:
    """Register and approve `tag`, approve its production gate; the execution's ARN once it SUCCEEDED."""
    before = {e["executionArn"] for e in executions(home, settings.state_machine_arn)}
    registry.register(tag, model)
    registry.approve(tag)
    arn = the_execution(home, settings, before)
    wait_for(lambda: at_gate(home, arn), 120, "the production gate")
    assert invoke("deploy", "approve", arn, "--reason", "tests").exit_code == 0
    described = ended(home, arn)
    assert described["status"] == "SUCCEEDED", described
    return arn


def invoke(*args: str):
    return CliRunner().invoke(main, list(args))


def runtime(home):
    from offline.aws import local_session

    return local_session(home).client("sagemaker-runtime", config=Config(retries={"total_max_attempts": 1}))


def serves(home, endpoint: str, package_arn: str) -> bool:
    from offline.aws import local_session

    sm = local_session(home).client("sagemaker")
    described = sm.describe_endpoint(EndpointName=endpoint)
    config = sm.describe_endpoint_config(EndpointConfigName=described["EndpointConfigName"])
    model = sm.describe_model(ModelName=config["ProductionVariants"][0]["ModelName"])
    container = model.get("PrimaryContainer") or model["Containers"][0]
    return described["EndpointStatus"] == "InService" and container.get("ModelPackageName") == package_arn


def test_approval_deploys_staging_waits_at_the_gate_then_production(deploy_home, registry, local_target, model_tar):
    from offline.aws import local_session
    from offline.monitoring.schedules import ScheduleStore
    from offline.state import StateDB

    home, s = deploy_home, local_target
    sm = local_session(home).client("sagemaker")
    registry.register("v1", model_tar)
    registry.approve("v1")  # UpdateModelPackage over boto3: the group is set up, so a deploy starts
    arn = the_execution(home, s)
    history = json.dumps(
        local_session(home).client("stepfunctions").get_execution_history(executionArn=arn, maxResults=1000)["events"],
        default=str,
    )
    assert '"input": "{\\"ModelPackageArn\\": \\"' in history  # the input transformer's shape
    wait_for(lambda: at_gate(home, arn), 120, "the production gate")
    history = local_session(home).client("stepfunctions").get_execution_history(executionArn=arn, maxResults=1000)
    scheduled = [e for e in history["events"] if e["type"] == "TaskScheduled"][-1]["taskScheduledEventDetails"]
    assert scheduled["resource"] == "publish.waitForTaskToken" and scheduled["resourceType"] == "sns"
    assert serves(home, s.staging, registry.versions["v1"])
    assert [e["EndpointName"] for e in sm.list_endpoints()["Endpoints"]] == [s.staging]  # production waits
    assert runtime(home).invoke_endpoint(EndpointName=s.staging, ContentType="text/csv", Body=ROW)["Body"].read()

    listed = invoke("deploy", "executions")
    assert listed.exit_code == 0 and "waiting at the production gate" in listed.output, listed.output
    approved = invoke("deploy", "approve", arn)
    assert approved.exit_code == 0, approved.output
    described = ended(home, arn)
    assert described["status"] == "SUCCEEDED", described
    output = json.loads(described["output"])
    assert output["ModelPackageVersion"] == 1 and output["ProductionEndpointConfig"].startswith(f"{s.production}-v1-")
    for endpoint in (s.staging, s.production):
        assert serves(home, endpoint, registry.versions["v1"])
        answer = runtime(home).invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=ROW)
        assert answer["Body"].read().count(b",") == 2
    schedules = {x.name: x for x in ScheduleStore(StateDB.for_home(home)).list(s.production)}
    assert set(schedules) == {f"{s.production}-data-quality", f"{s.production}-model-quality"}
    assert schedules[f"{s.production}-data-quality"].capture_uri == s.monitor.capture_destination
    assert sm.describe_monitoring_schedule(MonitoringScheduleName=f"{s.production}-model-quality")["EndpointName"] == (
        s.production
    )
    states = entered_states(home, arn)
    assert states.index("Smoke test staging") < states.index(GATE) < states.index("Create production model")
    shown = invoke("deploy", "describe", arn)
    assert shown.exit_code == 0 and "SUCCEEDED" in shown.output and GATE in shown.output

    again = invoke("deploy", "approve", arn)
    assert again.exit_code == 2 and "waits at no production gate" in again.output


def test_a_rejected_gate_fails_the_execution_and_production_is_untouched(
    deploy_home, registry, local_target, model_tar
):
    from offline.aws import local_session

    home, s = deploy_home, local_target
    registry.register("v1", model_tar)
    registry.approve("v1")
    arn = the_execution(home, s)
    wait_for(lambda: at_gate(home, arn), 120, "the production gate")
    missing = invoke("deploy", "reject", arn)
    assert missing.exit_code == 2 and "--reason" in missing.output
    rejected = invoke("deploy", "reject", arn, "--reason", "AUC below the production model's")
    assert rejected.exit_code == 0, rejected.output
    described = ended(home, arn)
    assert described["status"] == "FAILED"
    assert described["error"] == "Deploy.Rejected"
    assert "the production gate: rejected by" in described["cause"] and "AUC below" in described["cause"]
    names = [e["EndpointName"] for e in local_session(home).client("sagemaker").list_endpoints()["Endpoints"]]
    assert names == [s.staging]
    assert entered_states(home, arn)[-1] == "Production not approved"


def test_a_failed_create_endpoint_is_caught_into_a_fail_naming_its_cause(deploy_home, registry, model_tar):
    """Nine instances need nine worker processes: the local CreateEndpoint refuses (ResourceLimitExceeded)."""
    import dataclasses

    from offline.deploy.local import local_settings, set_up

    home = deploy_home
    base = local_settings("BreastCancerPackageGroup", review=False)
    s = dataclasses.replace(base, deploy=dataclasses.replace(base.deploy, instance_count=9))
    set_up(s, home)
    registry.register("v1", model_tar)
    registry.approve("v1")
    arn = the_execution(home, s)
    described = ended(home, arn)
    assert described["status"] == "FAILED"
    assert described["error"] == "SageMaker.AmazonSageMakerException"
    assert described["cause"].startswith(f"staging endpoint {s.staging}: ")
    assert "ResourceLimitExceeded" in described["cause"]
    states = entered_states(home, arn)
    assert states[-2:] == ["Create staging endpoint", "Staging deploy failed"]


def test_an_update_under_traffic_fails_no_request_and_both_endpoints_serve_the_new_version(
    deploy_home, registry, local_target, model_tar
):
    home, s = deploy_home, local_target
    deploy(home, registry, s, "v1", model_tar)
    client, stop, counts, errors = runtime(home), threading.Event(), {"ok": 0, "failed": 0}, []

    def traffic():
        while not stop.is_set():
            for endpoint in (s.staging, s.production):
                try:
                    client.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=ROW)["Body"].read()
                    counts["ok"] += 1
                except Exception as e:  # counted and kept: the main thread asserts there were none
                    counts["failed"] += 1
                    errors.append(repr(e))

    thread = threading.Thread(target=traffic)
    thread.start()
    try:
        arn = deploy(home, registry, s, "v2", model_tar)
    finally:
        stop.set()
        thread.join()
    assert counts["failed"] == 0, errors[:3]
    assert counts["ok"] > 50
    for endpoint in (s.staging, s.production):
        assert serves(home, endpoint, registry.versions["v2"])
    states = entered_states(home, arn)
    assert "Update staging endpoint" in states and "Update production endpoint" in states
    assert "Create staging endpoint" not in states


def test_a_bad_model_rolls_back_and_the_execution_fails_with_the_reason(
    deploy_home, registry, local_target, model_tar, broken_model_tar
):
    home, s = deploy_home, local_target
    deploy(home, registry, s, "v1", model_tar)
    before = {e["executionArn"] for e in executions(home, s.state_machine_arn)}
    registry.register("broken", broken_model_tar)
    registry.approve("broken")
    described = ended(home, the_execution(home, s, before))
    assert described["status"] == "FAILED"
    assert described["error"] == "Deploy.UpdateRolledBack"
    assert "rolled back" in described["cause"] and "-v1-" in described["cause"]
    assert serves(home, s.staging, registry.versions["v1"])  # the old configuration still serves
    assert runtime(home).invoke_endpoint(EndpointName=s.staging, ContentType="text/csv", Body=ROW)["Body"].read()
    assert serves(home, s.production, registry.versions["v1"])


def test_a_second_run_of_the_same_version_creates_nothing_and_needs_no_gate(
    deploy_home, registry, local_target, model_tar
):
    from offline.aws import local_session
    from offline.deploy.local import start, wait_until_done

    home, s = deploy_home, local_target
    deploy(home, registry, s, "v1", model_tar)
    sm = local_session(home).client("sagemaker")
    configs = {c["EndpointConfigName"] for c in sm.list_endpoint_configs()["EndpointConfigs"]}
    arn = start(s, registry.versions["v1"], home)
    described = wait_until_done(arn, home, 120)
    assert described["status"] == "SUCCEEDED", described
    states = entered_states(home, arn)
    assert GATE not in states and "Production already current?" in states
    assert {"Find staging model", "Find staging endpoint config", "Find data quality job definition"} <= set(states)
    assert "Update staging endpoint" not in states and "Create staging endpoint" not in states
    assert {c["EndpointConfigName"] for c in sm.list_endpoint_configs()["EndpointConfigs"]} == configs


def test_a_package_without_baselines_or_of_another_group_is_refused_by_the_workflow(
    deploy_home, registry, local_target, model_tar
):
    from offline.deploy.local import start, wait_until_done

    home, s = deploy_home, local_target
    arn = registry.register("bare", model_tar, baselines=False)
    registry.approve("bare")
    described = ended(home, the_execution(home, s))
    assert described["status"] == "FAILED" and described["error"] == "Deploy.NoDriftCheckBaselines"
    assert arn in described["cause"]
    registry.register("pending", model_tar)
    described = wait_until_done(start(s, registry.versions["pending"], home), home, 60)
    assert described["error"] == "Deploy.PackageNotApproved"
    assert "is PendingManualApproval; only Approved packages deploy" in described["cause"]
