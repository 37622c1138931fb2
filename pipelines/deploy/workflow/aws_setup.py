"""`mlops deploy --aws`: the deploy workflow in an AWS account, created or updated in this order:

1. the scheduled jobs' code (processing engine: the analyzer; `--review a2i`: the human-loop starter), uploaded
   unless already there (content-addressed keys, as the direct deploy does);
2. the approvers' SNS topic `<state machine>-approvals` (unless `--approval-topic-arn`): the production gate
   publishes its task token there; subscribe the approvers to it;
3. the state machine's role `<state machine>-workflow` (trust: states.amazonaws.com of this account) and the
   EventBridge rule's role `<state machine>-events` (states:StartExecution on this state machine only), each
   with its inline policy (pipelines/deploy/iam.py), unless given (`--workflow-role-arn`, `--events-role-arn`);
4. the state machine `<group>-deploy` (DescribeStateMachine, then CreateStateMachine or UpdateStateMachine
   when its definition or role differs);
5. the rule `<state machine>-on-approval` on "SageMaker Model Package State Change" (this group, Approved)
   and its target: the state machine, with the input transformer (pipelines/deploy/workflow/trigger.py);
6. unless `--no-start`: an execution for `--model-package`, or the group's latest approved package when it has
   one, with the input the rule would give it (the rule only fires on the next approval).

Every step is idempotent: a second run with the same settings sends the reads, PutRolePolicy, PutRule and
PutTargets (idempotent on AWS), and changes nothing.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

from pipelines.deploy.aws import DeploySettings, account_id, resolve_package
from pipelines.deploy.changes import CREATED, UNCHANGED, UPDATED, Change
from pipelines.deploy.errors import DeployFailed, DeployInputError, client_error_text, error_code
from pipelines.deploy.registry import ModelPackage
from pipelines.deploy.workflow.settings import WorkflowSettings

SERVICES = ("sagemaker", "s3", "sts", "stepfunctions", "events", "iam", "sns")
TARGET_ID = "deploy-workflow"
# A role created a moment ago may not be assumable yet (IAM is eventually consistent): CreateStateMachine
# answers so; it is retried for up to this long.
ROLE_PROPAGATION = {"Delay": 5, "MaxAttempts": 12}


@dataclass(frozen=True)
class SetupClients:
    sagemaker: object
    s3: object
    sts: object
    stepfunctions: object
    events: object
    iam: object
    sns: object

    @classmethod
    def from_session(cls, session) -> SetupClients:
        return cls(*(session.client(name) for name in SERVICES))


@dataclass
class SetupReport:
    settings: WorkflowSettings
    workflow_role_arn: str
    events_role_arn: str
    changes: list[Change] = field(default_factory=list)
    package_arn: str | None = None
    execution_arn: str | None = None
    package: ModelPackage | None = None
    roles_created: tuple[str, ...] = ()  # the roles this setup creates (not given with --*-role-arn)

    @property
    def state_machine_arn(self) -> str:
        return self.settings.state_machine_arn

    def policy_inputs(self):
        from pipelines.deploy.iam import WorkflowPolicyInputs

        return WorkflowPolicyInputs.of(
            self.settings, self.workflow_role_arn, self.events_role_arn, self.package, self.roles_created
        )

    def iam_policies(self) -> dict:
        from pipelines.deploy.iam import workflow_policies

        return workflow_policies(self.policy_inputs())

    def as_dict(self) -> dict:
        from pipelines.deploy.workflow.trigger import rule_name

        return {
            "state_machine_arn": self.state_machine_arn,
            "rule": rule_name(self.settings.machine_name),
            "approval_topic_arn": self.settings.topic_arn,
            "workflow_role_arn": self.workflow_role_arn,
            "events_role_arn": self.events_role_arn,
            "staging_endpoint": self.settings.staging,
            "production_endpoint": self.settings.production,
            "monitor_engine": self.settings.deploy.monitor_engine,
            "model_package_arn": self.package_arn,
            "execution_arn": self.execution_arn,
            "changes": [c.as_dict() for c in self.changes],
        }


def set_up(
    clients: SetupClients,
    deploy: DeploySettings,
    *,
    staging_endpoint: str | None = None,
    production_endpoint: str | None = None,
    approval_topic_arn: str | None = None,
    workflow_role_arn: str | None = None,
    events_role_arn: str | None = None,
    start: bool = True,
    role_wait: dict | None = None,
) -> SetupReport:
    """Create or update the workflow, its roles, topic and rule; start a deploy unless `start` is false."""
    import re

    from pipelines.deploy.aws import ROLE_ARN

    for what, arn in (("--workflow-role-arn", workflow_role_arn), ("--events-role-arn", events_role_arn)):
        if arn is not None and not re.match(ROLE_ARN, arn):
            raise DeployInputError(f"{what} {arn!r} is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)")
    account = account_id(clients.sts)
    settings = WorkflowSettings(
        deploy,
        account=account,
        staging_endpoint=staging_endpoint,
        production_endpoint=production_endpoint,
        approval_topic_arn=approval_topic_arn,
    )
    package = _package_to_deploy(clients.sagemaker, deploy) if start else None
    if package is not None and package.group and package.group.lower() != settings.group.lower():
        raise DeployInputError(
            f"model package {package.arn} is of group {package.group}, not {settings.group}: pass "
            f"--model-package-group {package.group}"
        )
    report = SetupReport(
        settings,
        workflow_role_arn or _role_arn(account, settings, "workflow"),
        events_role_arn or _role_arn(account, settings, "events"),
        package=package,
    )
    report.roles_created = tuple(
        arn
        for arn, given in ((report.workflow_role_arn, workflow_role_arn), (report.events_role_arn, events_role_arn))
        if given is None
    )
    report.changes += _upload_code(clients.s3, settings)
    if approval_topic_arn is None:
        report.changes.append(_ensure_topic(clients.sns, settings.topic_arn))
    inputs = report.policy_inputs()
    from pipelines.deploy.iam import events_policy, trust_policy, workflow_policy

    if workflow_role_arn is None:
        trust = trust_policy("states.amazonaws.com", account)
        report.changes += ensure_role(clients.iam, report.workflow_role_arn, trust, workflow_policy(inputs))
    if events_role_arn is None:
        trust = trust_policy("events.amazonaws.com", account)
        report.changes += ensure_role(clients.iam, report.events_role_arn, trust, events_policy(inputs))
    report.changes.append(
        _ensure_state_machine(clients.stepfunctions, settings, report.workflow_role_arn, role_wait or ROLE_PROPAGATION)
    )
    report.changes += _ensure_rule(clients.events, settings, report.events_role_arn)
    if package is not None:
        report.package_arn = package.arn
        report.execution_arn = _start(clients, settings, package.arn)
        report.changes.append(Change("Execution", report.execution_arn, CREATED, f"deploys {package.arn}"))
    return report


def _package_to_deploy(sagemaker, deploy: DeploySettings) -> ModelPackage | None:
    """--model-package (must be approved, with baselines), else the group's latest approved package, if any."""
    if deploy.model_package_arn:
        return resolve_package(sagemaker, deploy)
    try:
        return resolve_package(sagemaker, deploy)
    except DeployInputError as e:
        if "has no approved model package" in str(e):
            return None  # nothing approved yet: the next approval starts the first deploy
        raise


