"""The templates' IAM: the state machine's policy derived from its definition, and every policy linted by parliament."""

from __future__ import annotations

import json
import re

import pytest

from pipelines.template.machine_policy import INTEGRATIONS, PolicyError, integration, policy_document
from tests.templates.conftest import REGION

ACCOUNT = "123456789012"
# What CloudFormation would put for the template's Sub variables, to lint the policies as AWS would see them.
VALUES = {
    "AWS::Partition": "aws",
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT,
    "AWS::StackName": "SC-1-pp-abc",
    "SageMakerProjectName": "demo",
    "SageMakerProjectId": "p-abc123",
    "SeedCodeBucket": "sagemaker-mlops-templates-us-east-1-123456789012",
    "SeedCodeKey": "seed-code.zip",
    "CodeConnectionId": "0f0e0d0c-0000-0000-0000-000000000000",
    "PermissionsBoundaryPolicy": "mlops-project-boundary",
    "BoundaryPolicyName": "mlops-project-boundary",
    "LogGroup.Arn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/ecs/x",
}


def concrete(value, branch: int = 1):
    """Intrinsics resolved to plausible values (Fn::If: the given branch), for parliament."""
    if isinstance(value, list):
        return [concrete(v, branch) for v in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"Fn::If"}:
        return concrete(value["Fn::If"][branch], branch)
    if set(value) == {"Fn::Sub"}:
        text, variables = (value["Fn::Sub"], {}) if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"]
        return re.sub(r"\$\{([^}]+)\}", lambda m: _value(m.group(1), variables), text)
    if set(value) == {"Ref"}:
        return _value(value["Ref"], {})
    if set(value) == {"Fn::GetAtt"}:
        return _value(".".join(value["Fn::GetAtt"]), {})
    return {k: concrete(v, branch) for k, v in value.items()}


def _value(name: str, variables: dict) -> str:
    if name in variables:
        return "repository"
    if name in VALUES:
        return VALUES[name]
    resource = name.split(".")[0]
    if name.endswith(".Arn") and "Bucket" in resource:
        return f"arn:aws:s3:::sagemaker-p-abc123-{REGION}-{resource.lower()}"
    if name.endswith(".Arn") and ("Key" in resource):
        return f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0f0e0d0c-0000-0000-0000-000000000000"
    if name.endswith(".Arn") and resource.endswith("Role"):
        return f"arn:aws:iam::{ACCOUNT}:role/mlops-project/{resource}"
    if name.endswith(".Arn") and "LogGroup" in resource:
        return f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/{resource}"
    if name.endswith(".Arn") and resource == "ModelBuildProject":
        return f"arn:aws:codebuild:{REGION}:{ACCOUNT}:project/sagemaker-demo-p-abc123-modelbuild"
    if name.endswith("ModelPackageGroupArn"):
        return f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package-group/demo-p-abc123"
    if name.endswith(".Arn") and resource in ("FileSystem",):
        return f"arn:aws:elasticfilesystem:{REGION}:{ACCOUNT}:file-system/fs-0123"
    if name.endswith(".Arn") and resource == "AccessPoint":
        return f"arn:aws:elasticfilesystem:{REGION}:{ACCOUNT}:access-point/fsap-0123"
    if resource.endswith("Bucket"):
        return f"sagemaker-p-abc123-{REGION}-{resource.lower()}"
    return name.lower()


# Findings that come with the job, each with its reason (docs/projects-template.md, "IAM").
ACCEPTED = {
    # A permissions boundary caps actions; the roles' own policies scope the resources.
    ("ProjectRolesBoundary", "RESOURCE_STAR"),
    # CloudFormation writes the project buckets' policies (TLS only, log delivery): the launch role needs PutBucketPolicy.
    ("LaunchPolicy", "RESOURCE_POLICY_PRIVILEGE_ESCALATION"),
}


def documents(template: dict):
    for name, resource in template["Resources"].items():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::IAM::Role":
            for policy in properties.get("Policies", []):
                yield f"{name}/{policy['PolicyName']}", policy["PolicyDocument"]
        elif resource["Type"] in ("AWS::IAM::RolePolicy", "AWS::IAM::ManagedPolicy"):
            yield name, properties["PolicyDocument"]


