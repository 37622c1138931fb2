"""The generated IAM policies allow every request the deploy (and the jobs it schedules) makes, on
the resource it makes it on, and grant nothing that no request needs; parliament finds no issue.

What a request needs is written here from AWS's authorization rules (the Service Authorization
Reference): the action, the resource ARN (SageMaker lower-cases names in ARNs), tag-on-create's
sagemaker:AddTags, iam:PassRole for every role handed to a service, S3 HeadObject's GetObject and
ListBucket (without ListBucket a missing key answers 403, not 404).
"""

from __future__ import annotations

import dataclasses
import fnmatch
import json
from dataclasses import dataclass, field

import pytest

from pipelines.deploy.aws import deploy
from pipelines.deploy.scheduler_target import fill_template
from tests.deploy.conftest import ACCOUNT, REGION, ROLE, SCHEDULER_ROLE, review_settings, settings

SAGEMAKER_NOUNS = {
    "Model": ("model", "ModelName"),
    "EndpointConfig": ("endpoint-config", "EndpointConfigName"),
    "Endpoint": ("endpoint", "EndpointName"),
    "DataQualityJobDefinition": ("data-quality-job-definition", "JobDefinitionName"),
    "ModelQualityJobDefinition": ("model-quality-job-definition", "JobDefinitionName"),
    "MonitoringSchedule": ("monitoring-schedule", "MonitoringScheduleName"),
    "ProcessingJob": ("processing-job", "ProcessingJobName"),
    "FlowDefinition": ("flow-definition", "FlowDefinitionName"),
    "HumanTaskUi": ("human-task-ui", "HumanTaskUiName"),
}


@dataclass(frozen=True)
class Need:
    action: str
    resource: str
    context: tuple = field(default_factory=tuple)  # ((condition key, value), ...)


def sagemaker_arn(kind: str, name: str) -> str:
    return f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:{kind}/{name.lower()}"


def s3_arn(uri: str) -> str:
    return "arn:aws:s3:::" + uri[5:]


FIXTURE_CALLS = {("s3", "CreateBucket"), ("sagemaker", "CreateModelPackageGroup"), ("sagemaker", "CreateModelPackage")}


def deploy_needs(recorder, start: int = 0) -> list[Need]:
    """Needs of the requests the deploy sent from call `start` on (not the fixture's own set-up requests)."""
    return [n for call in recorder.calls[start:] if call[:2] not in FIXTURE_CALLS for n in needs_of(*call)]


def needs_of(service: str, operation: str, params: dict) -> list[Need]:
    """What IAM must allow for one request."""
    if service == "sts":
        return []  # GetCallerIdentity needs no permission
    if operation.startswith("List"):  # ListModelPackages, ListFlowDefinitions, ListHumanLoops (A2I runtime), …
        return [Need(f"sagemaker:{operation}", "*")]  # the List actions have no resource type
    if service == "s3":
        bucket, key = params["Bucket"], params["Key"]
        if operation == "HeadObject":
            return [Need("s3:GetObject", f"arn:aws:s3:::{bucket}/{key}"), list_need(bucket, key)]
        return [Need(f"s3:{operation}", f"arn:aws:s3:::{bucket}/{key}")]
    if service == "scheduler":
        arn = f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule/{params.get('GroupName', 'default')}/{params['Name']}"
        found = [Need(f"scheduler:{operation}", arn)]
        if "Target" in params:
            found.append(pass_role(params["Target"]["RoleArn"], "scheduler.amazonaws.com"))
        return found
    if operation == "DescribeModelPackage":
        return [Need("sagemaker:DescribeModelPackage", params["ModelPackageName"].lower())]
    noun = next(
        n
        for n in SAGEMAKER_NOUNS
        if operation.endswith(n) and operation[: -len(n)] in ("Create", "Describe", "Update", "Delete")
    )
    kind, name_param = SAGEMAKER_NOUNS[noun]
    resource = sagemaker_arn(kind, params[name_param])
    context = ()
    if operation == "CreateFlowDefinition":  # the condition key CreateFlowDefinition documents
        context = (("sagemaker:WorkteamArn", params["HumanLoopConfig"]["WorkteamArn"]),)
    found = [Need(f"sagemaker:{operation}", resource, context)]
    if operation in ("CreateEndpoint", "UpdateEndpoint"):
        found.append(Need(f"sagemaker:{operation}", sagemaker_arn("endpoint-config", params["EndpointConfigName"])))
    if params.get("Tags"):
        found.append(Need("sagemaker:AddTags", resource))
    role = params.get("ExecutionRoleArn") or params.get("RoleArn")
    if role:
        found.append(pass_role(role, "sagemaker.amazonaws.com"))
    return found


