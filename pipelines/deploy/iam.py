"""Least-privilege IAM policy documents for a deploy, generated from what it deploys.

Four principals, each with only what it needs (docs/aws-deploy.md explains every statement):
- `deployer`: whoever runs `mlops deploy --aws --direct` (the deploy workflow's roles are
  `workflow_policies` below): the registry reads, CreateModel / CreateEndpointConfig / CreateEndpoint /
  UpdateEndpoint, and the chosen engine's monitoring resources, and the removal of the other engine's
  schedules of this endpoint (an engine switch); iam:PassRole only for the roles it hands on, only to the
  service using them.
- `model`: the endpoint's execution role: read the model artifact, pull the image, write captured data.
- `monitoring`: the monitoring jobs' role: read captured data, ground truth, baselines and code;
  write reports; publish metrics only into Model Monitor's two endpoint namespaces.
- `scheduler` (engine `processing`, or `--review a2i`): the role EventBridge Scheduler assumes to
  start the scheduled jobs.
- `review_job` (`--review a2i`): the post-processing job's role: read captured data, write the hour's
  manifest, start human loops with this endpoint's flow definitions and read them back.
- `review` (`--review a2i`): the flow definition's role: A2I writes the reviewers' answers with it.
Names are scoped to this endpoint (`<endpoint>-*`), buckets to their prefixes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipelines.deploy.monitor_spec import DATA_QUALITY, MODEL_QUALITY, MonitorSpec
from pipelines.deploy.review_spec import ReviewSpec
from pipelines.deploy.s3uri import parse_s3_uri

VERSION = "2012-10-17"
METRIC_NAMESPACES = ["aws/sagemaker/Endpoints/data-metrics", "aws/sagemaker/Endpoints/model-metrics"]
ECR_PULL = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
LOGS = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]


@dataclass(frozen=True)
class PolicyInputs:
    spec: MonitorSpec
    engine: str  # managed | processing
    model_package_group: str
    model_data_url: str
    model_image: str
    monitoring_image: str  # the Model Monitor analyzer (managed) or XGBoost (processing) image
    model_role_arn: str
    scheduler_role_arn: str | None = None
    code_prefix: str | None = None  # processing engine or review: where the scheduled jobs' bundles live
    job_name_prefixes: tuple[str, ...] = ()  # processing engine: `<prefix>-<execution id>` job names
    review: ReviewSpec | None = None  # --review a2i
    review_job_prefix: str | None = None  # the post-processing jobs' `<prefix>-<execution id>` names
    job_image: str | None = None  # the scheduled jobs' image (XGBoost 3.0-5)
    kms_key_id: str | None = None  # --kms-key-id: the endpoint configs' DataCaptureConfig.KmsKeyId

    def arn(self, service: str, resource: str) -> str:
        return f"arn:aws:{service}:{self.spec.region}:{self.spec.account}:{resource}"


def policies(inputs: PolicyInputs) -> dict[str, dict]:
    """{principal: {"policy": document, "trust": document or None}} for every role the deploy needs."""
    found = {
        "deployer": {"policy": deployer_policy(inputs), "trust": None},
        "model": {"policy": model_policy(inputs), "trust": trust_policy("sagemaker.amazonaws.com")},
        "monitoring": {"policy": monitoring_policy(inputs), "trust": trust_policy("sagemaker.amazonaws.com")},
    }
    if inputs.scheduler_role_arn:
        found["scheduler"] = {
            "policy": scheduler_policy(inputs),
            "trust": trust_policy("scheduler.amazonaws.com", inputs.spec.account),
        }
    if inputs.review is not None:
        found["review_job"] = {"policy": review_job_policy(inputs), "trust": trust_policy("sagemaker.amazonaws.com")}
        found["review"] = {"policy": review_policy(inputs), "trust": trust_policy("sagemaker.amazonaws.com")}
    return found


def deployer_policy(inputs: PolicyInputs) -> dict:
    spec = inputs.spec
    endpoint = spec.endpoint.lower()  # SageMaker writes resource names in ARNs in lower case
    model = inputs.arn("sagemaker", f"model/{endpoint}-*")
    config = inputs.arn("sagemaker", f"endpoint-config/{endpoint}-*")
    endpoint_arn = inputs.arn("sagemaker", f"endpoint/{endpoint}")
    statements = [
        *_registry_reads(inputs),
        _statement("Model", ["sagemaker:CreateModel", "sagemaker:DescribeModel"], [model]),
        _statement("EndpointConfig", ["sagemaker:CreateEndpointConfig", "sagemaker:DescribeEndpointConfig"], [config]),
        _statement("Endpoint", ["sagemaker:CreateEndpoint", "sagemaker:UpdateEndpoint"], [endpoint_arn, config]),
        _statement("ReadEndpoint", ["sagemaker:DescribeEndpoint"], [endpoint_arn]),
        _pass_role("PassModelRole", [inputs.model_role_arn], "sagemaker.amazonaws.com"),
        *capture_key_statements(inputs),
    ]
    tagged = [model, config, endpoint_arn]
    if inputs.engine == "managed":
        statements += _managed_deployer(inputs, tagged)
    else:
        statements += _processing_deployer(inputs)
    statements += _scheduled_jobs_deployer(inputs)
    if inputs.review is not None:
        statements += _review_deployer(inputs, tagged)
    statements.append(_statement("TagOnCreate", ["sagemaker:AddTags"], tagged))
    return _document(statements)


def _registry_reads(inputs: PolicyInputs) -> list[dict]:
    """Finding the group's packages (ListModelPackages takes no resource) and reading them."""
    return [
        _statement("ListModelPackages", ["sagemaker:ListModelPackages"], ["*"]),
        _statement(
            "ReadModelPackages",
            ["sagemaker:DescribeModelPackage"],
            [inputs.arn("sagemaker", f"model-package/{inputs.model_package_group.lower()}/*")],
        ),
    ]