def _role_arn(account: str, settings: WorkflowSettings, kind: str) -> str:
    return f"arn:aws:iam::{account}:role/{settings.machine_name[:55]}-{kind}"


def _upload_code(s3, settings: WorkflowSettings) -> list[Change]:
    from pipelines.deploy.code_bundle import analyzer_bundle, starter_bundle, upload_bundle

    changes = []
    for needed, bundle in ((settings.analyzer_code, analyzer_bundle), (settings.starter_code, starter_bundle)):
        if needed is not None:
            changes += upload_bundle(s3, bundle(), settings.code_prefix)[1]
    return changes


def _ensure_topic(sns, topic_arn: str) -> Change:
    name = topic_arn.rsplit(":", 1)[-1]
    try:
        sns.get_topic_attributes(TopicArn=topic_arn)
        return Change("Topic", name, UNCHANGED, "the approvers' topic exists")
    except Exception as e:
        if error_code(e) not in ("NotFound", "NotFoundException"):
            _raise(e, f"GetTopicAttributes {name}")
    try:
        sns.create_topic(Name=name)
    except Exception as e:
        _raise(e, f"CreateTopic {name}")
    return Change("Topic", name, CREATED, "subscribe the approvers (aws sns subscribe --protocol email ...)")


def ensure_role(iam, role_arn: str, trust: dict, policy: dict) -> list[Change]:
    """The role with this trust policy and one inline policy `deploy-workflow` holding `policy`."""
    name = role_arn.rsplit("/", 1)[-1]
    changes = []
    try:
        current = iam.get_role(RoleName=name)["Role"]
    except Exception as e:
        if error_code(e) != "NoSuchEntity":
            _raise(e, f"GetRole {name}")
        try:
            iam.create_role(
                RoleName=name,
                AssumeRolePolicyDocument=json.dumps(trust),
                Description="mlops deploy workflow (pipelines/deploy/iam.py)",
            )
        except Exception as e2:
            _raise(e2, f"CreateRole {name}")
        changes.append(Change("Role", name, CREATED, _principal(trust)))
    else:
        document = current.get("AssumeRolePolicyDocument")
        if isinstance(document, str):
            from urllib.parse import unquote

            document = json.loads(unquote(document))
        if document != trust:
            try:
                iam.update_assume_role_policy(RoleName=name, PolicyDocument=json.dumps(trust))
            except Exception as e:
                _raise(e, f"UpdateAssumeRolePolicy {name}")
            changes.append(Change("Role", name, UPDATED, f"trust: {_principal(trust)}"))
        else:
            changes.append(Change("Role", name, UNCHANGED, _principal(trust)))
    policy_name = "deploy-workflow"
    try:
        current_policy = iam.get_role_policy(RoleName=name, PolicyName=policy_name)["PolicyDocument"]
    except Exception as e:
        if error_code(e) != "NoSuchEntity":
            _raise(e, f"GetRolePolicy {name}")
        current_policy = None
    if isinstance(current_policy, str):
        from urllib.parse import unquote

        current_policy = json.loads(unquote(current_policy))
    if current_policy == policy:
        changes.append(Change("RolePolicy", f"{name}/{policy_name}", UNCHANGED, "same statements"))
        return changes
    try:
        iam.put_role_policy(RoleName=name, PolicyName=policy_name, PolicyDocument=json.dumps(policy))
    except Exception as e:
        _raise(e, f"PutRolePolicy {name}")
    action = CREATED if current_policy is None else UPDATED
    changes.append(Change("RolePolicy", f"{name}/{policy_name}", action, f"{len(policy['Statement'])} statements"))
    return changes