def list_need(bucket: str, prefix: str) -> Need:
    return Need("s3:ListBucket", f"arn:aws:s3:::{bucket}", (("s3:prefix", prefix),))


def pass_role(role: str, service: str) -> Need:
    return Need("iam:PassRole", role, (("iam:PassedToService", service),))


def allows(statement: dict, need: Need) -> bool:
    actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
    resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
    if not any(fnmatch.fnmatch(need.action.lower(), a.lower()) for a in actions):
        return False
    if not any(fnmatch.fnmatchcase(need.resource, r) for r in resources):
        return False
    context = dict(need.context)
    for operator, conditions in statement.get("Condition", {}).items():
        for key, wanted in conditions.items():
            values = wanted if isinstance(wanted, list) else [wanted]
            if key not in context:
                return False
            if operator in ("StringEquals", "ArnEquals") and context[key] not in values:
                return False
            if operator == "StringLike" and not any(fnmatch.fnmatchcase(context[key], v) for v in values):
                return False
    return True


def check(policy: dict, needs: list[Need]) -> None:
    """Every need allowed; every (action, resource) a statement grants used by some need."""
    statements = policy["Statement"]
    refused = [n for n in needs if not any(allows(s, n) for s in statements)]
    assert not refused, f"not allowed: {refused}"
    for statement in statements:
        for action in statement["Action"]:
            for resource in statement["Resource"]:
                single = {**statement, "Action": [action], "Resource": [resource]}
                used = [n for n in needs if n.action == action and allows(single, n)]
                assert used, f"granted but never needed: {statement['Sid']} {action} on {resource}"


def deploy_twice(aws, engine: str, review: bool = False):
    """The endpoint monitored by the other engine; a first deploy with `engine` (creates, and removes the
    other engine's schedules), then one of a newer package: creates, updates and deletes are all exercised.
    With `review`, the second deploy also changes the task template: the review resources are replaced.
    Returns both reports and the index of the first request of the first deploy with `engine`."""
    from tests.deploy.test_monitor_managed import existing

    aws.package(version="v1")
    s = settings(monitor_engine=engine, project_name="bc", project_id="p-1")
    if review:  # the flow definition's own role, so its PassRole grant is checked on its own
        s = dataclasses.replace(s, review=review_settings(role_arn=f"arn:aws:iam::{ACCOUNT}:role/a2i"))
    other = settings(monitor_engine="processing" if engine == "managed" else "managed", project_name="bc")
    if engine == "processing":
        for _ in range(2):
            aws.routed.respond("CreateMonitoringSchedule", {"MonitoringScheduleArn": "arn:aws:sagemaker:x"})
    before = monitored_by(aws, other)
    start = len(aws.recorder.calls)
    if engine == "managed":
        for _ in range(2):
            aws.routed.not_found("DescribeMonitoringSchedule")
            aws.routed.respond("CreateMonitoringSchedule", {"MonitoringScheduleArn": "arn:aws:sagemaker:x"})
    else:
        spec, changes = before
        jobs = [c.name for c in changes if c.kind.endswith("JobDefinition")]
        for kind, job in zip(("data-quality", "model-quality"), jobs, strict=True):
            aws.routed.respond("DescribeMonitoringSchedule", existing(spec, kind, job))
            aws.routed.respond("DeleteMonitoringSchedule", {})
            aws.routed.not_found("DescribeMonitoringSchedule")
    if review:
        expect_review_created(aws, s)
    first = deploy(aws.clients, s)
    assert [c.kind for c in first.changes if c.action == "deleted"] == (
        ["Schedule"] * 2
        if engine == "managed"
        else ["MonitoringSchedule", "DataQualityJobDefinition", "MonitoringSchedule", "ModelQualityJobDefinition"]
    )
    aws.package(version="v2")
    aws.routed.respond("UpdateEndpoint", {"EndpointArn": "arn:aws:sagemaker:us-east-1:123456789012:endpoint/x"})
    if engine == "managed":
        spec = first.policy_inputs.spec
        jobs = [c.name for c in first.changes if c.kind.endswith("JobDefinition")]
        for kind, job in zip(("data-quality", "model-quality"), jobs, strict=True):
            aws.routed.respond("DescribeMonitoringSchedule", existing(spec, kind, job))
            aws.routed.respond("UpdateMonitoringSchedule", {"MonitoringScheduleArn": "arn:aws:sagemaker:x"})
    if review:
        s = expect_review_replaced(aws, s)
    second = deploy(aws.clients, s)
    aws.done()
    return first, second, start