def _scheduled_jobs_deployer(inputs: PolicyInputs) -> list[dict]:
    """Code upload, Scheduler schedules and the scheduler role, for the jobs Scheduler starts."""
    if not inputs.scheduler_role_arn:
        return []
    bucket, prefix = parse_s3_uri(inputs.code_prefix or "", "code destination")
    schedules = _schedules(inputs) if inputs.engine == "processing" else []
    if inputs.review is not None:
        schedules.append(_schedule_arn(inputs, inputs.review.schedule))
    return [
        _statement("JobCode", ["s3:GetObject", "s3:PutObject"], [_objects(bucket, prefix)]),
        _list_bucket("JobCodeListing", bucket, [prefix]),
        _statement(
            "Schedules", ["scheduler:CreateSchedule", "scheduler:GetSchedule", "scheduler:UpdateSchedule"], schedules
        ),
        _pass_role("PassSchedulerRole", [inputs.scheduler_role_arn], "scheduler.amazonaws.com"),
    ]


def _review_deployer(inputs: PolicyInputs, tagged: list[str]) -> list[dict]:
    """The task UIs and flow definitions of this endpoint (create, read, delete replaced ones)."""
    review = inputs.review
    uis, flows = _review_resources(inputs)
    tagged += [uis, flows]
    return [
        _statement("TaskUis", [f"sagemaker:{v}HumanTaskUi" for v in ("Create", "Describe", "Delete")], [uis]),
        # only with the chosen work team (the condition key CreateFlowDefinition documents)
        _statement(
            "CreateFlowDefinitions",
            ["sagemaker:CreateFlowDefinition"],
            [flows],
            {"ArnEquals": {"sagemaker:WorkteamArn": review.settings.workteam_arn}},  # an ARN-typed key
        ),
        _statement("FlowDefinitions", ["sagemaker:DescribeFlowDefinition", "sagemaker:DeleteFlowDefinition"], [flows]),
        # List* take no resource: finding replaced UIs and flow definitions, their unfinished loops, running jobs
        _statement(
            "ListReviewResources",
            [
                f"sagemaker:{op}"
                for op in ("ListFlowDefinitions", "ListHumanLoops", "ListHumanTaskUis", "ListProcessingJobs")
            ],
            ["*"],
        ),
        _pass_role("PassReviewRole", [review.flow_role_arn], "sagemaker.amazonaws.com"),
    ]


