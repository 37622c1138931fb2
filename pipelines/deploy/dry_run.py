"""`--dry-run`: real boto3 clients that validate every request and send none.

Each request goes through botocore's own parameter validation against the service model (the step
that raises ParamValidationError), is recorded, and is answered here instead of by AWS: reads get
placeholder answers (no approved package lookups, no existing resources), writes an empty success.
What the answers assume is listed, so the printed plan says what would differ in a real account.

`engine_switch_plan` adds what a deploy sends besides when the endpoint is monitored by the other
engine today: the same removal code runs against answers in which that engine's schedules exist.
`review_replacement_plan` likewise shows what a `--review a2i` deploy sends when an earlier deploy's
task UI and flow definition of the endpoint exist (a changed template or setting replaces them).
"""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import datetime, timezone

from pipelines.deploy.aws import ENGINES, SERVICES, AwsClients, DeploySettings, remove_other_engine
from pipelines.deploy.monitor_spec import DATA_QUALITY, MODEL_QUALITY, MonitorSpec
from pipelines.deploy.review_spec import ReviewSpec

DRY_RUN_ACCOUNT = "000000000000"
_NOT_FOUND = {
    ("sagemaker", "DescribeModel"): "ValidationException",
    ("sagemaker", "DescribeEndpointConfig"): "ValidationException",
    ("sagemaker", "DescribeEndpoint"): "ValidationException",
    ("sagemaker", "DescribeDataQualityJobDefinition"): "ResourceNotFound",
    ("sagemaker", "DescribeModelQualityJobDefinition"): "ResourceNotFound",
    ("sagemaker", "DescribeMonitoringSchedule"): "ResourceNotFound",
    ("sagemaker", "DescribeHumanTaskUi"): "ResourceNotFound",
    ("sagemaker", "DescribeFlowDefinition"): "ResourceNotFound",
    ("scheduler", "GetSchedule"): "ResourceNotFoundException",
    ("s3", "HeadObject"): "404",
    # the deploy workflow's setup (pipelines/deploy/workflow/aws_setup.py)
    ("sns", "GetTopicAttributes"): "NotFound",
    ("iam", "GetRole"): "NoSuchEntity",
    ("iam", "GetRolePolicy"): "NoSuchEntity",
    ("stepfunctions", "DescribeStateMachine"): "StateMachineDoesNotExist",
    ("events", "DescribeRule"): "ResourceNotFoundException",
}
_NOT_FOUND_404 = ("s3", "scheduler", "iam", "sns")
# (delete, the read it makes answer "not found") and the parameter naming the resource
_DELETES = {
    "DeleteMonitoringSchedule": "DescribeMonitoringSchedule",
    "DeleteSchedule": "GetSchedule",
    "DeleteFlowDefinition": "DescribeFlowDefinition",
    "DeleteHumanTaskUi": "DescribeHumanTaskUi",
}
_NAME_PARAMS = ("MonitoringScheduleName", "Name", "FlowDefinitionName", "HumanTaskUiName")
# list answers of an account holding nothing of this deploy (the replacement plan answers otherwise)
_EMPTY_LISTS = {
    "ListFlowDefinitions": "FlowDefinitionSummaries",
    "ListHumanTaskUis": "HumanTaskUiSummaries",
    "ListHumanLoops": "HumanLoopSummaries",
    "ListProcessingJobs": "ProcessingJobSummaries",
}


def engine_switch_plan(region: str, settings: DeploySettings, spec: MonitorSpec) -> dict:
    """What the deploy also sends when the endpoint is monitored by the other engine today (validated, none sent)."""
    other = next(engine for engine in ENGINES if engine != settings.monitor_engine)
    run = DryRun(region, spec.account)
    run.monitored_by(other, spec)
    changes = remove_other_engine(run.clients(), settings, spec)
    return {
        "from_engine": other,
        "requests": run.requests,
        "assumptions": run.assumptions,
        "changes": [c.as_dict() for c in changes],
    }