def _principal(trust: dict) -> str:
    return f"assumed by {trust['Statement'][0]['Principal']['Service']}"


def _ensure_state_machine(sfn, settings: WorkflowSettings, role_arn: str, wait: dict) -> Change:
    from pipelines.deploy.workflow.definition import build_workflow

    workflow = build_workflow(settings, role_arn=role_arn, client=sfn)
    text = workflow.definition.to_json(pretty=True)
    arn = settings.state_machine_arn
    try:
        current = sfn.describe_state_machine(stateMachineArn=arn)
    except Exception as e:
        if error_code(e) != "StateMachineDoesNotExist":
            _raise(e, f"DescribeStateMachine {settings.machine_name}")
        _with_role_wait(
            lambda: sfn.create_state_machine(name=settings.machine_name, definition=text, roleArn=role_arn),
            wait,
            f"CreateStateMachine {settings.machine_name}",
        )
        return Change("StateMachine", settings.machine_name, CREATED, f"{len(json.loads(text)['States'])} states")
    if json.loads(current.get("definition") or "{}") == json.loads(text) and current.get("roleArn") == role_arn:
        return Change("StateMachine", settings.machine_name, UNCHANGED, "same definition and role")
    _with_role_wait(
        lambda: sfn.update_state_machine(stateMachineArn=arn, definition=text, roleArn=role_arn),
        wait,
        f"UpdateStateMachine {settings.machine_name}",
    )
    return Change("StateMachine", settings.machine_name, UPDATED, "definition or role changed")