def _review_resources(inputs: PolicyInputs) -> tuple[str, str]:
    """ARN patterns of this endpoint's task UIs and flow definitions (`<endpoint>-review-<hash>`)."""
    stem = inputs.review.stem
    return inputs.arn("sagemaker", f"human-task-ui/{stem}-*"), inputs.arn("sagemaker", f"flow-definition/{stem}-*")


def _managed_deployer(inputs: PolicyInputs, tagged: list[str]) -> list[dict]:
    spec = inputs.spec
    data, quality, schedules = _managed_resources(inputs)
    tagged += data + quality + schedules
    verbs = ("Create", "Describe", "Delete")
    return [
        _statement("DataQualityJobDefinitions", [f"sagemaker:{v}DataQualityJobDefinition" for v in verbs], data),
        _statement("ModelQualityJobDefinitions", [f"sagemaker:{v}ModelQualityJobDefinition" for v in verbs], quality),
        _statement(
            "MonitoringSchedules",
            [f"sagemaker:{v}MonitoringSchedule" for v in ("Create", "Describe", "Update")],
            schedules,
        ),
        _pass_role("PassMonitoringRole", [spec.role_arn], "sagemaker.amazonaws.com"),
        # engine switch: the processing engine's schedules of this endpoint are removed
        _statement(
            "RemoveProcessingSchedules", ["scheduler:GetSchedule", "scheduler:DeleteSchedule"], _schedules(inputs)
        ),
    ]


def _processing_deployer(inputs: PolicyInputs) -> list[dict]:
    data, quality, monitoring_schedules = _managed_resources(inputs)
    return [
        # engine switch: the managed engine's schedules of this endpoint and the job definitions they ran are removed
        _statement(
            "RemoveManagedSchedules",
            ["sagemaker:DescribeMonitoringSchedule", "sagemaker:DeleteMonitoringSchedule"],
            monitoring_schedules,
        ),
        _statement("RemoveDataQualityJobDefinitions", ["sagemaker:DeleteDataQualityJobDefinition"], data),
        _statement("RemoveModelQualityJobDefinitions", ["sagemaker:DeleteModelQualityJobDefinition"], quality),
    ]


def _managed_resources(inputs: PolicyInputs) -> tuple[list[str], list[str], list[str]]:
    """ARNs of the managed engine's data/model-quality job definitions and monitoring schedules."""
    spec = inputs.spec
    data = [inputs.arn("sagemaker", f"data-quality-job-definition/{spec.schedule(DATA_QUALITY).lower()}-*")]
    quality = [inputs.arn("sagemaker", f"model-quality-job-definition/{spec.schedule(MODEL_QUALITY).lower()}-*")]
    schedules = [inputs.arn("sagemaker", f"monitoring-schedule/{spec.schedule(k).lower()}") for k in _KINDS]
    return data, quality, schedules


def _schedules(inputs: PolicyInputs) -> list[str]:
    """ARNs of the processing engine's Scheduler schedules (group `default`; names keep their case)."""
    return [_schedule_arn(inputs, inputs.spec.schedule(k)) for k in _KINDS]


def _schedule_arn(inputs: PolicyInputs, name: str) -> str:
    return f"arn:aws:scheduler:{inputs.spec.region}:{inputs.spec.account}:schedule/default/{name}"


def model_policy(inputs: PolicyInputs) -> dict:
    spec = inputs.spec
    artifact_bucket, artifact_key = parse_s3_uri(inputs.model_data_url, "model data")
    capture_bucket, capture_prefix = parse_s3_uri(spec.capture_uri, "capture location")
    return _document(
        [
            _statement("ModelArtifact", ["s3:GetObject"], [f"arn:aws:s3:::{artifact_bucket}/{artifact_key}"]),
            _statement("DataCapture", ["s3:PutObject"], [_objects(capture_bucket, capture_prefix)]),
            *_image_pull("Image", [inputs.model_image]),
            _statement("Logs", LOGS, [inputs.arn("logs", f"log-group:/aws/sagemaker/Endpoints/{spec.endpoint}:*")]),
        ]
    )


