"""The packaged templates launched in moto's CloudFormation: the resources it supports, as the templates declare them."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from tests.templates.conftest import REGION
from tests.templates.moto_stacks import launch, supported_subset

ACCOUNT = "123456789012"
PROJECT = {"SageMakerProjectName": "demo", "SageMakerProjectId": "p-abc123"}
SEED = {
    "SeedCodeBucket": f"sagemaker-mlops-templates-{REGION}-{ACCOUNT}",
    "CodeBucket": f"sagemaker-mlops-templates-{REGION}-{ACCOUNT}",
}
WORKTEAM = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:workteam/private-crowd/reviewers"


@pytest.fixture
def aws(monkeypatch):
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield boto3.Session(region_name=REGION)


def resources(session, stack: str) -> dict[str, str]:
    summaries = session.client("cloudformation").list_stack_resources(StackName=stack)["StackResourceSummaries"]
    return {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in summaries if r["PhysicalResourceId"]}


def test_moto_creates_everything_it_supports(templates):
    from moto.cloudformation.parsing import get_model_map

    _, dropped = supported_subset(templates["product.yaml"])
    kept = {r["Type"] for k, r in templates["product.yaml"]["Resources"].items() if k not in dropped}
    assert kept <= set(get_model_map())
    assert {"AWS::S3::Bucket", "AWS::KMS::Key", "AWS::IAM::Role", "AWS::StepFunctions::StateMachine"} <= kept
    assert {"AWS::Events::Rule", "AWS::Logs::LogGroup"} <= kept


def test_the_launch_role_stack(aws, templates):
    stack = launch(aws.client("cloudformation"), "launch", templates["launch-role.yaml"], {})
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    iam = aws.client("iam")
    role = iam.get_role(RoleName="mlops-sagemaker-project-launch")["Role"]
    assert role["Path"] == "/service-role/"
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "servicecatalog.amazonaws.com"}
    boundary = iam.get_policy(PolicyArn=f"arn:aws:iam::{ACCOUNT}:policy/mlops-project-boundary")["Policy"]
    document = iam.get_policy_version(PolicyArn=boundary["Arn"], VersionId=boundary["DefaultVersionId"])
    statements = document["PolicyVersion"]["Document"]["Statement"]
    assert {s["Sid"] for s in statements} == {"ProjectBuckets", "PassProjectRoles", "ProjectActions"}


def test_the_product_stack_without_review(aws, templates):
    launch(aws.client("cloudformation"), "launch", templates["launch-role.yaml"], {})
    stack = launch(aws.client("cloudformation"), "SC-1-pp-abc", templates["product.yaml"], {**PROJECT, **SEED})
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
    made = resources(aws, "SC-1-pp-abc")
    s3 = aws.client("s3")
    bucket = made["ArtifactBucket"]
    assert bucket == f"sagemaker-p-abc123-{REGION}-artifacts"
    rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert rule["ApplyServerSideEncryptionByDefault"]["KMSMasterKeyID"].endswith(made["KmsKey"])
    logs = s3.get_bucket_encryption(Bucket=made["AccessLogsBucket"])["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert logs["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256", "log delivery needs SSE-S3"
    tags = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=bucket)["TagSet"]}
    assert tags == {"sagemaker:project-name": "demo", "sagemaker:project-id": "p-abc123"}
    assert aws.client("kms").get_key_rotation_status(KeyId=made["KmsKey"])["KeyRotationEnabled"]

    machines = [k for k in made if k.startswith("DeployStateMachine")]
    assert machines == ["DeployStateMachineProcessingPortalOrNone"], "exactly the definition the parameters select"
    sfn = aws.client("stepfunctions")
    machine = sfn.describe_state_machine(stateMachineArn=made[machines[0]])
    definition = json.loads(machine["definition"])
    text = json.dumps(definition)
    assert "${" not in text and "demo-prod" in text and "Create flow definition" not in definition["States"]
    capture = definition["States"]["Create production endpoint config"]["Parameters"]["DataCaptureConfig"]
    assert capture["DestinationS3Uri"] == f"s3://{bucket}/datacapture"
    role = definition["States"]["Create production model"]["Parameters"]["ExecutionRoleArn"]
    assert role.split("/")[-1] == made["ModelExecutionRole"], "the substitutions reach the stack's own roles"
    assert machine["roleArn"].split("/")[-1] == made["StateMachineRole"]
    gate = definition["States"]["Approve production"]
    assert gate["Resource"] == "arn:aws:states:::sns:publish.waitForTaskToken"
    topic = aws.client("sns").get_topic_attributes(TopicArn=gate["Parameters"]["TopicArn"])["Attributes"]
    assert topic["TopicArn"] == made["ApprovalTopic"] and topic["KmsMasterKeyId"].endswith(made["KmsKey"])
    assert "p-abc123-dq-" in text, "the scheduled jobs are named after the project id"

    events = aws.client("events")
    deploy = events.describe_rule(Name="sagemaker-demo-p-abc123-deploy")
    pattern = json.loads(deploy["EventPattern"])
    assert pattern["detail"] == {"ModelPackageGroupName": ["demo-p-abc123"], "ModelApprovalStatus": ["Approved"]}
    (target,) = events.list_targets_by_rule(Rule="sagemaker-demo-p-abc123-deploy")["Targets"]
    assert target["Arn"] == made[machines[0]], "the rule starts the state machine the stack made"
    from pipelines.deploy.workflow.trigger import input_transformer

    assert target["InputTransformer"] == input_transformer(), "the input the workflow's definition reads"
    retrain = json.loads(events.describe_rule(Name="sagemaker-demo-p-abc123-retrain")["EventPattern"])
    assert retrain["detail"]["alarmName"] == [{"prefix": "sagemaker-demo-p-abc123-drift-"}]
    (target,) = events.list_targets_by_rule(Rule="sagemaker-demo-p-abc123-retrain")["Targets"]
    assert target["Arn"] == f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:pipeline/demo-p-abc123"

    iam = aws.client("iam")
    for name in ("CodeBuildRole", "PipelineExecutionRole", "StateMachineRole", "EventsRole", "ModelExecutionRole"):
        role = iam.get_role(RoleName=made[name])["Role"]
        assert role["Path"] == "/mlops-project/"
        assert role["PermissionsBoundary"]["PermissionsBoundaryArn"].endswith(":policy/mlops-project-boundary")


def test_the_product_stack_with_a2i_review(aws, templates):
    launch(aws.client("cloudformation"), "launch", templates["launch-role.yaml"], {})
    parameters = {**PROJECT, **SEED, "MonitorEngine": "managed", "Review": "a2i", "WorkteamArn": WORKTEAM}
    stack = launch(aws.client("cloudformation"), "SC-1-pp-abc", templates["product.yaml"], parameters)
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
    made = resources(aws, "SC-1-pp-abc")
    assert [k for k in made if k.startswith("DeployStateMachine")] == ["DeployStateMachineManagedA2I"]
    machine = aws.client("stepfunctions").describe_state_machine(stateMachineArn=made["DeployStateMachineManagedA2I"])
    flow = json.loads(machine["definition"])["States"]["Create flow definition"]["Parameters"]
    assert flow["HumanLoopConfig"]["WorkteamArn"] == WORKTEAM
    assert flow["RoleArn"].split("/")[-1] == made["ReviewRole"]


def test_the_portal_stack(aws, templates):
    ec2 = aws.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{REGION}{'ab'[i % 2]}")["Subnet"][
            "SubnetId"
        ]
        for i in range(4)
    ]
    parameters = {
        **PROJECT,
        "PortalImageUri": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/mlops-portal:1",
        "DomainName": "review.example.com",
        "CertificateArn": aws.client("acm").request_certificate(DomainName="review.example.com")["CertificateArn"],
        "VpcId": vpc,
        "PublicSubnet1": subnets[0],
        "PublicSubnet2": subnets[1],
        "PrivateSubnet1": subnets[2],
        "PrivateSubnet2": subnets[3],
    }
    stack = launch(aws.client("cloudformation"), "portal", templates["portal.yaml"], parameters)
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
    made = resources(aws, "portal")
    assert {"FileSystem", "LoadBalancer", "TaskDefinition", "Service", "TaskSecurityGroup"} <= set(made)
    task = aws.client("ecs").describe_task_definition(taskDefinition=made["TaskDefinition"])["taskDefinition"]
    (container,) = task["containerDefinitions"]
    assert container["command"] == ["mlops", "review", "serve", "--host", "0.0.0.0", "--port", "8088"]
    assert container["readonlyRootFilesystem"] is True
    groups = aws.client("ec2").describe_security_groups(GroupIds=[made["TaskSecurityGroup"]])["SecurityGroups"]
    ingress = groups[0]["IpPermissions"]
    assert [(p["FromPort"], [g["GroupId"] for g in p["UserIdGroupPairs"]], p["IpRanges"]) for p in ingress] == [
        (8088, [made["LoadBalancerSecurityGroup"]], [])
    ], "only the load balancer reaches the portal"