@pytest.mark.parametrize("name", ["product.yaml", "launch-role.yaml", "portal.yaml"])
@pytest.mark.parametrize("branch", [1, 2])
def test_parliament_finds_nothing(templates, name, branch):
    from parliament import analyze_policy_string

    for where, document in documents(templates[name]):
        policy = concrete(document, branch)
        policy["Statement"] = [s for s in policy["Statement"] if s != {"Ref": "AWS::NoValue"} and s != "aws::novalue"]
        findings = analyze_policy_string(json.dumps(policy), ignore_private_auditors=True).findings
        findings = [f for f in findings if (where, f.issue) not in ACCEPTED]
        assert not findings, (where, [(f.issue, f.detail) for f in findings])


def test_parliament_would_find_an_unknown_action(templates):
    from parliament import analyze_policy_string

    (_, document), *_ = documents(templates["product.yaml"])
    policy = concrete(document)
    policy["Statement"][0]["Action"] = "sagemaker:CreateEndpointt"
    assert "UNKNOWN_ACTION" in [f.issue for f in analyze_policy_string(json.dumps(policy)).findings]


def test_the_state_machine_policy_follows_its_tasks():
    definition = {
        "StartAt": "A",
        "States": {
            "A": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sagemaker:createModel",
                "Parameters": {"ExecutionRoleArn": "${ModelRoleArn}"},
                "Next": "B",
            },
            "B": {
                "Type": "Parallel",
                "Branches": [
                    {
                        "StartAt": "C",
                        "States": {
                            "C": {
                                "Type": "Task",
                                "Resource": "arn:aws:states:::aws-sdk:scheduler:createSchedule",
                                "Parameters": {"Target": {"RoleArn": "${SchedulerRoleArn}", "Input": "{}"}},
                                "End": True,
                            }
                        },
                    }
                ],
                "End": True,
            },
        },
    }
    statements = policy_document(definition)["Statement"]
    grants = {tuple(s["Action"]) if isinstance(s["Action"], list) else s["Action"]: s for s in statements}
    assert set(grants) == {
        ("sagemaker:AddTags", "sagemaker:CreateModel"),
        ("scheduler:CreateSchedule",),
        "iam:PassRole",
    }
    passes = [s for s in statements if s["Action"] == "iam:PassRole"]
    assert {(s["Condition"]["StringEquals"]["iam:PassedToService"], s["Resource"][0]["Fn::Sub"]) for s in passes} == {
        ("sagemaker.amazonaws.com", "${ModelExecutionRole.Arn}"),
        ("scheduler.amazonaws.com", "${SchedulerRole.Arn}"),
    }
    model = grants[("sagemaker:AddTags", "sagemaker:CreateModel")]["Resource"]
    assert model == [
        {"Fn::Sub": "arn:${AWS::Partition}:sagemaker:${AWS::Region}:${AWS::AccountId}:model/${SageMakerProjectName}-*"}
    ]


def test_an_unknown_call_stops_packaging_instead_of_a_wider_grant():
    definition = {
        "StartAt": "A",
        "States": {"A": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:s3:deleteBucket", "End": True}},
    }
    with pytest.raises(PolicyError, match="calls aws-sdk:s3:deleteBucket, which .* does not know"):
        policy_document(definition)
    passing = {
        "StartAt": "A",
        "States": {
            "A": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sagemaker:createModel",
                "Parameters": {"ExecutionRoleArn": "arn:aws:iam::1:role/other"},
                "End": True,
            }
        },
    }
    with pytest.raises(PolicyError, match="passes role 'arn:aws:iam::1:role/other'"):
        policy_document(passing)


def test_integration_names():
    assert integration("arn:aws:states:::sagemaker:createModel") == ("sagemaker:createModel", "")
    assert integration("arn:aws:states:::aws-sdk:sagemaker:startHumanLoop.waitForTaskToken") == (
        "aws-sdk:sagemaker:startHumanLoop",
        ".waitForTaskToken",
    )
    with pytest.raises(PolicyError):
        integration("arn:aws:lambda:us-east-1:1:function:f")
    assert all(actions for grants in INTEGRATIONS.values() for actions, _ in grants)