def monitoring_policy(inputs: PolicyInputs) -> dict:
    spec = inputs.spec
    reads: dict[str, list[str]] = {}  # bucket -> prefixes the jobs list and read
    for uri in (spec.capture_uri, spec.ground_truth):
        bucket, prefix = parse_s3_uri(uri, "monitoring input")
        reads.setdefault(bucket, []).append(prefix)
    files = [spec.baselines.data_quality_statistics, spec.baselines.data_quality_constraints]
    files.append(spec.baselines.model_quality_constraints)
    read_objects = [_objects(b, p) for b, prefixes in reads.items() for p in prefixes]
    read_objects += [f"arn:aws:s3:::{'/'.join(parse_s3_uri(uri, 'baseline'))}" for uri in files]
    if inputs.engine == "processing":
        code_bucket, code_prefix = parse_s3_uri(inputs.code_prefix or "", "code destination")
        read_objects.append(_objects(code_bucket, code_prefix))
    report_bucket, report_prefix = parse_s3_uri(spec.report_destination, "report destination")
    return _document(
        [
            _statement("ReadInputs", ["s3:GetObject"], read_objects),
            *[_list_bucket(f"List{i}", bucket, prefixes) for i, (bucket, prefixes) in enumerate(sorted(reads.items()))],
            _statement("WriteReports", ["s3:PutObject"], [_objects(report_bucket, report_prefix)]),
            _statement(
                "Metrics",
                ["cloudwatch:PutMetricData"],
                ["*"],
                {"StringEquals": {"cloudwatch:namespace": METRIC_NAMESPACES}},
            ),
            *_image_pull("Image", [inputs.monitoring_image]),
            _statement("Logs", LOGS, [inputs.arn("logs", "log-group:/aws/sagemaker/ProcessingJobs:*")]),
        ]
    )


def scheduler_policy(inputs: PolicyInputs) -> dict:
    prefixes = list(inputs.job_name_prefixes)
    roles = [inputs.spec.role_arn] if prefixes else []
    if inputs.review is not None:
        prefixes.append(inputs.review_job_prefix or "")
        roles.append(inputs.review.job_role_arn)
    jobs = [inputs.arn("sagemaker", f"processing-job/{prefix.lower()}-*") for prefix in prefixes]
    return _document(
        [
            _statement("StartJobs", ["sagemaker:AddTags", "sagemaker:CreateProcessingJob"], jobs),
            _pass_role("PassJobRoles", roles, "sagemaker.amazonaws.com"),
        ]
    )


def review_job_policy(inputs: PolicyInputs) -> dict:
    """The post-processing job: read the capture hour by hour, write the hour's manifest, start loops."""
    review = inputs.review
    capture_bucket, capture_prefix = parse_s3_uri(review.capture_uri, "capture location")
    code_bucket, code_prefix = parse_s3_uri(inputs.code_prefix or "", "code destination")
    manifest_bucket, manifest_prefix = parse_s3_uri(review.manifest_uri, "--review-manifests")
    _, flows = _review_resources(inputs)
    return _document(
        [
            _statement(
                "ReadInputs",
                ["s3:GetObject"],
                [_objects(capture_bucket, capture_prefix), _objects(code_bucket, code_prefix)],
            ),
            _list_bucket("ListCapture", capture_bucket, [capture_prefix]),
            _statement("WriteManifests", ["s3:PutObject"], [_objects(manifest_bucket, manifest_prefix)]),
            _statement("StartHumanLoops", ["sagemaker:StartHumanLoop"], [flows]),
            # loop names come from event ids: no prefix narrows them further than this account and region
            _statement("ReadHumanLoops", ["sagemaker:DescribeHumanLoop"], [inputs.arn("sagemaker", "human-loop/*")]),
            *_image_pull("Image", [inputs.job_image or inputs.monitoring_image]),
            _statement("Logs", LOGS, [inputs.arn("logs", "log-group:/aws/sagemaker/ProcessingJobs:*")]),
        ]
    )


def review_policy(inputs: PolicyInputs) -> dict:
    """The flow definition's role: A2I writes each loop's output.json under the output path with it
    (our template renders no S3 object, so it reads nothing: AWS docs, a2i-permissions-security)."""
    bucket, prefix = parse_s3_uri(inputs.review.output_path, "--review-output")
    return _document([_statement("WriteAnswers", ["s3:PutObject"], [_objects(bucket, prefix)])])


