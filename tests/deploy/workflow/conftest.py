"""A local home with a model package group and real models, set up for deployment through the workflow.

The workflow runs for real: the local states service starts a background runner per execution, which calls
the local SageMaker service; CreateEndpoint starts detached hosts serving the model. Everything a test
started for its home is stopped at the end (a process left behind fails the test)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from offline.defaults import LOCAL_BUCKET
from tests.offline.endpoint.conftest import broken_model_tar  # noqa: F401  (a fixture, re-used)
from tests.processes import reap

GROUP = "BreastCancerPackageGroup"
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:3.0-5"
ROW = ",".join(["17.99", "10.38", "122.8", "1001", "0.1184", "0.2776", "0.3001", "0.1471", "0.2419", "0.07871",
                "1.095", "0.9053", "8.589", "153.4", "0.006399", "0.04904", "0.05373", "0.01587", "0.03003",
                "0.006193", "25.38", "17.33", "184.6", "2019", "0.1622", "0.6656", "0.7119", "0.2654", "0.4601",
                "0.1189"])  # fmt: skip


@dataclass
class Registry:
    """Registers packages as the build pipeline does (model data and drift-check baselines in the store)."""

    home: Path
    versions: dict[str, str] = field(default_factory=dict)  # tag -> package ARN

    @property
    def session(self):
        from offline.aws import local_session

        return local_session(self.home)

    def register(self, tag: str, model: Path, baselines: bool = True) -> str:
        from offline.store import ObjectStore

        store = ObjectStore.for_home(self.home)
        uri = f"s3://{LOCAL_BUCKET}/models/{tag}/model.tar.gz"
        store.put_file(uri, model)
        request = {
            "ModelPackageGroupName": GROUP,
            "ModelApprovalStatus": "PendingManualApproval",
            "InferenceSpecification": {
                "Containers": [{"Image": IMAGE, "ModelDataUrl": uri}],
                "SupportedContentTypes": ["text/csv", "application/json"],
                "SupportedResponseMIMETypes": ["text/csv", "application/json"],
            },
        }
        if baselines:
            request["DriftCheckBaselines"] = drift_check_baselines(store, tag)
        arn = self.session.client("sagemaker").create_model_package(**request)["ModelPackageArn"]
        self.versions[tag] = arn
        return arn

    def approve(self, tag: str) -> None:
        self.session.client("sagemaker").update_model_package(
            ModelPackageArn=self.versions[tag], ModelApprovalStatus="Approved"
        )


def drift_check_baselines(store, tag: str) -> dict:
    def source(path: str) -> dict:
        uri = f"s3://{LOCAL_BUCKET}/baselines/{tag}/{path}"
        store.put_bytes(uri, json.dumps({"version": 0.0}).encode())
        return {"ContentType": "application/json", "S3Uri": uri}

    return {
        "ModelDataQuality": {
            "Statistics": source("data-quality/statistics.json"),
            "Constraints": source("data-quality/constraints.json"),
        },
        "ModelQuality": {"Constraints": source("model-quality/constraints.json")},
    }


@pytest.fixture
def deploy_home(tmp_path, monkeypatch):
    """A home with the group; every process of it (runners, hosts) is ended when the test ends."""
    from offline.aws import local_session

    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("MLOPS_HOME", str(home))
    local_session(home).client("sagemaker").create_model_package_group(ModelPackageGroupName=GROUP)
    yield home
    stop_everything(home)


def stop_everything(home: Path) -> None:
    """Stop the running executions (their runners notice within 0.2 s), then the endpoints' hosts."""
    from offline.aws.states.backend import StepFunctionsBackend
    from offline.endpoint.hosts import HostRegistry

    states = StepFunctionsBackend.for_home(home)
    for machine in _machines(states):
        for execution in states.list_executions({"stateMachineArn": machine, "statusFilter": "RUNNING"})["executions"]:
            states.stop_execution({"executionArn": execution["executionArn"], "cause": "the test ended"})
    registry = HostRegistry.for_home(home)
    registry.stop(registry.live(), "the test ended")
    left = reap(home, 15)
    assert not left, f"processes of {home} still running after the test: {left}"


def _machines(states) -> list[str]:
    from offline.defaults import LOCAL_REGION

    return [m["stateMachineArn"] for m in states.list_state_machines(LOCAL_REGION, {})["stateMachines"]]


@pytest.fixture
def registry(deploy_home) -> Registry:
    return Registry(deploy_home)


@pytest.fixture
def local_target(deploy_home):
    """The group set up for deployment as `mlops deploy --local` sets it up, without human review."""
    from offline.deploy.local import local_settings, set_up

    settings = local_settings(GROUP, review=False)
    set_up(settings, deploy_home)
    return settings


def wait_for(check, timeout: float = 60.0, what: str = "condition", interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def executions(home: Path, machine_arn: str) -> list[dict]:
    from offline.aws import local_session

    return local_session(home).client("stepfunctions").list_executions(stateMachineArn=machine_arn)["executions"]


def entered_states(home: Path, execution_arn: str) -> list[str]:
    from offline.aws import local_session

    sfn = local_session(home).client("stepfunctions")
    events = sfn.get_execution_history(executionArn=execution_arn, maxResults=1000)["events"]
    return [e["stateEnteredEventDetails"]["name"] for e in events if e["type"].endswith("StateEntered")]
