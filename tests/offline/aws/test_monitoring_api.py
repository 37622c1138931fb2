"""Model Monitor's API in the local SageMaker service: job definitions and monitoring schedules with AWS's error
codes, mapped onto the local schedules `mlops monitor schedule` runs (capture from the endpoint's configuration)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from offline.aws import local_session
from offline.defaults import LOCAL_BUCKET
from offline.monitoring.schedules import ScheduleStore
from offline.state import StateDB
from pipelines.deploy import monitor_managed
from pipelines.deploy.monitor_spec import MonitorSpec
from pipelines.deploy.registry import Baselines
from tests.offline.endpoint.conftest import managed_home  # noqa: F401  (a fixture, re-used)

IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:3.0-5"
ROLE = "arn:aws:iam::123456789012:role/monitor"
BASE = f"s3://{LOCAL_BUCKET}"


@pytest.fixture
def endpoint(managed_home, model_tar):  # noqa: F811
    """An endpoint capturing to the default destination (Creating is enough: its configuration is what counts)."""
    from offline.store import ObjectStore

    ObjectStore.for_home(managed_home).put_file(f"{BASE}/models/m/model.tar.gz", model_tar)
    sm = local_session(managed_home).client("sagemaker")
    sm.create_model(ModelName="m", PrimaryContainer={"Image": IMAGE, "ModelDataUrl": f"{BASE}/models/m/model.tar.gz"})
    capture = {
        "EnableCapture": True,
        "InitialSamplingPercentage": 100,
        "DestinationS3Uri": f"{BASE}/datacapture",
        "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
    }
    variant = {"VariantName": "AllTraffic", "ModelName": "m", "InstanceType": "ml.m5.large", "InitialInstanceCount": 1}
    sm.create_endpoint_config(EndpointConfigName="c", ProductionVariants=[variant], DataCaptureConfig=capture)
    sm.create_endpoint_config(EndpointConfigName="no-capture", ProductionVariants=[variant])
    sm.create_endpoint(EndpointName="ep", EndpointConfigName="c")
    sm.create_endpoint(EndpointName="quiet", EndpointConfigName="no-capture")
    return sm


def spec(endpoint: str = "ep") -> MonitorSpec:
    return MonitorSpec(
        endpoint=endpoint,
        region="us-east-1",
        account="123456789012",
        role_arn=ROLE,
        capture_destination=f"{BASE}/datacapture",
        report_destination=f"{BASE}/reports",
        ground_truth=f"{BASE}/ground-truth/ep",
        baselines=Baselines(f"{BASE}/b/statistics.json", f"{BASE}/b/constraints.json", f"{BASE}/b/mq.json"),
    )


def code(call) -> str:
    with pytest.raises(ClientError) as e:
        call()
    return e.value.response["Error"]["Code"]


def test_the_managed_engines_requests_make_local_schedules(endpoint, managed_home):  # noqa: F811
    sm, s = endpoint, spec()
    dq = monitor_managed.data_quality_job_definition(s, IMAGE)
    mq = monitor_managed.model_quality_job_definition(s, IMAGE)
    sm.create_data_quality_job_definition(**dq)
    sm.create_model_quality_job_definition(**mq)
    assert code(lambda: sm.create_data_quality_job_definition(**dq)) == "ResourceInUse"
    described = sm.describe_model_quality_job_definition(JobDefinitionName=mq["JobDefinitionName"])
    assert described["ModelQualityJobInput"]["GroundTruthS3Input"]["S3Uri"] == s.ground_truth
    for kind, request in (("data-quality", dq), ("model-quality", mq)):
        sm.create_monitoring_schedule(**monitor_managed.schedule_request(s, kind, request["JobDefinitionName"]))
    local = {x.kind: x for x in ScheduleStore(StateDB.for_home(managed_home)).list("ep")}
    assert local["data-quality"].capture_uri == f"{BASE}/datacapture"
    assert local["data-quality"].baseline_statistics == f"{BASE}/b/statistics.json"
    assert (local["model-quality"].ground_truth_uri, local["model-quality"].probability_threshold) == (
        s.ground_truth,
        0.5,
    )
    assert local["model-quality"].output_uri == f"{BASE}/reports"
    schedule = sm.describe_monitoring_schedule(MonitoringScheduleName="ep-data-quality")
    assert (schedule["EndpointName"], schedule["MonitoringScheduleStatus"]) == ("ep", "Scheduled")
    assert [x["MonitoringScheduleName"] for x in sm.list_monitoring_schedules(EndpointName="ep")["MonitoringScheduleSummaries"]] == [
        "ep-model-quality", "ep-data-quality"
    ]  # fmt: skip
    assert (
        code(lambda: sm.delete_data_quality_job_definition(JobDefinitionName=dq["JobDefinitionName"]))
        == "ResourceInUse"
    )
    sm.delete_monitoring_schedule(MonitoringScheduleName="ep-data-quality")
    sm.delete_data_quality_job_definition(JobDefinitionName=dq["JobDefinitionName"])
    assert [x.kind for x in ScheduleStore(StateDB.for_home(managed_home)).list("ep")] == ["model-quality"]
    assert code(lambda: sm.describe_monitoring_schedule(MonitoringScheduleName="ep-data-quality")) == "ResourceNotFound"


def test_what_the_local_analyzer_cannot_run_is_refused_with_a_reason(endpoint):
    sm = endpoint
    dq = monitor_managed.data_quality_job_definition(spec(), IMAGE)
    sm.create_data_quality_job_definition(**dq)
    config = {"MonitoringJobDefinitionName": dq["JobDefinitionName"], "MonitoringType": "ModelBias"}
    with pytest.raises(ClientError, match="runs DataQuality and ModelQuality"):
        sm.create_monitoring_schedule(MonitoringScheduleName="x", MonitoringScheduleConfig=config)
    quiet = monitor_managed.data_quality_job_definition(spec("quiet"), IMAGE)
    sm.create_data_quality_job_definition(**quiet)
    config = {"MonitoringJobDefinitionName": quiet["JobDefinitionName"], "MonitoringType": "DataQuality"}
    with pytest.raises(ClientError, match="does not capture data"):
        sm.create_monitoring_schedule(MonitoringScheduleName="quiet-data-quality", MonitoringScheduleConfig=config)
    config = {"MonitoringJobDefinitionName": "nothing", "MonitoringType": "DataQuality"}
    assert code(lambda: sm.create_monitoring_schedule(MonitoringScheduleName="y", MonitoringScheduleConfig=config)) == (
        "ResourceNotFound"
    )
    assert code(lambda: sm.describe_data_quality_job_definition(JobDefinitionName="nothing")) == "ResourceNotFound"