def trust_policy(service: str, account: str | None = None) -> dict:
    statement = {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
    if account:  # Scheduler: only schedules of this account may use the role (confused deputy)
        statement["Condition"] = {"StringEquals": {"aws:SourceAccount": account}}
    return {"Version": VERSION, "Statement": [statement]}


_KINDS = (DATA_QUALITY, MODEL_QUALITY)


def _document(statements: list[dict]) -> dict:
    return {"Version": VERSION, "Statement": statements}


_KEY_ID = re.compile(r"(mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})")
_KEY_ARN = re.compile(r"arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/" + _KEY_ID.pattern)


def kms_key_arn(kms_key_id: str, region: str, account: str) -> str:
    """The key ARN of a KmsKeyId given as a key ID or key ARN. A policy's Resource must be the key's ARN (an alias
    ARN there authorizes nothing), and an alias cannot be resolved without a request to KMS (the policies are
    written offline too), so aliases are refused with the command that finds the ARN."""
    from pipelines.deploy.errors import DeployInputError

    if _KEY_ID.fullmatch(kms_key_id):
        return f"arn:aws:kms:{region}:{account}:key/{kms_key_id}"
    if _KEY_ARN.fullmatch(kms_key_id):
        return kms_key_id
    hint = (
        f"; its ARN: aws kms describe-key --key-id {kms_key_id} --query KeyMetadata.Arn"
        if kms_key_id.startswith(("alias/", "arn:")) and "alias/" in kms_key_id
        else ""
    )
    raise DeployInputError(
        f"--kms-key-id {kms_key_id!r} is not a KMS key ID or key ARN, which the deploy's IAM policies must name{hint}"
    )


def capture_key_statements(inputs: PolicyInputs) -> list[dict]:
    """CreateEndpointConfig with DataCaptureConfig.KmsKeyId: the caller lets SageMaker use the key through a grant
    (kms:CreateGrant, kms:DescribeKey), allowed only through SageMaker in the deploy's region and, for the grant,
    only for an AWS resource (the conditions AWS documents for grants services make on a caller's behalf)."""
    if not inputs.kms_key_id:
        return []
    region = inputs.spec.region
    key = kms_key_arn(inputs.kms_key_id, region, inputs.spec.account)
    via = {"StringEquals": {"kms:ViaService": f"sagemaker.{region}.amazonaws.com"}}
    return [
        _statement(
            "CaptureKeyGrant", ["kms:CreateGrant"], [key], {**via, "Bool": {"kms:GrantIsForAWSResource": "true"}}
        ),
        _statement("CaptureKeyDescribe", ["kms:DescribeKey"], [key], via),
    ]


def _statement(sid: str, actions: list[str], resources: list[str], condition: dict | None = None) -> dict:
    statement = {
        "Sid": sid,
        "Effect": "Allow",
        "Action": sorted(set(actions)),
        "Resource": list(dict.fromkeys(resources)),
    }
    if condition:
        statement["Condition"] = condition
    return statement


def _pass_role(sid: str, roles: list[str], service: str) -> dict:
    return _statement(sid, ["iam:PassRole"], roles, {"StringEquals": {"iam:PassedToService": service}})


def _objects(bucket: str, prefix: str) -> str:
    return f"arn:aws:s3:::{bucket}/{prefix}/*" if prefix else f"arn:aws:s3:::{bucket}/*"


def _list_bucket(sid: str, bucket: str, prefixes: list[str]) -> dict:
    patterns = [f"{p}/*" if p else "*" for p in prefixes]
    return _statement(sid, ["s3:ListBucket"], [f"arn:aws:s3:::{bucket}"], {"StringLike": {"s3:prefix": patterns}})


def _image_pull(sid: str, images: list[str]) -> list[dict]:
    """ECR pull rights for the images' repositories (`<account>.dkr.ecr.<region>.amazonaws.com/<repo>:<tag>`)."""
    repositories = []
    for image in images:
        host, _, path = image.partition("/")
        account, region = host.split(".")[0], host.split(".")[3] if host.count(".") >= 3 else ""
        repository = path.split("@")[0].split(":")[0]
        repositories.append(f"arn:aws:ecr:{region}:{account}:repository/{repository}")
    return [
        _statement(f"{sid}Token", ["ecr:GetAuthorizationToken"], ["*"]),
        _statement(f"{sid}Pull", ECR_PULL, repositories),
    ]


# -- the deploy workflow (pipelines/deploy/workflow) --------------------------------------------------------


@dataclass(frozen=True)
class WorkflowPolicyInputs:
    """What the deploy workflow's roles are scoped to: its two endpoints, its state machine, topic and rule."""

    production: PolicyInputs  # the production endpoint's (monitoring, review, the roles the jobs use)
    staging_endpoint: str
    state_machine_arn: str
    topic_arn: str
    rule_arn: str
    workflow_role_arn: str
    events_role_arn: str
    create_topic: bool = True  # the setup creates the approvers' topic (no --approval-topic-arn)
    create_roles: tuple[str, ...] = ()  # the roles the setup creates (workflow, events)
    start: bool = True  # the setup starts an execution (reads the registry)

    @classmethod
    def of(
        cls, settings, workflow_role_arn: str, events_role_arn: str, package=None, create_roles: tuple[str, ...] = ()
    ) -> WorkflowPolicyInputs:
        from pipelines.deploy.aws import policy_inputs
        from pipelines.deploy.registry import Baselines, ModelPackage
        from pipelines.deploy.workflow.trigger import rule_name

        # Every later version is deployed with these roles: the model artifacts and baselines the build pipeline
        # writes into the default bucket, whichever version, rather than the objects of one package.
        anywhere = f"{settings.bucket}/*"
        image = package.image if package is not None else None
        package = ModelPackage("", settings.group, "Approved", Baselines(anywhere, anywhere, anywhere), anywhere, image)
        import dataclasses

        spec = dataclasses.replace(settings.monitor, baselines=package.baselines)
        production = policy_inputs(settings.deploy, package, spec, settings.account, settings.review)
        region, account = settings.region, settings.account
        return cls(
            production=production,
            staging_endpoint=settings.staging,
            state_machine_arn=settings.state_machine_arn,
            topic_arn=settings.topic_arn,
            rule_arn=f"arn:aws:events:{region}:{account}:rule/{rule_name(settings.machine_name)}",
            workflow_role_arn=workflow_role_arn,
            events_role_arn=events_role_arn,
            create_topic=settings.approval_topic_arn is None,
            create_roles=tuple(create_roles),
        )

    @property
    def endpoints(self) -> list[str]:
        return [self.staging_endpoint.lower(), self.production.spec.endpoint.lower()]


def workflow_policies(w: WorkflowPolicyInputs) -> dict[str, dict]:
    """{principal: {"policy", "trust"}}: the state machine's and the rule's roles, the setup's own rights, and the
    roles the deployed resources use (model: both endpoints; monitoring, scheduler, review as the direct deploy)."""
    found = {
        "workflow": {
            "policy": workflow_policy(w),
            "trust": trust_policy("states.amazonaws.com", w.production.spec.account),
        },
        "events": {
            "policy": events_policy(w),
            "trust": trust_policy("events.amazonaws.com", w.production.spec.account),
        },
        "setup": {"policy": setup_policy(w), "trust": None},
        "approver": {"policy": approver_policy(w.state_machine_arn), "trust": None},
    }
    for name, documents in policies(w.production).items():
        if name == "deployer":
            continue
        if name == "model":
            documents = {**documents, "policy": _model_policy_both(w)}
        found[name] = documents
    return found


def workflow_policy(w: WorkflowPolicyInputs) -> dict:
    """Exactly what the state machine calls, on the resources it names (its Task states)."""
    from pipelines.deploy.names import versioned_stem

    inputs = w.production
    spec = inputs.spec
    models = [inputs.arn("sagemaker", f"model/{versioned_stem(e)}-v*") for e in w.endpoints]
    configs = [inputs.arn("sagemaker", f"endpoint-config/{versioned_stem(e)}-v*") for e in w.endpoints]
    endpoints = [inputs.arn("sagemaker", f"endpoint/{e}") for e in w.endpoints]
    tagged = [*models, *configs, *endpoints]
    statements = [
        _statement(
            "ReadModelPackages",
            ["sagemaker:DescribeModelPackage"],
            [inputs.arn("sagemaker", f"model-package/{inputs.model_package_group.lower()}/*")],
        ),
        _statement("Models", ["sagemaker:CreateModel", "sagemaker:DescribeModel"], models),
        _statement("EndpointConfigs", ["sagemaker:CreateEndpointConfig", "sagemaker:DescribeEndpointConfig"], configs),
        _statement("Endpoints", ["sagemaker:CreateEndpoint", "sagemaker:UpdateEndpoint"], endpoints + configs),
        _statement("ReadEndpoints", ["sagemaker:DescribeEndpoint"], endpoints),
        _statement("SmokeTest", ["sagemaker:InvokeEndpoint"], [inputs.arn("sagemaker", f"endpoint/{w.endpoints[0]}")]),
        _statement("ApprovalGate", ["sns:Publish"], [w.topic_arn]),
        _pass_role("PassModelRole", [inputs.model_role_arn], "sagemaker.amazonaws.com"),
        *capture_key_statements(inputs),
    ]
    scheduler_schedules = []
    if inputs.engine == "managed":
        _, _, schedules = _managed_resources(inputs)
        data, quality = (
            [inputs.arn("sagemaker", f"{noun}/{versioned_stem(spec.schedule(kind)).lower()}-v*")]
            for noun, kind in (
                ("data-quality-job-definition", DATA_QUALITY),
                ("model-quality-job-definition", MODEL_QUALITY),
            )
        )
        tagged += data + quality + schedules
        verbs = ("Create", "Describe", "Delete")
        statements += [
            _statement("DataQualityJobDefinitions", [f"sagemaker:{v}DataQualityJobDefinition" for v in verbs], data),
            _statement(
                "ModelQualityJobDefinitions", [f"sagemaker:{v}ModelQualityJobDefinition" for v in verbs], quality
            ),
            _statement(
                "MonitoringSchedules",
                [f"sagemaker:{v}MonitoringSchedule" for v in ("Create", "Describe", "Update")],
                schedules,
            ),
            _pass_role("PassMonitoringRole", [spec.role_arn], "sagemaker.amazonaws.com"),
            # engine switch: the processing engine's schedules of this endpoint are removed
            _statement("RemoveProcessingSchedules", ["scheduler:DeleteSchedule"], _schedules(inputs)),
        ]
    else:
        scheduler_schedules += _schedules(inputs)
        statements += _remove_managed_by_workflow(inputs)
    if inputs.review is not None:
        uis, flows = _review_resources(inputs)
        tagged += [uis, flows]
        scheduler_schedules.append(_schedule_arn(inputs, inputs.review.schedule))
        statements += [
            _statement("TaskUis", ["sagemaker:CreateHumanTaskUi", "sagemaker:DescribeHumanTaskUi"], [uis]),
            _statement(
                "CreateFlowDefinitions",
                ["sagemaker:CreateFlowDefinition"],
                [flows],
                {"ArnEquals": {"sagemaker:WorkteamArn": inputs.review.settings.workteam_arn}},
            ),
            _statement("FlowDefinitions", ["sagemaker:DescribeFlowDefinition"], [flows]),
            _pass_role("PassReviewRole", [inputs.review.flow_role_arn], "sagemaker.amazonaws.com"),
        ]
    if scheduler_schedules:
        statements += [
            _statement(
                "Schedules",
                ["scheduler:CreateSchedule", "scheduler:GetSchedule", "scheduler:UpdateSchedule"],
                scheduler_schedules,
            ),
            _pass_role("PassSchedulerRole", [inputs.scheduler_role_arn or spec.role_arn], "scheduler.amazonaws.com"),
        ]
    statements.append(_statement("TagOnCreate", ["sagemaker:AddTags"], tagged))
    return _document(statements)


def _remove_managed_by_workflow(inputs: PolicyInputs) -> list[dict]:
    """Engine switch in the workflow: the managed engine's schedules of this endpoint, and the job definitions they
    ran, named as the direct deploy or the workflow named them (`monitor_managed.job_definition_patterns`)."""
    from pipelines.deploy.monitor_managed import job_definition_patterns

    spec = inputs.spec
    _, _, schedules = _managed_resources(inputs)
    data, quality = (
        [inputs.arn("sagemaker", f"{noun}/{p.lower()}") for p in job_definition_patterns(spec.schedule(kind))]
        for noun, kind in (
            ("data-quality-job-definition", DATA_QUALITY),
            ("model-quality-job-definition", MODEL_QUALITY),
        )
    )
    return [
        _statement(
            "RemoveManagedSchedules",
            ["sagemaker:DescribeMonitoringSchedule", "sagemaker:DeleteMonitoringSchedule"],
            schedules,
        ),
        _statement("RemoveDataQualityJobDefinitions", ["sagemaker:DeleteDataQualityJobDefinition"], data),
        _statement("RemoveModelQualityJobDefinitions", ["sagemaker:DeleteModelQualityJobDefinition"], quality),
    ]


def events_policy(w: WorkflowPolicyInputs) -> dict:
    """The EventBridge rule's target role: start this state machine, nothing else."""
    return _document([_statement("StartDeploy", ["states:StartExecution"], [w.state_machine_arn])])


def approver_policy(state_machine_arn: str) -> dict:
    """Whoever answers the production gate (`mlops deploy approve|reject --aws`, `mlops deploy executions --aws`):
    list and read this state machine's executions (the gate's token is in the history) and answer the gate.
    SendTaskSuccess/Failure have no resource type (the task token is the capability), so they take `*`."""
    prefix, name = state_machine_arn.split(":stateMachine:", 1)
    executions = f"{prefix}:execution:{name}:*"
    # IAM lists Map runs and express executions as resource types of these two actions too; naming this
    # machine's keeps the statements scoped to it and complete for the policy linter.
    map_runs, express = f"{prefix}:mapRun:{name}/*:*", f"{prefix}:express:{name}:*:*"
    return _document(
        [
            _statement("ListDeploys", ["states:ListExecutions"], [state_machine_arn, map_runs]),
            _statement(
                "ReadDeploys", ["states:DescribeExecution", "states:GetExecutionHistory"], [executions, express]
            ),
            _statement("AnswerGate", ["states:SendTaskSuccess", "states:SendTaskFailure"], ["*"]),
        ]
    )


def setup_policy(w: WorkflowPolicyInputs) -> dict:
    """Whoever runs `mlops deploy --aws` (you, CI): the state machine, its rule, roles and topic, the code upload,
    and the first execution."""
    inputs = w.production
    statements = [
        *_registry_reads(inputs),
        _statement(
            "StateMachine",
            [
                "states:CreateStateMachine",
                "states:DescribeStateMachine",
                "states:StartExecution",
                "states:UpdateStateMachine",
            ],
            [w.state_machine_arn],
        ),
        _statement(
            "Rule",
            ["events:DescribeRule", "events:ListTargetsByRule", "events:PutRule", "events:PutTargets"],
            [w.rule_arn],
        ),
        _pass_role("PassWorkflowRole", [w.workflow_role_arn], "states.amazonaws.com"),
        _pass_role("PassEventsRole", [w.events_role_arn], "events.amazonaws.com"),
    ]
    if w.create_roles:
        statements.append(
            _statement(
                "Roles",
                [
                    "iam:CreateRole",
                    "iam:GetRole",
                    "iam:GetRolePolicy",
                    "iam:PutRolePolicy",
                    "iam:UpdateAssumeRolePolicy",
                ],
                list(w.create_roles),
            )
        )
    if w.create_topic:
        statements.append(_statement("ApprovalTopic", ["sns:CreateTopic", "sns:GetTopicAttributes"], [w.topic_arn]))
    if inputs.code_prefix:
        bucket, prefix = parse_s3_uri(inputs.code_prefix, "code destination")
        statements += [
            _statement("JobCode", ["s3:GetObject", "s3:PutObject"], [_objects(bucket, prefix)]),
            _list_bucket("JobCodeListing", bucket, [prefix]),
        ]
    return _document(statements)


def _model_policy_both(w: WorkflowPolicyInputs) -> dict:
    """The model role serves both endpoints: the artifact, capture and logs of each."""
    import dataclasses

    statements = []
    for endpoint in (w.staging_endpoint, w.production.spec.endpoint):
        spec = dataclasses.replace(w.production.spec, endpoint=endpoint)
        for statement in model_policy(dataclasses.replace(w.production, spec=spec))["Statement"]:
            match = next((s for s in statements if s["Sid"] == statement["Sid"]), None)
            if match is None:
                statements.append(statement)
            else:
                match["Resource"] = list(dict.fromkeys([*match["Resource"], *statement["Resource"]]))
    return _document(statements)