def expect_review_created(aws, s) -> None:
    from tests.deploy.test_review import expect_created, expect_flows, expect_uis, flow_summary, spec_of, ui_summary

    review = spec_of(s)
    expect_created(aws, review)
    expect_flows(aws, flow_summary(review))
    expect_uis(aws, ui_summary(review))


def expect_review_replaced(aws, s):
    """A changed template: new task UI and flow definition, the old ones deleted. Returns the new settings."""
    from tests.deploy import test_review as t

    old = t.spec_of(s)
    s = dataclasses.replace(s, review=dataclasses.replace(s.review, task_template=t.CHANGED_TEMPLATE))
    new = t.spec_of(s)
    t.expect_created(aws, new)
    t.expect_flows(aws, t.flow_summary(old), t.flow_summary(new))
    t.expect_loops(aws, old, "Completed")
    t.expect_deletion(aws, old)
    t.expect_uis(aws, t.ui_summary(old), t.ui_summary(new))
    aws.routed.respond("DeleteHumanTaskUi", {}, {"HumanTaskUiName": t.names(old)[0]})
    return s


def monitored_by(aws, other):
    """Only the monitoring of `other`'s engine for the endpoint (its spec and changes); no endpoint yet."""
    from pipelines.deploy.aws import deploy_monitoring, monitor_spec, resolve_package
    from pipelines.deploy.names import default_endpoint_name

    package = resolve_package(aws.clients.sagemaker, other)
    endpoint = default_endpoint_name(other.project_name, package.group, other.stage)
    spec = monitor_spec(other, package, ACCOUNT, endpoint, [])
    return spec, deploy_monitoring(aws.clients, other, spec, ACCOUNT)


@pytest.mark.parametrize("review", [False, True], ids=["no-review", "review"])
@pytest.mark.parametrize("engine", ["managed", "processing"])
def test_the_deployer_policy_is_exactly_what_the_deploy_sends(aws, engine, review, request):
    if review:
        request.getfixturevalue("starter")
    first, second, start = deploy_twice(aws, engine, review)
    assert {"created", "updated"} <= {c.action for c in second.changes}
    if review:
        assert {c.kind for c in second.changes if c.action == "deleted"} >= {"FlowDefinition", "HumanTaskUi"}
    needs = deploy_needs(aws.recorder, start)
    policy = second.iam_policies()["deployer"]["policy"]
    check(policy, needs)
    if review:  # the check fails without a review grant, or with another work team in the condition
        for sid in ("ListReviewResources", "FlowDefinitions", "PassReviewRole"):
            trimmed = {**policy, "Statement": [st for st in policy["Statement"] if st["Sid"] != sid]}
            with pytest.raises(AssertionError, match="not allowed"):
                check(trimmed, needs)
        other = json.loads(json.dumps(policy).replace("private-crowd/bc-reviewers", "private-crowd/others"))
        with pytest.raises(AssertionError, match="not allowed: .*sagemaker:CreateFlowDefinition"):
            check(other, needs)


def test_the_scheduler_and_job_roles_cover_the_scheduled_jobs(aws):
    aws.package()
    report = deploy(aws.clients, settings(project_name="bc"))
    policies = report.iam_policies()
    spec = report.policy_inputs.spec
    scheduler_needs, job_needs = [], []
    for kind in ("data-quality", "model-quality"):
        target = aws.clients.scheduler.get_schedule(Name=spec.schedule(kind))["Target"]
        request = fill_template(target["Input"], "2026-03-01T05:15:00Z", "d32c5kddcf5bb8c3")
        scheduler_needs += needs_of("sagemaker", "CreateProcessingJob", request)
        job_needs += job_role_needs(request)
    check(policies["scheduler"]["policy"], scheduler_needs)
    check(policies["monitoring"]["policy"], job_needs + image_and_log_needs(report, "ProcessingJobs"))
    assert policies["scheduler"]["trust"]["Statement"][0]["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert policies["scheduler"]["trust"]["Statement"][0]["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ACCOUNT}
    }