def review_replacement_plan(region: str, review: ReviewSpec, deletion_wait: dict) -> dict:
    """What a `--review a2i` deploy also sends when an earlier deploy's task UI and flow definition of
    the endpoint exist and its loops have all ended: their deletion (validated, none sent)."""
    from pipelines.deploy.review_resources import flow_definition_request, human_task_ui_request, remove_replaced
    from pipelines.deploy.review_schedule import job_name_prefix

    run = DryRun(region, review.account)
    old_ui, old_flow = f"{review.stem}-{'0' * 10}", f"{review.stem}-{'1' * 10}"
    run.answer("ListFlowDefinitions", "", {"FlowDefinitionSummaries": [_flow_summary(review, old_flow)]})
    run.answer("ListHumanTaskUis", "", {"HumanTaskUiSummaries": [_ui_summary(review, old_ui)]})
    run.answer("ListProcessingJobs", "", {"ProcessingJobSummaries": []})
    run.answer("ListHumanLoops", "", {"HumanLoopSummaries": []})
    run.answer(
        "DescribeFlowDefinition",
        old_flow,
        {"HumanLoopConfig": {"HumanTaskUiArn": review.arn(f"human-task-ui/{old_ui}")}},
    )
    run.assumptions += [
        f"an earlier deploy made task UI {old_ui} and flow definition {old_flow} (which uses it); their loops have "
        "all ended and no post-processing job is running (else both are kept and a later deploy deletes them)"
    ]
    ui, flow = human_task_ui_request(review)["HumanTaskUiName"], flow_definition_request(review)["FlowDefinitionName"]
    clients = run.clients()
    changes = remove_replaced(clients.sagemaker, clients.a2i, review, ui, flow, job_name_prefix(review), deletion_wait)
    return {"requests": run.requests, "assumptions": run.assumptions, "changes": [c.as_dict() for c in changes]}


def _flow_summary(review: ReviewSpec, name: str) -> dict:
    arn = review.arn(f"flow-definition/{name}")
    created = datetime(2026, 1, 1, tzinfo=timezone.utc)
    return {
        "FlowDefinitionName": name,
        "FlowDefinitionArn": arn,
        "FlowDefinitionStatus": "Active",
        "CreationTime": created,
    }


def _ui_summary(review: ReviewSpec, name: str) -> dict:
    created = datetime(2026, 1, 1, tzinfo=timezone.utc)
    return {"HumanTaskUiName": name, "HumanTaskUiArn": review.arn(f"human-task-ui/{name}"), "CreationTime": created}


