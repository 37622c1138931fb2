"""moto for the AWS APIs it implements, botocore's Stubber for the few it lacks (monitoring schedules,
UpdateEndpoint, A2I's task UIs and flow definitions), routed per operation on the same client, and a
Stubber for the whole A2I runtime (moto has none); every request is recorded for the IAM tests.
Like moto's empty account, the account has no monitoring schedule: a DescribeMonitoringSchedule no
test queued an answer for is answered ResourceNotFound (every processing-engine deploy asks)."""

from __future__ import annotations

import copy
import shutil
from collections import Counter
from dataclasses import dataclass, field

import pytest

REGION = "us-east-1"
ACCOUNT = "123456789012"
BUCKET = f"sagemaker-{REGION}-{ACCOUNT}"
GROUP = "BreastCancerPackageGroup"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/mlops-execution"
SCHEDULER_ROLE = f"arn:aws:iam::{ACCOUNT}:role/mlops-scheduler"
MISSING_IN_MOTO = (
    "DescribeMonitoringSchedule",
    "CreateMonitoringSchedule",
    "UpdateMonitoringSchedule",
    "DeleteMonitoringSchedule",
    "UpdateEndpoint",
    "CreateHumanTaskUi",
    "DescribeHumanTaskUi",
    "DeleteHumanTaskUi",
    "ListHumanTaskUis",
    "CreateFlowDefinition",
    "DescribeFlowDefinition",
    "DeleteFlowDefinition",
    "ListFlowDefinitions",
)
WORKTEAM = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:workteam/private-crowd/bc-reviewers"
TEMPLATE = """<script src="https://assets.crowd.aws/crowd-html-elements.js"></script>
<crowd-form>
  <p>Probability of malignancy: {{ task.input.probability }}</p>
  <crowd-radio-group>
    <crowd-radio-button name="label" value="1">malignant</crowd-radio-button>
    <crowd-radio-button name="label" value="0">benign</crowd-radio-button>
  </crowd-radio-group>
</crowd-form>
"""
ABSENT_UNLESS_QUEUED = ("DescribeMonitoringSchedule",)


@dataclass
class Recorder:
    """Every request the clients validated and sent: (service, operation, params)."""

    calls: list[tuple[str, str, dict]] = field(default_factory=list)

    def attach(self, client) -> None:
        service = client.meta.service_model.service_name
        pending: dict[int, dict] = {}

        def capture(params, model, context, **_):
            pending[id(context)] = copy.deepcopy(params)

        def sent(model, context, **_):
            self.calls.append((service, model.name, pending.pop(id(context), {})))

        client.meta.events.register("before-parameter-build.*.*", capture)
        client.meta.events.register_first("before-call.*.*", sent)

    def operations(self) -> list[str]:
        return [op for _, op, _ in self.calls]