def job_role_needs(request: dict) -> list[Need]:
    """The platform's reads and writes for the job, and the analyzer's own S3 and CloudWatch calls."""
    env = request["Environment"]
    found = [Need("s3:GetObject", s3_arn(i["S3Input"]["S3Uri"])) for i in request["ProcessingInputs"]]
    found += [Need("s3:PutObject", s3_arn(o["S3Output"]["S3Uri"]) + "/2026/03/01/05/statistics.json")
              for o in request["ProcessingOutputConfig"]["Outputs"]]  # fmt: skip
    sources = [env["dataset_source"]] + ([env["ground_truth_source"]] if "ground_truth_source" in env else [])
    for uri in sources:
        bucket, prefix = uri[5:].split("/", 1)
        found += [list_need(bucket, f"{prefix}/"), list_need(bucket, f"{prefix}/AllTraffic/2026/03/01/04/")]
        found.append(Need("s3:GetObject", f"arn:aws:s3:::{bucket}/{prefix}/AllTraffic/2026/03/01/04/10-00-000-x.jsonl"))
    namespace = "aws/sagemaker/Endpoints/" + (
        "data-metrics" if env["analysis_type"] == "DATA_QUALITY" else "model-metrics"
    )
    found.append(Need("cloudwatch:PutMetricData", "*", (("cloudwatch:namespace", namespace),)))
    return found


def image_and_log_needs(report, log_group: str) -> list[Need]:
    inputs = report.policy_inputs
    image = inputs.monitoring_image if log_group == "ProcessingJobs" else inputs.model_image
    host, _, path = image.partition("/")
    repository = f"arn:aws:ecr:{host.split('.')[3]}:{host.split('.')[0]}:repository/{path.split(':')[0]}"
    group = (
        "/aws/sagemaker/ProcessingJobs" if log_group == "ProcessingJobs" else f"/aws/sagemaker/Endpoints/{log_group}"
    )
    logs = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{group}:log-stream:x"
    return [
        Need("ecr:GetAuthorizationToken", "*"),
        *[
            Need(a, repository)
            for a in ("ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")
        ],
        *[Need(a, logs) for a in ("logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents")],
    ]


def test_the_model_role_reads_the_artifact_and_writes_captured_data(aws):
    aws.package()
    report = deploy(aws.clients, settings())
    inputs = report.policy_inputs
    needs = [
        Need("s3:GetObject", s3_arn(inputs.model_data_url)),
        Need("s3:PutObject", s3_arn(report.capture_uri) + "/AllTraffic/2026/03/01/04/10-00-000-x.jsonl"),
        *image_and_log_needs(report, report.endpoint_name),
    ]
    check(report.iam_policies()["model"]["policy"], needs)


def test_parliament_finds_nothing_and_would_find_a_mismatch(aws):
    from parliament import analyze_policy_string

    aws.package()
    for engine in ("managed", "processing"):
        if engine == "managed":
            for _ in range(2):
                aws.routed.not_found("DescribeMonitoringSchedule")
                aws.routed.respond("CreateMonitoringSchedule", {"MonitoringScheduleArn": "arn:aws:sagemaker:x"})
        report = deploy(aws.clients, settings(monitor_engine=engine, endpoint_name=f"bc-{engine}"))
        for name, documents in report.iam_policies().items():
            findings = analyze_policy_string(json.dumps(documents["policy"]), ignore_private_auditors=True).findings
            assert not findings, (engine, name, [(f.issue, f.detail) for f in findings])
    wrong = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sagemaker:CreateModel",
             "Resource": sagemaker_arn("endpoint", "x")}]}  # fmt: skip
    assert [f.issue for f in analyze_policy_string(json.dumps(wrong)).findings] == ["RESOURCE_MISMATCH"]