def _with_role_wait(call, wait: dict, what: str) -> None:
    for attempt in range(wait["MaxAttempts"]):
        try:
            call()
            return
        except Exception as e:
            code = error_code(e)
            propagating = code in ("InvalidArn", "AccessDeniedException") and "assume" in client_error_text(e).lower()
            if propagating and attempt + 1 < wait["MaxAttempts"]:
                time.sleep(wait["Delay"])
                continue
            _raise(e, what)


def _ensure_rule(events, settings: WorkflowSettings, role_arn: str) -> list[Change]:
    from pipelines.deploy.workflow.trigger import event_pattern, input_transformer, rule_name

    name = rule_name(settings.machine_name)
    rule = {
        "Name": name,
        "EventPattern": json.dumps(event_pattern(settings.group)),
        "State": "ENABLED",
        "Description": f"Approved packages of {settings.group} start {settings.machine_name}",
    }
    target = {
        "Id": TARGET_ID,
        "Arn": settings.state_machine_arn,
        "RoleArn": role_arn,
        "InputTransformer": input_transformer(),
    }
    changes = []
    try:
        current = events.describe_rule(Name=name)
    except Exception as e:
        if error_code(e) != "ResourceNotFoundException":
            _raise(e, f"DescribeRule {name}")
        current = None
    same = current is not None and all(
        (json.loads(current.get(k) or "null") if k == "EventPattern" else current.get(k))
        == (json.loads(v) if k == "EventPattern" else v)
        for k, v in rule.items()
    )
    if not same:
        try:
            events.put_rule(**rule)
        except Exception as e:
            _raise(e, f"PutRule {name}")
    detail = f"approvals of {settings.group} -> {settings.machine_name}"
    changes.append(Change("Rule", name, UNCHANGED if same else CREATED if current is None else UPDATED, detail))
    try:
        targets = [] if current is None else events.list_targets_by_rule(Rule=name).get("Targets", [])
    except Exception as e:
        _raise(e, f"ListTargetsByRule {name}")
    if any(t == target for t in targets):
        changes.append(Change("RuleTarget", f"{name}/{TARGET_ID}", UNCHANGED, "same state machine and input"))
        return changes
    try:
        answer = events.put_targets(Rule=name, Targets=[target])
    except Exception as e:
        _raise(e, f"PutTargets {name}")
    if answer.get("FailedEntryCount"):
        raise DeployFailed(f"PutTargets {name} refused the target: {answer.get('FailedEntries')}")
    action = UPDATED if targets else CREATED
    changes.append(Change("RuleTarget", f"{name}/{TARGET_ID}", action, "the state machine, with the input transformer"))
    return changes


def _start(clients: SetupClients, settings: WorkflowSettings, package_arn: str) -> str:
    from pipelines.deploy.workflow.trigger import INPUT_PATHS, INPUT_TEMPLATE, state_change_event, transform

    try:
        package = clients.sagemaker.describe_model_package(ModelPackageName=package_arn)
        text = transform(state_change_event(package, settings.region, settings.account), INPUT_PATHS, INPUT_TEMPLATE)
        return clients.stepfunctions.start_execution(stateMachineArn=settings.state_machine_arn, input=text)[
            "executionArn"
        ]
    except Exception as e:
        _raise(e, f"StartExecution {settings.machine_name}")
        raise


def _raise(error: Exception, what: str) -> None:
    from botocore.exceptions import ParamValidationError

    if isinstance(error, ParamValidationError):
        raise DeployInputError(str(error)) from None
    if error_code(error):
        raise DeployFailed(f"{what} failed: {client_error_text(error)}") from None
    raise error