class Routed:
    """Answers chosen SageMaker operations from a Stubber'd twin client; moto answers the rest."""

    def __init__(self, client, operations=MISSING_IN_MOTO):
        import boto3
        from botocore.stub import Stubber

        self.twin = boto3.client("sagemaker", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
        self.stubber = Stubber(self.twin)
        self.stubber.activate()
        self.queued: Counter = Counter()
        pending: dict[int, dict] = {}

        def capture(params, context, **_):
            pending[id(context)] = params

        def answer(model, context, **_):
            from botocore.awsrequest import AWSResponse
            from botocore.exceptions import ClientError

            params = pending.pop(id(context))
            if model.name in ABSENT_UNLESS_QUEUED and not self.queued[model.name]:
                return AWSResponse(None, 400, {}, None), {"Error": {"Code": "ResourceNotFound", "Message": "absent"}}
            self.queued[model.name] -= 1
            method = getattr(self.twin, _snake(model.name))
            try:
                return AWSResponse(None, 200, {}, None), method(**params)
            except ClientError as e:
                return AWSResponse(None, 400, {}, None), e.response

        self.client, self._capture, self._answer = client, capture, answer
        self._register(client, operations)

    def _register(self, client, operations) -> None:
        for name in operations:
            client.meta.events.register(f"before-parameter-build.sagemaker.{name}", self._capture)
            client.meta.events.register(f"before-call.sagemaker.{name}", self._answer)

    def respond(self, operation: str, response: dict, expected: dict | None = None) -> None:
        self.queued[operation] += 1
        self.stubber.add_response(_snake(operation), response, expected)

    def routes(self, operations: tuple[str, ...]) -> None:
        """Answer these operations from the Stubber too (ones moto has, for one test)."""
        self._register(self.client, operations)

    def not_found(self, operation: str, expected: dict | None = None) -> None:
        self.refuse(operation, "ResourceNotFound", "not found", expected)

    def refuse(self, operation: str, code: str, message: str, expected: dict | None = None) -> None:
        self.queued[operation] += 1
        self.stubber.add_client_error(_snake(operation), code, message, 400, expected_params=expected)

    def done(self) -> None:
        self.stubber.assert_no_pending_responses()


def _snake(name: str) -> str:
    from botocore import xform_name

    return xform_name(name)


@pytest.fixture
def aws(monkeypatch):
    """moto with the project's bucket, and clients that record what they send."""
    from moto import mock_aws

    for key in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_SAGEMAKER", "AWS_ENDPOINT_URL_STS"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        import boto3
        from botocore.stub import Stubber

        from pipelines.deploy.aws import AwsClients

        clients = AwsClients.from_session(boto3.Session(region_name=REGION))
        recorder = Recorder()
        for client in (clients.sagemaker, clients.s3, clients.scheduler, clients.sts, clients.a2i):
            recorder.attach(client)
        clients.s3.create_bucket(Bucket=BUCKET)
        clients.sagemaker.create_model_package_group(ModelPackageGroupName=GROUP)
        with Stubber(clients.a2i) as a2i:
            yield Env(clients, recorder, Routed(clients.sagemaker), a2i)


@dataclass
class Env:
    clients: object
    recorder: Recorder
    routed: Routed
    a2i: object  # botocore Stubber of the A2I runtime client

    def done(self) -> None:
        self.routed.done()
        self.a2i.assert_no_pending_responses()

    def package(self, status: str = "Approved", baselines: dict | None = None, version: str = "v1") -> str:
        """A model package as the build pipeline registers it (drift-check baselines in S3)."""
        drift = baselines if baselines is not None else drift_check_baselines(version)
        return self.clients.sagemaker.create_model_package(
            ModelPackageGroupName=GROUP,
            ModelApprovalStatus=status,
            InferenceSpecification={
                "Containers": [
                    {
                        "Image": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:3.0-5",
                        "ModelDataUrl": f"s3://{BUCKET}/models/{version}/model.tar.gz",
                    }
                ],
                "SupportedContentTypes": ["text/csv", "application/json"],
                "SupportedResponseMIMETypes": ["text/csv", "application/json"],
            },
            **({"DriftCheckBaselines": drift} if drift else {}),
        )["ModelPackageArn"]


def drift_check_baselines(version: str = "v1") -> dict:
    def source(path: str) -> dict:
        return {"ContentType": "application/json", "S3Uri": f"s3://{BUCKET}/baselines/{version}/{path}"}

    return {
        "ModelDataQuality": {
            "Statistics": source("data-quality/statistics.json"),
            "Constraints": source("data-quality/constraints.json"),
        },
        "ModelQuality": {
            "Statistics": source("model-quality/statistics.json"),
            "Constraints": source("model-quality/constraints.json"),
        },
    }


def settings(**overrides):
    from pipelines.deploy.aws import DeploySettings

    values = {
        "role_arn": ROLE,
        "region": REGION,
        "scheduler_role_arn": SCHEDULER_ROLE,
        "waiter_config": {"Delay": 0, "MaxAttempts": 3},
        "deletion_wait": {"Delay": 0, "MaxAttempts": 3},
    }
    values.update(overrides)
    return DeploySettings(**values)


def review_settings(**overrides):
    from pipelines.deploy.review_spec import ReviewSettings

    values = {"workteam_arn": WORKTEAM, "task_template": TEMPLATE}
    values.update(overrides)
    return ReviewSettings(**values)


STARTER = "start_human_loops.py"
STARTER_STAND_IN = '''"""Stand-in for processing/start_human_loops.py, used by the deploy tests while the checkout lacks it:
the command line of its contract, nothing more."""

import argparse

parser = argparse.ArgumentParser()
for option in ("--capture-uri", "--scheduled-time", "--flow-definition-arn", "--output-uri", "--region"):
    parser.add_argument(option, required=True)
parser.add_argument("--audit-rate", type=float, required=True)
parser.parse_args()
raise SystemExit("stand-in: the real human-loop starter is not in this checkout")
'''


@pytest.fixture
def starter(monkeypatch, tmp_path):
    """The starter script the review job ships: processing/start_human_loops.py when the checkout has it,
    else a copy of the processing package with a stand-in of its command line (so bundles can be built)."""
    from pipelines.deploy import code_bundle

    package = code_bundle.processing_package()
    if (package / STARTER).is_file():
        return package / STARTER
    staged = tmp_path / "processing"
    shutil.copytree(package, staged)
    (staged / STARTER).write_text(STARTER_STAND_IN)
    monkeypatch.setattr(code_bundle, "processing_package", lambda: staged)
    return staged / STARTER


def validate_request(service: str, operation: str, params: dict) -> None:
    """Raise ParamValidationError unless params fit botocore's input shape of the operation."""
    import botocore.session
    from botocore.validate import validate_parameters

    model = botocore.session.get_session().get_service_model(service)
    validate_parameters(params, model.operation_model(operation).input_shape)
