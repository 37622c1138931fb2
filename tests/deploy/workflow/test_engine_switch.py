"""An engine switch through the deploy workflow offline: the executions (interpreted in the foreground against
the local services, as in test_iam) leave only the chosen engine's schedules of the production endpoint, the
managed engine's job definitions go with its schedules, and a refused delete ends in a Fail naming its cause
while the chosen engine's schedules stay in place."""

from __future__ import annotations

import json

import pytest

from tests.deploy.workflow.conftest import entered_states
from tests.deploy.workflow.test_iam import Runs, deployed, with_engine


def present_schedules(home, settings) -> dict[str, list[str]]:
    """The production endpoint's schedules per engine, as the local Model Monitor API and Scheduler answer."""
    from botocore.exceptions import ClientError

    from offline.aws import local_session
    from pipelines.deploy.monitor_spec import DATA_QUALITY, MODEL_QUALITY
    from pipelines.deploy.scheduler_target import SCHEDULE_GROUP

    session = local_session(home)
    sagemaker, scheduler = session.client("sagemaker"), session.client("scheduler")
    found: dict[str, list[str]] = {"managed": [], "processing": []}
    for kind in (DATA_QUALITY, MODEL_QUALITY):
        name = settings.monitor.schedule(kind)
        for engine, look, params in (
            ("managed", sagemaker.describe_monitoring_schedule, {"MonitoringScheduleName": name}),
            ("processing", scheduler.get_schedule, {"Name": name, "GroupName": SCHEDULE_GROUP}),
        ):
            try:
                look(**params)
            except ClientError as e:
                assert e.response["Error"]["Code"] in ("ResourceNotFound", "ResourceNotFoundException"), e.response
            else:
                found[engine].append(name)
    return found


def job_definitions(home) -> list[str]:
    from offline.aws import local_session

    sagemaker = local_session(home).client("sagemaker")
    return [
        d["MonitoringJobDefinitionName"]
        for listed in (sagemaker.list_data_quality_job_definitions(), sagemaker.list_model_quality_job_definitions())
        for d in listed["JobDefinitionSummaries"]
    ]


@pytest.mark.parametrize(("before", "after"), [("managed", "processing"), ("processing", "managed")])
def test_a_deploy_after_an_engine_switch_leaves_only_the_chosen_engines_schedules(request, before, after):
    from offline.deploy.local import set_up

    home, registry, settings = deployed(request, before, review=False)
    first = Runs(home, settings).run(registry.versions["v1"])  # a first deploy: nothing of the other engine
    names = [settings.monitor.schedule(k) for k in ("data-quality", "model-quality")]
    other = {"managed": [], "processing": []}
    assert present_schedules(home, settings) == {**other, before: names}
    removal = "Look for managed" if before == "processing" else "Remove processing"
    assert any(s.startswith(removal) for s in entered_states(home, first["executionArn"]))
    assert bool(job_definitions(home)) == (before == "managed")

    switched = with_engine(settings, after)
    set_up(switched, home)
    described = Runs(home, switched).run(registry.versions["v2"])
    assert present_schedules(home, switched) == {**other, after: names}
    assert len(job_definitions(home)) == (
        0 if after == "processing" else 2
    )  # processing: v1's went with their schedules
    entered = entered_states(home, described["executionArn"])
    removed = (
        ["Remove managed data quality schedule", "Remove managed data quality job definition"]
        if after == "processing"
        else ["Remove processing data quality schedule", "Remove processing model quality schedule"]
    )
    assert set(removed) <= set(entered), entered
    # the chosen engine's schedules first: the endpoint is never left unmonitored
    assert entered.index("Create model quality schedule") < entered.index(removed[0])


def test_a_refused_delete_fails_the_deploy_naming_its_cause_and_the_chosen_engine_keeps_monitoring(request):
    from botocore.awsrequest import AWSResponse

    home, registry, settings = deployed(request, "managed", review=False)
    runs = Runs(home, settings)
    made = runs.clients

    def refuse(**_):
        message = "not authorized to perform: scheduler:DeleteSchedule"
        return AWSResponse(None, 400, {}, None), {"Error": {"Code": "AccessDeniedException", "Message": message}}

    def clients(service):
        client = made(service)
        if service == "scheduler" and not getattr(client, "_refusing", False):
            client.meta.events.register("before-call.scheduler.DeleteSchedule", refuse)
            client._refusing = True
        return client

    runs.clients = clients
    described = runs.run(registry.versions["v1"], status="FAILED")
    history = entered_states(home, described["executionArn"])
    assert history[-1] == "Other engine not removed"
    assert described["error"] == "Scheduler.AccessDeniedException"
    assert described["cause"].startswith(
        f"the processing engine's schedules of {settings.production} (both engines run until they are removed; "
        "re-run the deploy): not authorized to perform: scheduler:DeleteSchedule"
    ), described["cause"]
    names = [settings.monitor.schedule(k) for k in ("data-quality", "model-quality")]
    assert present_schedules(home, settings) == {"managed": names, "processing": []}
    assert json.loads(described["input"])["ModelPackageArn"] == registry.versions["v1"]
