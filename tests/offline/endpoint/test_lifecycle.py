"""Endpoints created, updated, stopped and deleted through the local SageMaker service, with real hosts.

boto3 clients in-process (`local_session`) and over HTTP (`LocalAWSServer`, retries off); the hosts are real
detached processes recorded in the state DB. `managed_home` stops every host of the test's home at the end
and fails the test if any process with `MLOPS_HOME=<home>` is left.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from click.testing import CliRunner

from offline.aws import local_session
from offline.aws.constants import DUMMY_ACCESS_KEY_ID, DUMMY_SECRET_ACCESS_KEY
from offline.aws.server import LocalAWSServer
from offline.endpoint.capture import iter_capture_files, read_records
from offline.endpoint.hosts import HostRegistry
from offline.store import ObjectStore
from pipelines.cli import main

from .conftest import processes_of

IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:3.0-5"
ACCOUNT = "123456789012"
NO_RETRIES = Config(retries={"total_max_attempts": 1})
CAPTURE = {
    "EnableCapture": True,
    "InitialSamplingPercentage": 100,
    "DestinationS3Uri": "s3://models/datacapture",
    "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
    "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"]},  # JSON not declared: captured base64
}


def deployable(home: Path, sm, archive: Path, name: str, capture: dict | None = CAPTURE, count: int = 1) -> str:
    """Upload a model.tar.gz, create its model and an endpoint config named `name`; returns the config name."""
    store = ObjectStore.for_home(home)
    store.create_bucket("models")
    store.put_file(f"s3://models/{name}/model.tar.gz", archive)
    sm.create_model(
        ModelName=name,
        PrimaryContainer={
            "Image": IMAGE,
            "ModelDataUrl": f"s3://models/{name}/model.tar.gz",
            "Environment": {"SAGEMAKER_PROGRAM": "inference.py", "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code"},
        },
        ExecutionRoleArn=f"arn:aws:iam::{ACCOUNT}:role/local",
    )
    variant = {
        "VariantName": "AllTraffic",
        "ModelName": name,
        "InstanceType": "ml.m5.large",
        "InitialInstanceCount": count,
    }
    extra = {"DataCaptureConfig": capture} if capture else {}
    sm.create_endpoint_config(EndpointConfigName=name, ProductionVariants=[variant], **extra)
    return name


def settle(sm, name: str, timeout: float = 90.0) -> dict:
    """DescribeEndpoint until the endpoint leaves Creating/Updating/Deleting."""
    deadline = time.monotonic() + timeout
    while True:
        described = sm.describe_endpoint(EndpointName=name)
        if described["EndpointStatus"] not in ("Creating", "Updating", "Deleting"):
            return described
        if time.monotonic() > deadline:
            raise AssertionError(f"{name} still {described['EndpointStatus']} after {timeout:.0f} s")
        time.sleep(0.05)


def error(excinfo) -> tuple[str, str]:
    err = excinfo.value.response["Error"]
    return err["Code"], err["Message"]


def run(home: Path, *args: str):
    return CliRunner().invoke(main, ["--home", str(home), *args], catch_exceptions=False)


class Traffic:
    """Steady InvokeEndpoint calls from threads, each answer or error recorded with its thread and time.

    The threads assert nothing: `failures` is read by the test after `stop()`, which re-raises anything that
    ended a thread some other way.
    """

    def __init__(self, make_client, endpoint: str, row: str, threads: int = 2):
        self.endpoint, self.row = endpoint, row
        self.answers: list[tuple[int, float, bytes, int]] = []  # (thread, time sent, body, retry attempts)
        self.failures: list[str] = []
        self.crashes: list[BaseException] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._run, args=(i, make_client()), daemon=True) for i in range(threads)
        ]

    def __enter__(self) -> Traffic:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def _run(self, index: int, client) -> None:
        try:
            while not self._stop.is_set():
                sent = time.monotonic()
                try:
                    response = client.invoke_endpoint(EndpointName=self.endpoint, ContentType="text/csv", Body=self.row)
                    answer = (
                        index,
                        sent,
                        response["Body"].read(),
                        response["ResponseMetadata"]["RetryAttempts"],
                    )
                    with self._lock:
                        self.answers.append(answer)
                except (ClientError, BotoCoreError) as e:
                    with self._lock:
                        self.failures.append(f"{time.monotonic():.3f} {e!r}")
        except BaseException as e:  # re-raised by stop()
            self.crashes.append(e)

    def wait_for(self, count: int, since: float = 0.0, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while sum(1 for a in list(self.answers) if a[1] >= since) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"fewer than {count} answers within {timeout:.0f} s")
            time.sleep(0.02)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(30)
        if self.crashes:
            raise self.crashes[0]


@pytest.fixture
def session(managed_home):
    return local_session(managed_home)


@pytest.fixture
def sm(session):
    return session.client("sagemaker", config=NO_RETRIES)


@pytest.fixture
def server(managed_home):
    with LocalAWSServer(managed_home) as server:
        yield server


def http_client(server: LocalAWSServer, service: str):
    return boto3.Session(
        aws_access_key_id=DUMMY_ACCESS_KEY_ID, aws_secret_access_key=DUMMY_SECRET_ACCESS_KEY, region_name="us-east-1"
    ).client(service, endpoint_url=server.endpoint_url, config=NO_RETRIES)


# -- create, describe, invoke ----------------------------------------------------------------------------


def test_create_endpoint_returns_at_once_and_serves_with_capture_once_in_service(
    managed_home, sm, session, server, model_tar, rows
):
    deployable(managed_home, sm, model_tar, "v1")
    started = time.monotonic()
    arn = sm.create_endpoint(EndpointName="ep", EndpointConfigName="v1", Tags=[{"Key": "team", "Value": "ml"}])[
        "EndpointArn"
    ]
    assert time.monotonic() - started < 2, "CreateEndpoint waits for nothing"
    assert arn == f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:endpoint/ep"
    creating = sm.describe_endpoint(EndpointName="ep")
    assert creating["EndpointStatus"] == "Creating"
    assert creating["PendingDeploymentSummary"]["EndpointConfigName"] == "v1"
    assert creating["PendingDeploymentSummary"]["ProductionVariants"][0]["VariantStatus"][0]["Status"] == "Creating"
    runtime = session.client("sagemaker-runtime", config=NO_RETRIES)
    with pytest.raises(ClientError) as e:  # no route until InService
        runtime.invoke_endpoint(EndpointName="ep", ContentType="text/csv", Body=rows[0])
    assert error(e) == ("ValidationError", f"Endpoint ep of account {ACCOUNT} not found.")

    described = settle(sm, "ep")
    assert described["EndpointStatus"] == "InService", described.get("FailureReason")
    assert {k: described[k] for k in ("EndpointName", "EndpointArn", "EndpointConfigName")} == {
        "EndpointName": "ep",
        "EndpointArn": arn,
        "EndpointConfigName": "v1",
    }
    (variant,) = described["ProductionVariants"]
    assert variant["VariantName"] == "AllTraffic" and variant["CurrentWeight"] == variant["DesiredWeight"] == 1.0
    assert variant["CurrentInstanceCount"] == variant["DesiredInstanceCount"] == 1
    assert variant["DeployedImages"][0]["SpecifiedImage"] == IMAGE
    assert described["DataCaptureConfig"] == {
        "EnableCapture": True,
        "CaptureStatus": "Started",
        "CurrentSamplingPercentage": 100,
        "DestinationS3Uri": "s3://models/datacapture",
    }
    assert "FailureReason" not in described and "PendingDeploymentSummary" not in described
    assert described["CreationTime"] <= described["LastModifiedTime"]
    assert [e["EndpointStatus"] for e in sm.list_endpoints()["Endpoints"]] == ["InService"]

    # InvokeEndpoint in-process and over HTTP, both routed to the host
    answer = runtime.invoke_endpoint(EndpointName="ep", ContentType="text/csv", Body=rows[0], InferenceId="in-proc")
    assert answer["ContentType"] == "text/csv" and answer["InvokedProductionVariant"] == "AllTraffic"
    probability, label, review = answer["Body"].read().decode().strip().split(",")
    assert 0 <= float(probability) <= 1 and label in ("0", "1") and review in ("0", "1")
    remote = http_client(server, "sagemaker-runtime")
    body = json.dumps({"instances": [[float(x) for x in rows[1].split(",")]]})
    over_http = remote.invoke_endpoint(EndpointName="EP", ContentType="application/json", Body=body, InferenceId="json")
    assert json.loads(over_http["Body"].read())["predictions"][0]["predicted_label"] in (0, 1)
    with pytest.raises(ClientError) as e:  # the container's 400 comes back as AWS's ModelError
        remote.invoke_endpoint(EndpointName="ep", ContentType="text/csv", Body="1,2,3")
    assert e.value.response["Error"]["Code"] == "ModelError"
    assert (
        e.value.response["OriginalStatusCode"] == 400 and "expected 30 features" in e.value.response["OriginalMessage"]
    )

    # The host: a detached process of this home, with its pid, start time, port and log recorded
    (host,) = HostRegistry.for_home(managed_home).live()
    assert host.state == "serving" and host.pid in processes_of(managed_home)
    assert Path(host.log).is_file() and "Serving ep at" in Path(host.log).read_text()
    listed = json.loads(run(managed_home, "endpoint", "list", "--json").output)
    assert listed == [
        {
            "name": "ep",
            "status": "InService",
            "url": host.url,
            "model": "s3://models/v1/model.tar.gz",
            "pid": host.pid,
            "endpoint_config": "v1",
            "failure_reason": None,
            "log": host.log,
            "kind": "endpoint",
        }
    ]
    table = run(managed_home, "endpoint", "list").output
    assert "NAME" in table and "InService" in table and host.url in table

    # Capture: CSV as declared, JSON (not declared in CaptureContentTypeHeader) base64-encoded, as SageMaker does
    root = managed_home / "s3" / "models" / "datacapture" / "ep" / "AllTraffic"

    def captured():
        return {
            r["eventMetadata"].get("inferenceId"): r
            for path in iter_capture_files(root)
            for r in read_records(path)
            if r["eventMetadata"].get("inferenceId")
        }

    deadline = time.monotonic() + 10
    while set(captured()) != {"in-proc", "json"} and time.monotonic() < deadline:
        time.sleep(0.1)
    records = captured()
    assert records["in-proc"]["captureData"]["endpointInput"]["encoding"] == "CSV"
    assert records["in-proc"]["captureData"]["endpointInput"]["data"] == rows[0]
    assert records["json"]["captureData"]["endpointInput"]["encoding"] == "BASE64"


def test_sampling_percentage_is_honoured(managed_home, sm, session, model_tar, rows):
    deployable(managed_home, sm, model_tar, "none", capture={**CAPTURE, "InitialSamplingPercentage": 0})
    sm.create_endpoint(EndpointName="sampled", EndpointConfigName="none")
    assert settle(sm, "sampled")["DataCaptureConfig"]["CurrentSamplingPercentage"] == 0
    runtime = session.client("sagemaker-runtime", config=NO_RETRIES)
    for row in rows[:20]:
        runtime.invoke_endpoint(EndpointName="sampled", ContentType="text/csv", Body=row)
    run(managed_home, "endpoint", "stop", "sampled")  # publishes whatever was captured
    assert list(iter_capture_files(managed_home / "s3" / "models" / "datacapture" / "sampled")) == []


# -- update: zero dropped requests, rollback -------------------------------------------------------------


def test_update_under_traffic_drops_no_request_and_answers_from_the_new_model(
    managed_home, sm, server, model_tar, model_tar_v2, rows
):
    deployable(managed_home, sm, model_tar, "v1")
    deployable(managed_home, sm, model_tar_v2, "v2", capture=None, count=2)
    sm.create_endpoint(EndpointName="live", EndpointConfigName="v1")
    assert settle(sm, "live")["EndpointStatus"] == "InService"
    old_host = HostRegistry.for_home(managed_home).serving("us-east-1", "live")
    with Traffic(lambda: http_client(server, "sagemaker-runtime"), "live", rows[0]) as traffic:
        traffic.wait_for(20)
        v1_answer = traffic.answers[0][2]
        sm.update_endpoint(  # keep the serving variant's instance count, but take v2's capture (none)
            EndpointName="live",
            EndpointConfigName="v2",
            RetainAllVariantProperties=True,
            ExcludeRetainedVariantProperties=[{"VariantPropertyType": "DataCaptureConfig"}],
        )
        updating = sm.describe_endpoint(EndpointName="live")
        assert updating["EndpointStatus"] == "Updating" and updating["EndpointConfigName"] == "v1"
        assert updating["PendingDeploymentSummary"]["EndpointConfigName"] == "v2"
        described = settle(sm, "live")
        in_service = time.monotonic()
        traffic.wait_for(20, since=in_service)
    assert described["EndpointStatus"] == "InService" and described["EndpointConfigName"] == "v2"
    assert "FailureReason" not in described and "DataCaptureConfig" not in described
    assert described["ProductionVariants"][0]["DesiredInstanceCount"] == 1  # retained, not v2's 2
    assert traffic.failures == []
    assert {a[3] for a in traffic.answers} == {0}, "no request was retried by the client"
    bodies = {a[2] for a in traffic.answers}
    assert len(bodies) == 2, bodies  # two models, two probabilities for the same row
    (v2_answer,) = bodies - {v1_answer}
    assert all(a[2] == v2_answer for a in traffic.answers if a[1] >= in_service)  # sent once InService
    for thread in (0, 1):  # once a thread saw the new model, it never saw the old one again
        seen = [a[2] for a in traffic.answers if a[0] == thread]
        assert v1_answer not in seen[seen.index(v2_answer) :]
    # the old host drained and exited; only the new one runs
    registry = HostRegistry.for_home(managed_home)
    deadline = time.monotonic() + 30  # it records that it stopped, then exits
    while (registry.current(old_host.id).state != "stopped" or old_host.pid in processes_of(managed_home)) and (
        time.monotonic() < deadline
    ):
        time.sleep(0.1)
    assert registry.current(old_host.id).state == "stopped"
    assert old_host.pid not in processes_of(managed_home)
    (new_host,) = registry.live()
    assert new_host.url != old_host.url and new_host.model == "s3://models/v2/model.tar.gz"
    assert (new_host.workers, new_host.capture_uri) == (1, None)


def test_a_new_version_that_fails_its_health_check_leaves_the_old_one_serving(
    managed_home, sm, server, model_tar, broken_model_tar, rows
):
    deployable(managed_home, sm, model_tar, "v1")
    deployable(managed_home, sm, broken_model_tar, "broken")
    sm.create_endpoint(EndpointName="safe", EndpointConfigName="v1")
    settle(sm, "safe")
    with Traffic(lambda: http_client(server, "sagemaker-runtime"), "safe", rows[0], threads=1) as traffic:
        traffic.wait_for(10)
        sm.update_endpoint(EndpointName="safe", EndpointConfigName="broken")
        with pytest.raises(ClientError) as e:  # one update at a time, as on SageMaker
            sm.update_endpoint(EndpointName="safe", EndpointConfigName="v1")
        assert error(e) == (
            "ValidationException",
            f'Cannot update in-progress endpoint "arn:aws:sagemaker:us-east-1:{ACCOUNT}:endpoint/safe".',
        )
        described = settle(sm, "safe")
        after = time.monotonic()
        traffic.wait_for(10, since=after)
    assert described["EndpointStatus"] == "InService" and described["EndpointConfigName"] == "v1"
    reason = described["FailureReason"]
    assert reason.startswith(
        "The primary container for production variant AllTraffic did not pass the ping health check"
    )
    assert "model_fn failed" in reason and "rolled back" in reason and "Stack trace" not in reason
    assert "PendingDeploymentSummary" not in described
    assert traffic.failures == [] and len({a[2] for a in traffic.answers}) == 1  # the old model answered all
    registry = HostRegistry.for_home(managed_home)
    (failed,) = [r for r in registry.db.query("SELECT id FROM endpoint_hosts WHERE state = 'failed'")]
    failed_pid = registry.current(failed["id"]).pid
    deadline = time.monotonic() + 10  # it records its failure, then exits
    while failed_pid in processes_of(managed_home) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert failed_pid not in processes_of(managed_home)


def test_a_failed_creation_reports_the_hosts_reason(managed_home, sm, session, broken_model_tar, rows):
    deployable(managed_home, sm, broken_model_tar, "broken")
    sm.create_endpoint(EndpointName="doomed", EndpointConfigName="broken")
    arn = f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:endpoint/doomed"
    with pytest.raises(ClientError) as e:  # SageMaker refuses to delete an endpoint while it is being created
        sm.delete_endpoint(EndpointName="doomed")
    assert error(e) == ("ValidationException", f'Cannot update in-progress endpoint "{arn}".')
    with pytest.raises(ClientError) as e:
        sm.create_endpoint(EndpointName="Doomed", EndpointConfigName="broken")
    assert error(e) == ("ValidationException", f'Cannot create already existing endpoint "{arn}".')
    described = settle(sm, "doomed")
    assert described["EndpointStatus"] == "Failed"
    assert "did not pass the ping health check" in described["FailureReason"]
    assert "ProductionVariants" not in described
    with pytest.raises(ClientError) as e:
        session.client("sagemaker-runtime", config=NO_RETRIES).invoke_endpoint(
            EndpointName="doomed", ContentType="text/csv", Body=rows[0]
        )
    assert error(e) == ("ValidationError", f"Endpoint doomed of account {ACCOUNT} not found.")
    with pytest.raises(ClientError) as e:
        sm.update_endpoint(EndpointName="doomed", EndpointConfigName="broken")
    assert error(e)[0] == "ValidationException" and "Delete it and create it again" in error(e)[1]
    sm.delete_endpoint(EndpointName="doomed")
    with pytest.raises(ClientError) as e:
        sm.describe_endpoint(EndpointName="doomed")
    assert error(e) == ("ValidationException", f'Could not find endpoint "{arn}".')


# -- stop, delete, the CLI ------------------------------------------------------------------------------


def test_stop_reads_out_of_service_update_restarts_and_delete_keeps_config_and_model(
    managed_home, sm, session, model_tar, rows
):
    from offline.endpoint import start_endpoint
    from offline.endpoint.host import HostError

    deployable(managed_home, sm, model_tar, "v1")
    sm.create_endpoint(EndpointName="ops", EndpointConfigName="v1")
    settle(sm, "ops")
    with pytest.raises(HostError, match="already being served"):  # `mlops endpoint serve` cannot take the name
        start_endpoint(model_data=model_tar, endpoint_name="ops", workers=1, home=managed_home)
    runtime = session.client("sagemaker-runtime", config=NO_RETRIES)

    result = run(managed_home, "endpoint", "stop", "ops")
    assert result.exit_code == 0 and "Stopped ops: host pid" in result.output
    described = sm.describe_endpoint(EndpointName="ops")
    assert described["EndpointStatus"] == "OutOfService"
    assert "stopped with `mlops endpoint stop`" in described["FailureReason"]
    assert described["ProductionVariants"][0]["CurrentInstanceCount"] == 0
    with pytest.raises(ClientError) as e:
        runtime.invoke_endpoint(EndpointName="ops", ContentType="text/csv", Body=rows[0])
    assert error(e)[0] == "ValidationError"
    assert "OutOfService" in run(managed_home, "endpoint", "list").output
    assert run(managed_home, "endpoint", "stop", "ops").output.strip() == "ops has no running host"

    sm.update_endpoint(EndpointName="ops", EndpointConfigName="v1")  # a new host for the same configuration
    assert settle(sm, "ops")["EndpointStatus"] == "InService"
    assert runtime.invoke_endpoint(EndpointName="ops", ContentType="text/csv", Body=rows[0])["Body"].read()

    result = run(managed_home, "endpoint", "delete", "ops")
    assert result.exit_code == 0 and "Deleted endpoint ops" in result.output
    assert sm.list_endpoints()["Endpoints"] == []
    assert processes_of(managed_home) == []
    assert sm.describe_endpoint_config(EndpointConfigName="v1")["EndpointConfigName"] == "v1"  # kept, as on AWS
    assert sm.describe_model(ModelName="v1")["ModelName"] == "v1"


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["endpoint", "stop", "ghost"], "no endpoint named ghost"),
        (["endpoint", "stop", "bad_name"], "is not a valid SageMaker name"),
        (
            ["endpoint", "delete", "ghost"],
            'Could not find endpoint "arn:aws:sagemaker:us-east-1:123456789012:endpoint/ghost"',
        ),
        (["endpoint", "delete", "../x"], "is not a valid SageMaker name"),
    ],
)
def test_endpoint_commands_refuse_bad_names_with_exit_2(tmp_path, args, words):
    result = CliRunner().invoke(main, ["--home", str(tmp_path), *args])
    assert result.exit_code == 2 and words in result.stderr, result.stderr


def test_a_name_served_by_mlops_endpoint_serve_cannot_be_created(managed_home, sm, model_tar):
    from offline.endpoint import start_endpoint

    deployable(managed_home, sm, model_tar, "v1")
    with start_endpoint(model_data=model_tar, endpoint_name="fg", workers=1, home=managed_home) as endpoint:
        with pytest.raises(ClientError) as e:
            sm.create_endpoint(EndpointName="fg", EndpointConfigName="v1")
        assert error(e)[0] == "ResourceInUse" and f"pid {endpoint.pid}" in error(e)[1]
        listed = json.loads(run(managed_home, "endpoint", "list", "--json").output)
        assert [(e["name"], e["status"], e["kind"], e["url"]) for e in listed] == [
            ("fg", "Serving", "serve", endpoint.url)
        ]
        result = CliRunner().invoke(main, ["--home", str(managed_home), "endpoint", "delete", "fg"])
        assert result.exit_code == 2 and "use `mlops endpoint stop fg`" in result.stderr
    assert sm.list_endpoints()["Endpoints"] == []


# -- records that are not this home's live host --------------------------------------------------------


def test_a_copied_home_never_claims_or_signals_the_live_host(managed_home, sm, model_tar, rows, tmp_path):
    deployable(managed_home, sm, model_tar, "v1")
    sm.create_endpoint(EndpointName="orig", EndpointConfigName="v1")
    settle(sm, "orig")
    copy = tmp_path / "copy"
    shutil.copytree(managed_home, copy)  # while the host runs: its row comes along
    copied = local_session(copy)
    described = copied.client("sagemaker").describe_endpoint(EndpointName="orig")
    assert described["EndpointStatus"] == "OutOfService"
    assert "the home was copied or moved" in described["FailureReason"]
    with pytest.raises(ClientError) as e:
        copied.client("sagemaker-runtime", config=NO_RETRIES).invoke_endpoint(
            EndpointName="orig", ContentType="text/csv", Body=rows[0]
        )
    assert error(e)[0] == "ValidationError"
    assert json.loads(run(copy, "endpoint", "list", "--json").output)[0]["url"] is None
    assert run(copy, "endpoint", "stop", "orig").output.strip() == "orig has no running host"
    # the original is untouched: still InService and answering
    assert sm.describe_endpoint(EndpointName="orig")["EndpointStatus"] == "InService"
    runtime = local_session(managed_home).client("sagemaker-runtime", config=NO_RETRIES)
    assert runtime.invoke_endpoint(EndpointName="orig", ContentType="text/csv", Body=rows[0])["Body"].read()
    assert processes_of(copy) == []


def test_a_record_whose_pid_was_reused_reads_as_stopped(tmp_path):
    registry = HostRegistry.for_home(tmp_path / "home")
    record = registry.create("us-east-1", "reused", managed=True, pid=os.getpid())
    # This process is alive, but it is not the process recorded: another start time (a reused pid).
    registry.db.execute("UPDATE endpoint_hosts SET pid_start = 1, state = 'serving' WHERE id = ?", (record.id,))
    assert registry.serving("us-east-1", "reused") is None
    current = registry.current(record.id)
    assert current.state == "stopped" and f"(pid {os.getpid()}) is gone" in current.reason
    assert registry.live() == []