def test_a_policy_missing_a_grant_fails_the_check(aws):
    _, report, start = deploy_twice(aws, "processing")
    policy = report.iam_policies()["deployer"]["policy"]
    needs = deploy_needs(aws.recorder, start)
    for sid in ("PassModelRole", "RemoveManagedSchedules", "RemoveDataQualityJobDefinitions"):
        trimmed = {**policy, "Statement": [s for s in policy["Statement"] if s["Sid"] != sid]}
        with pytest.raises(AssertionError, match="not allowed"):
            check(trimmed, needs)
    widened = {**policy, "Statement": [*policy["Statement"], {"Sid": "Extra", "Effect": "Allow",
               "Action": ["sagemaker:DeleteEndpoint"], "Resource": ["*"]}]}  # fmt: skip
    with pytest.raises(AssertionError, match="granted but never needed: Extra"):
        check(widened, needs)
    assert ROLE in json.dumps(policy) and SCHEDULER_ROLE in json.dumps(policy)


def test_the_review_job_scheduler_and_flow_roles_cover_what_they_do(aws, starter):
    """The scheduled post-processing job (and the analyzer's jobs beside it), the flow definition's
    writes: every need allowed, nothing granted that none needs; parliament finds nothing."""
    from parliament import analyze_policy_string

    from tests.deploy.test_review import names, spec_of

    aws.package()
    s = settings(project_name="bc", review=review_settings(role_arn=f"arn:aws:iam::{ACCOUNT}:role/a2i"))
    expect_review_created(aws, s)
    report = deploy(aws.clients, s)
    aws.done()
    policies = report.iam_policies()
    review, spec = report.policy_inputs.review, report.policy_inputs.spec
    scheduler_needs, job_needs, review_job_needs = [], [], []
    for name in (spec.schedule("data-quality"), spec.schedule("model-quality"), review.schedule):
        target = aws.clients.scheduler.get_schedule(Name=name)["Target"]
        request = fill_template(target["Input"], "2026-03-01T05:15:00Z", "d32c5kddcf5bb8c3")
        scheduler_needs += needs_of("sagemaker", "CreateProcessingJob", request)
        if name == review.schedule:
            review_job_needs = starter_needs(request) + image_and_log_needs(report, "ProcessingJobs")
        else:
            job_needs += job_role_needs(request)
    check(policies["scheduler"]["policy"], scheduler_needs)
    check(policies["monitoring"]["policy"], job_needs + image_and_log_needs(report, "ProcessingJobs"))
    check(policies["review_job"]["policy"], review_job_needs)
    flow = names(spec_of(s))[1]
    answer = f"{review.output_path}/{flow}/2026/03/01/05/20/07/bc-staging-3f2a-0/output.json"
    check(policies["review"]["policy"], [Need("s3:PutObject", s3_arn(answer))])
    assert policies["review"]["trust"]["Statement"][0]["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    assert policies["review_job"]["trust"]["Statement"][0]["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    deployer = json.dumps(policies["deployer"]["policy"])
    assert f"arn:aws:iam::{ACCOUNT}:role/a2i" in deployer and '"sagemaker:WorkteamArn"' in deployer
    for name, documents in policies.items():
        findings = analyze_policy_string(json.dumps(documents["policy"]), ignore_private_auditors=True).findings
        assert not findings, (name, [(f.issue, f.detail) for f in findings])
        assert "*" not in [a for st in documents["policy"]["Statement"] for a in st["Action"]]


def starter_needs(request: dict) -> list[Need]:
    """processing/start_human_loops.py's contract: list and read the capture's hour prefixes, write the
    hour's manifest, start loops with the flow definition and describe them; the platform reads the code."""
    arguments = request["AppSpecification"]["ContainerArguments"]
    args = dict(zip(arguments[::2], arguments[1::2], strict=True))
    bucket, prefix = args["--capture-uri"][5:].split("/", 1)
    hour = f"{prefix}/AllTraffic/2026/03/01/04/"
    return [
        *[Need("s3:GetObject", s3_arn(i["S3Input"]["S3Uri"])) for i in request["ProcessingInputs"]],
        list_need(bucket, f"{prefix}/"),
        list_need(bucket, hour),
        Need("s3:GetObject", f"arn:aws:s3:::{bucket}/{hour}10-00-000-x.jsonl"),
        Need("s3:PutObject", s3_arn(f"{args['--output-uri']}/2026/03/01/04/manifest.json")),
        Need("sagemaker:StartHumanLoop", args["--flow-definition-arn"].lower()),
        Need("sagemaker:DescribeHumanLoop", sagemaker_arn("human-loop", "bc-staging-3f2a-0")),
    ]