class DryRun:
    def __init__(self, region: str, account: str = DRY_RUN_ACCOUNT):
        self.region = region
        self.account = account
        self._clients: AwsClients | None = None
        self.requests: list[dict] = []
        self.assumptions: list[str] = []
        self._pending: dict[int, dict] = {}
        self._existing: dict[tuple[str, str], dict] = {}  # (read operation, name) -> its answer
        self._deleted: set[tuple[str, str]] = set()

    def clients(self) -> AwsClients:
        """Clients for every service the deploy uses, which never open a connection."""
        import boto3

        if self._clients is None:
            session = boto3.Session(
                aws_access_key_id="dry-run", aws_secret_access_key="dry-run", region_name=self.region
            )
            clients = [session.client(name) for name in SERVICES]
            for client in clients:
                client.meta.events.register("before-parameter-build.*.*", self._record)
                client.meta.events.register("before-call.*.*", self._answer)
            self._clients = AwsClients(*clients)
        return self._clients

    def client(self, service: str):
        """A client of any service (the workflow's setup uses stepfunctions, events, iam, sns) that never connects."""
        import boto3

        session = boto3.Session(aws_access_key_id="dry-run", aws_secret_access_key="dry-run", region_name=self.region)
        client = session.client(service)
        client.meta.events.register("before-parameter-build.*.*", self._record)
        client.meta.events.register("before-call.*.*", self._answer)
        return client

    def answer(self, operation: str, name: str, response: dict) -> None:
        """Answer `operation` on resource `name` ("" for list operations) with `response`."""
        self._existing[(operation, name)] = response

    def _record(self, params: dict, model, context: dict, **_kwargs) -> None:
        self._pending[id(context)] = {
            "service": model.service_model.service_name,
            "operation": model.name,
            "params": _printable(copy.deepcopy(params)),
        }

    def _answer(self, model, context: dict, **_kwargs):
        """botocore validated the request: keep it and answer it (a 2xx answer or a not-found error)."""
        from botocore.awsrequest import AWSResponse

        entry = self._pending.pop(id(context), {"service": model.service_model.service_name, "operation": model.name})
        service = model.service_model.service_name
        self.requests.append(entry)
        params = entry.get("params", {})
        key = (model.name, next((params[p] for p in _NAME_PARAMS if p in params), ""))
        if key in self._existing:
            return AWSResponse(None, 200, {}, None), self._existing[key]
        if model.name in _DELETES:
            read = (_DELETES[model.name], key[1])
            self._deleted.add(read)
            self._existing.pop(read, None)
        code = _NOT_FOUND.get((service, model.name))
        if code:
            if key not in self._deleted:
                self._assume(
                    "nothing of this deploy exists yet: Describe*, GetSchedule and HeadObject answer 'not found'"
                )
            status = 404 if service in _NOT_FOUND_404 else 400
            return AWSResponse(None, status, {}, None), {"Error": {"Code": code, "Message": "dry run"}}
        return AWSResponse(None, 200, {}, None), self._read_answer(service, model.name, entry.get("params", {}))

    def monitored_by(self, engine: str, spec: MonitorSpec) -> None:
        """Answer the reads as if `engine`'s two schedules of this endpoint existed, as it creates them."""
        from pipelines.deploy.monitor_managed import (
            MONITORING_TYPES,
            data_quality_job_definition,
            model_quality_job_definition,
        )
        from pipelines.deploy.scheduler_target import SCHEDULE_GROUP, TARGET_ARN
        from pipelines.images import analyzer_image

        builds = {DATA_QUALITY: data_quality_job_definition, MODEL_QUALITY: model_quality_job_definition}
        for kind, build in builds.items():
            name = spec.schedule(kind)
            if engine == "managed":
                job = build(spec, analyzer_image(self.region))["JobDefinitionName"]
                self._existing[("DescribeMonitoringSchedule", name)] = {
                    "MonitoringScheduleArn": f"arn:aws:sagemaker:{self.region}:{spec.account}:monitoring-schedule/{name}",
                    "MonitoringScheduleName": name,
                    "MonitoringScheduleStatus": "Scheduled",
                    "EndpointName": spec.endpoint,
                    "MonitoringScheduleConfig": {
                        "MonitoringJobDefinitionName": job,
                        "MonitoringType": MONITORING_TYPES[kind],
                    },
                }
                self._assume(f"{name} is a Model Monitor schedule running {job} (this package's job definition)")
            else:
                template = {"Environment": {"sagemaker_endpoint_name": spec.endpoint}}
                self._existing[("GetSchedule", name)] = {
                    "Name": name,
                    "GroupName": SCHEDULE_GROUP,
                    "Target": {"Arn": TARGET_ARN, "RoleArn": spec.role_arn, "Input": json.dumps(template)},
                }
                self._assume(f"{name} is a Scheduler schedule starting this endpoint's {kind} Processing jobs")

    def _read_answer(self, service: str, operation: str, params: dict) -> dict:
        if operation == "GetCallerIdentity":
            self._assume(f"the account is {self.account} (GetCallerIdentity is not sent)")
            return {"Account": self.account, "Arn": f"arn:aws:iam::{self.account}:user/dry-run", "UserId": "DRYRUN"}
        if operation in ("CreateHumanTaskUi", "CreateFlowDefinition"):
            noun = "human-task-ui" if operation == "CreateHumanTaskUi" else "flow-definition"
            name = params.get("HumanTaskUiName") or params.get("FlowDefinitionName")
            arn = f"arn:aws:sagemaker:{self.region}:{self.account}:{noun}/{name}"
            return {"HumanTaskUiArn": arn} if noun == "human-task-ui" else {"FlowDefinitionArn": arn}
        if operation in _CREATED_ANSWERS:
            return _CREATED_ANSWERS[operation](self.region, self.account, params)
        if operation in _EMPTY_LISTS:
            self._assume("no task UI, flow definition or post-processing job of an earlier deploy exists")
            return {_EMPTY_LISTS[operation]: []}
        if operation == "ListModelPackages":
            group = params["ModelPackageGroupName"]
            arn = f"arn:aws:sagemaker:{self.region}:{self.account}:model-package/{group.lower()}/1"
            self._assume(f"the latest approved package of {group} is {arn}")
            return {
                "ModelPackageSummaryList": [
                    {
                        "ModelPackageArn": arn,
                        "ModelPackageGroupName": group,
                        "CreationTime": datetime.now(timezone.utc),
                        "ModelPackageStatus": "Completed",
                        "ModelApprovalStatus": "Approved",
                    }
                ]
            }
        if operation == "DescribeModelPackage":
            return self._package(params["ModelPackageName"])
        return {}

    def _package(self, arn: str) -> dict:
        group = arn.split(":model-package/")[-1].split("/")[0] if ":model-package/" in arn else "group"
        base = f"s3://sagemaker-{self.region}-{self.account}/dry-run/{group}/drift-check"
        self._assume(f"{arn} is Approved with drift-check baselines under {base}")

        def source(kind: str, name: str) -> dict:
            return {"ContentType": "application/json", "S3Uri": f"{base}/{kind}/{name}.json"}

        from pipelines.images import xgboost_image

        model = f"s3://sagemaker-{self.region}-{self.account}/dry-run/{group}/model.tar.gz"
        return {
            "ModelPackageArn": arn,
            "ModelPackageGroupName": group,
            "ModelApprovalStatus": "Approved",
            "InferenceSpecification": {
                "Containers": [{"Image": xgboost_image(self.region), "ModelDataUrl": model}],
                "SupportedContentTypes": ["text/csv", "application/json"],
                "SupportedResponseMIMETypes": ["text/csv", "application/json"],
            },
            "DriftCheckBaselines": {
                "ModelDataQuality": {
                    "Statistics": source("data-quality", "statistics"),
                    "Constraints": source("data-quality", "constraints"),
                },
                "ModelQuality": {"Constraints": source("model-quality", "constraints")},
            },
        }

    def _assume(self, text: str) -> None:
        if text not in self.assumptions:
            self.assumptions.append(text)


_NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)
# answers to the workflow setup's creates (what AWS returns, from the request)
_CREATED_ANSWERS = {
    "CreateTopic": lambda region, account, p: {"TopicArn": f"arn:aws:sns:{region}:{account}:{p['Name']}"},
    "CreateRole": lambda region, account, p: {
        "Role": {
            "Path": "/",
            "RoleName": p["RoleName"],
            "RoleId": "AROADRYRUN",
            "Arn": f"arn:aws:iam::{account}:role/{p['RoleName']}",
            "CreateDate": _NOW,
        }
    },
    "CreateStateMachine": lambda region, account, p: {
        "stateMachineArn": f"arn:aws:states:{region}:{account}:stateMachine:{p['name']}",
        "creationDate": _NOW,
    },
    "StartExecution": lambda region, account, p: {
        "executionArn": p["stateMachineArn"].replace(":stateMachine:", ":execution:") + ":dry-run",
        "startDate": _NOW,
    },
    "PutRule": lambda region, account, p: {"RuleArn": f"arn:aws:events:{region}:{account}:rule/{p['Name']}"},
    "PutTargets": lambda region, account, p: {"FailedEntryCount": 0, "FailedEntries": []},
}


def _printable(value):
    """Request params as JSON: bytes become their size and SHA-256, datetimes ISO strings."""
    if isinstance(value, (bytes, bytearray)):
        return {"bytes": len(value), "sha256": hashlib.sha256(value).hexdigest()}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _printable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_printable(v) for v in value]
    return value
