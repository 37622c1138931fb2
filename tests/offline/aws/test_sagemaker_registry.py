"""The local model registry through a real boto3 `sagemaker` client: every operation, AWS's error codes
and messages, sort orders (ascending by default), filters, pagination and durability."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import time

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

ACCOUNT = "123456789012"
GROUP = "BreastCancerModels"
GROUP_ARN = f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:model-package-group/breastcancermodels"

# What the SDK's RegisterModel / model.register() sends, trimmed to one container.
PACKAGE = {
    "ModelPackageDescription": "XGBoost on WDBC",
    "InferenceSpecification": {
        "Containers": [
            {
                "Image": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:3.0-5",
                "ModelDataUrl": "s3://sagemaker-us-east-1-123456789012/model/model.tar.gz",
                "Environment": {
                    "SAGEMAKER_PROGRAM": "inference.py",
                    "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code",
                },
            }
        ],
        "SupportedContentTypes": ["text/csv", "application/json"],
        "SupportedResponseMIMETypes": ["text/csv", "application/json"],
        "SupportedRealtimeInferenceInstanceTypes": ["ml.m5.large"],
        "SupportedTransformInstanceTypes": ["ml.m5.large"],
    },
    "ModelMetrics": {
        "ModelQuality": {
            "Statistics": {"ContentType": "application/json", "S3Uri": "s3://b/evaluation/evaluation.json"},
            "Constraints": {"ContentType": "application/json", "S3Uri": "s3://b/mq/constraints.json"},
        },
        "ModelDataQuality": {
            "Statistics": {"ContentType": "application/json", "S3Uri": "s3://b/dq/statistics.json"},
            "Constraints": {"ContentType": "application/json", "S3Uri": "s3://b/dq/constraints.json"},
        },
    },
    "DriftCheckBaselines": {
        "ModelDataQuality": {
            "Statistics": {"ContentType": "application/json", "S3Uri": "s3://b/dq/statistics.json"},
            "Constraints": {"ContentType": "application/json", "S3Uri": "s3://b/dq/constraints.json"},
        }
    },
    "CustomerMetadataProperties": {"test_auc": "0.99", "sagemaker:pipeline": "build"},
    "MetadataProperties": {"GeneratedBy": "arn:aws:sagemaker:us-east-1:123456789012:pipeline/build/execution/x"},
    "Domain": "MACHINE_LEARNING",
    "Task": "CLASSIFICATION",
}


@pytest.fixture
def sm(aws):
    client = aws.client("sagemaker")
    client.create_model_package_group(ModelPackageGroupName=GROUP, ModelPackageGroupDescription="models")
    return client


def register(sm, group: str = GROUP, **extra) -> str:
    return sm.create_model_package(ModelPackageGroupName=group, **{**PACKAGE, **extra})["ModelPackageArn"]


def error(excinfo) -> tuple[str, str]:
    err = excinfo.value.response["Error"]
    return err["Code"], err["Message"]


# -- groups --------------------------------------------------------------------------------------------


def test_create_describe_list_delete_group(sm):
    described = sm.describe_model_package_group(ModelPackageGroupName=GROUP)
    assert described["ModelPackageGroupArn"] == GROUP_ARN
    assert (described["ModelPackageGroupName"], described["ModelPackageGroupStatus"]) == (GROUP, "Completed")
    assert described["ModelPackageGroupDescription"] == "models"
    assert isinstance(described["CreationTime"], dt.datetime)
    assert sm.describe_model_package_group(ModelPackageGroupName=GROUP_ARN)["ModelPackageGroupName"] == GROUP

    sm.create_model_package_group(ModelPackageGroupName="another-group")
    listed = sm.list_model_package_groups()["ModelPackageGroupSummaryList"]
    assert [g["ModelPackageGroupName"] for g in listed] == [GROUP, "another-group"]
    by_name = sm.list_model_package_groups(SortBy="Name", SortOrder="Descending")["ModelPackageGroupSummaryList"]
    assert [g["ModelPackageGroupName"] for g in by_name] == ["another-group", GROUP]
    contains = sm.list_model_package_groups(NameContains="ANOTHER")["ModelPackageGroupSummaryList"]
    assert [g["ModelPackageGroupName"] for g in contains] == ["another-group"]

    sm.delete_model_package_group(ModelPackageGroupName="another-group")
    with pytest.raises(ClientError) as e:
        sm.describe_model_package_group(ModelPackageGroupName="another-group")
    assert error(e) == (
        "ValidationException",
        f"ModelPackageGroup arn:aws:sagemaker:us-east-1:{ACCOUNT}:model-package-group/another-group does not exist.",
    )


def test_group_errors(sm):
    with pytest.raises(ClientError) as e:
        sm.create_model_package_group(ModelPackageGroupName=GROUP)
    assert error(e) == ("ValidationException", f"Model Package Group already exists: {GROUP_ARN}")
    with pytest.raises(ClientError) as e:
        sm.create_model_package_group(ModelPackageGroupName="bad_name")
    assert error(e) == (
        "ValidationException",
        "1 validation error detected: Value 'bad_name' at 'modelPackageGroupName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}",
    )
    register(sm)
    with pytest.raises(ClientError) as e:
        sm.delete_model_package_group(ModelPackageGroupName=GROUP)
    assert error(e) == (
        "ConflictException",
        f"Model Package Group {GROUP_ARN} cannot be deleted because it contains model packages",
    )


# -- packages ------------------------------------------------------------------------------------------


def test_create_and_describe_keep_everything_the_request_carries(sm):
    arn = register(sm, ModelApprovalStatus="PendingManualApproval")
    assert arn == f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:model-package/breastcancermodels/1"
    described = sm.describe_model_package(ModelPackageName=arn)
    for key, value in PACKAGE.items():
        assert described[key] == value, key
    assert described["ModelPackageName"] == GROUP
    assert described["ModelPackageGroupName"] == GROUP
    assert described["ModelPackageVersion"] == 1
    assert described["ModelPackageStatus"] == "Completed"
    assert described["ModelApprovalStatus"] == "PendingManualApproval"
    assert described["ModelPackageStatusDetails"] == {"ValidationStatuses": [], "ImageScanStatuses": []}
    assert isinstance(described["CreationTime"], dt.datetime)
    assert "LastModifiedTime" not in described
    # By group/version and by ARN in any case, as the API's VersionedArnOrName allows.
    assert sm.describe_model_package(ModelPackageName=f"{GROUP}/1")["ModelPackageArn"] == arn
    mixed_case = f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:model-package/{GROUP}/1"
    assert sm.describe_model_package(ModelPackageName=mixed_case)["ModelPackageArn"] == arn


def test_versions_increase_and_are_never_reused(sm):
    arns = [register(sm) for _ in range(3)]
    assert [a.rsplit("/", 1)[1] for a in arns] == ["1", "2", "3"]
    sm.delete_model_package(ModelPackageName=arns[2])
    assert register(sm).endswith("/4")


def test_approval_status_defaults_to_pending_and_update_approves(sm):
    arn = register(sm)
    assert sm.describe_model_package(ModelPackageName=arn)["ModelApprovalStatus"] == "PendingManualApproval"
    before = time.time()
    assert (
        sm.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved", ApprovalDescription="ok")[
            "ModelPackageArn"
        ]
        == arn
    )
    described = sm.describe_model_package(ModelPackageName=arn)
    assert (described["ModelApprovalStatus"], described["ApprovalDescription"]) == ("Approved", "ok")
    assert described["LastModifiedTime"].timestamp() >= before - 1
    sm.update_model_package(
        ModelPackageArn=arn,
        ModelApprovalStatus="Rejected",
        CustomerMetadataProperties={"reviewer": "ana"},
        CustomerMetadataPropertiesToRemove=["test_auc"],
    )
    described = sm.describe_model_package(ModelPackageName=arn)
    assert described["ModelApprovalStatus"] == "Rejected"
    assert described["CustomerMetadataProperties"] == {"sagemaker:pipeline": "build", "reviewer": "ana"}


def test_client_token_makes_create_idempotent(sm):
    first = register(sm, ClientToken="token-1")
    assert register(sm, ClientToken="token-1") == first
    with pytest.raises(ClientError) as e:
        register(sm, ClientToken="token-1", ModelPackageDescription="different")
    assert error(e) == ("ConflictException", "ClientToken token-1 was already used with different parameters")


def test_unversioned_packages(sm):
    arn = sm.create_model_package(ModelPackageName="Standalone", **PACKAGE)["ModelPackageArn"]
    assert arn == f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:model-package/standalone"
    assert sm.describe_model_package(ModelPackageName="Standalone")["ModelPackageName"] == "Standalone"
    register(sm)
    default = sm.list_model_packages()["ModelPackageSummaryList"]  # the documented default: Unversioned
    assert [p["ModelPackageArn"] for p in default] == [arn]
    assert default[0]["ModelPackageName"] == "Standalone"
    assert len(sm.list_model_packages(ModelPackageType="Both")["ModelPackageSummaryList"]) == 2
    versioned = sm.list_model_packages(ModelPackageType="Versioned")["ModelPackageSummaryList"]
    assert [p["ModelPackageVersion"] for p in versioned] == [1]
    assert "ModelPackageName" not in versioned[0]  # SageMaker names only unversioned packages in summaries


def test_create_package_errors(sm):
    with pytest.raises(ClientError) as e:
        sm.create_model_package(ModelPackageGroupName="NoSuchGroup", **PACKAGE)
    assert error(e) == ("ValidationException", "Model Package Group does not exist: NoSuchGroup")
    with pytest.raises(ClientError) as e:
        sm.create_model_package(ModelPackageGroupName=GROUP, ModelPackageName="x")
    assert error(e) == (
        "ValidationException",
        "Both ModelPackageName and ModelPackageGroupName are provided in the input. Cannot determine which one to use.",
    )
    with pytest.raises(ClientError) as e:
        sm.create_model_package(**PACKAGE)
    assert error(e)[0] == "ValidationException" and error(e)[1].startswith("Missing ARN")
    with pytest.raises(ClientError) as e:
        register(sm, ModelApprovalStatus="approved")
    assert error(e) == (
        "ValidationException",
        "1 validation error detected: Value 'approved' at 'modelApprovalStatus' failed to satisfy constraint: "
        "Member must satisfy enum value set: [Approved, Rejected, PendingManualApproval]",
    )
    too_long = {"k": "v" * 257}
    with pytest.raises(ClientError) as e:
        register(sm, CustomerMetadataProperties=too_long, ModelPackageDescription="x" * 1025)
    code, message = error(e)
    assert code == "ValidationException" and message.startswith("2 validation errors detected: ")
    assert (
        "at 'customerMetadataProperties.k.member' failed to satisfy constraint: Member must have length less "
        in message
    )
    assert sm.list_model_packages(ModelPackageGroupName=GROUP)["ModelPackageSummaryList"] == []


def test_requests_are_validated_with_botocores_param_validator(aws, sm):
    raw = aws.client("sagemaker", config=Config(parameter_validation=False, retries={"max_attempts": 1}))
    with pytest.raises(ClientError) as e:
        raw.list_model_packages(MaxResults="ten")
    code, message = error(e)
    assert code == "ValidationException"
    assert "Invalid type for parameter MaxResults, value: ten" in message
    with pytest.raises(ClientError) as e:
        raw.describe_model_package()
    assert error(e)[1] == 'Missing required parameter in input: "ModelPackageName"'
    with pytest.raises(ClientError) as e:
        sm.list_model_packages(MaxResults=101)
    assert error(e)[1] == (
        "1 validation error detected: Value '101' at 'maxResults' failed to satisfy constraint: "
        "Member must have value less than or equal to 100"
    )


def test_describe_update_delete_of_missing_packages(sm):
    missing = f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:model-package/breastcancermodels/9"
    with pytest.raises(ClientError) as e:
        sm.describe_model_package(ModelPackageName=f"{GROUP}/9")
    assert error(e) == ("ValidationException", f"ModelPackage {missing} does not exist.")
    with pytest.raises(ClientError) as e:
        sm.update_model_package(ModelPackageArn=missing, ModelApprovalStatus="Approved")
    assert error(e) == ("ValidationException", f"ModelPackage {missing} does not exist.")
    with pytest.raises(ClientError) as e:
        sm.delete_model_package(ModelPackageName=missing)
    assert error(e) == ("ValidationException", f"ModelPackage {missing} does not exist.")


# -- listing -------------------------------------------------------------------------------------------


def test_list_sorts_ascending_by_default_and_descending_on_request(sm):
    arns = [register(sm) for _ in range(3)]
    default = sm.list_model_packages(ModelPackageGroupName=GROUP, SortBy="CreationTime")["ModelPackageSummaryList"]
    assert [p["ModelPackageArn"] for p in default] == arns  # the documented default: Ascending
    unsorted = sm.list_model_packages(ModelPackageGroupName=GROUP)["ModelPackageSummaryList"]
    assert [p["ModelPackageArn"] for p in unsorted] == arns
    latest = sm.list_model_packages(ModelPackageGroupName=GROUP, SortBy="CreationTime", SortOrder="Descending")
    assert [p["ModelPackageArn"] for p in latest["ModelPackageSummaryList"]] == arns[::-1]
    by_name = sm.list_model_packages(ModelPackageGroupName=GROUP, SortBy="Name", SortOrder="Ascending")
    assert [p["ModelPackageVersion"] for p in by_name["ModelPackageSummaryList"]] == [1, 2, 3]


def test_list_filters(sm):
    sm.create_model_package_group(ModelPackageGroupName="other-models")
    first = register(sm)
    time.sleep(0.02)
    middle = time.time()
    time.sleep(0.02)
    second = register(sm)
    other = register(sm, group="other-models")
    sm.update_model_package(ModelPackageArn=second, ModelApprovalStatus="Approved")

    def arns(**kwargs):
        return [p["ModelPackageArn"] for p in sm.list_model_packages(**kwargs)["ModelPackageSummaryList"]]

    assert arns(ModelPackageGroupName=GROUP) == [first, second]
    assert arns(ModelPackageGroupName=GROUP_ARN) == [first, second]
    assert arns(ModelPackageGroupName=GROUP, ModelApprovalStatus="Approved") == [second]
    assert arns(ModelPackageGroupName=GROUP, ModelApprovalStatus="PendingManualApproval") == [first]
    assert arns(ModelPackageType="Versioned", CreationTimeAfter=dt.datetime.fromtimestamp(middle)) == [second, other]
    assert arns(ModelPackageGroupName=GROUP, CreationTimeBefore=dt.datetime.fromtimestamp(middle)) == [first]
    assert arns(ModelPackageType="Versioned", NameContains="other") == [other]
    assert arns(ModelPackageGroupName="never-created") == []
    summary = sm.list_model_packages(ModelPackageGroupName=GROUP)["ModelPackageSummaryList"][0]
    assert set(summary) == {
        "ModelPackageGroupName",
        "ModelPackageVersion",
        "ModelPackageArn",
        "ModelPackageDescription",
        "CreationTime",
        "ModelPackageStatus",
        "ModelApprovalStatus",
    }


def test_list_pagination(sm):
    arns = [register(sm) for _ in range(5)]
    page1 = sm.list_model_packages(ModelPackageGroupName=GROUP, MaxResults=2)
    assert [p["ModelPackageArn"] for p in page1["ModelPackageSummaryList"]] == arns[:2]
    page2 = sm.list_model_packages(ModelPackageGroupName=GROUP, MaxResults=2, NextToken=page1["NextToken"])
    assert [p["ModelPackageArn"] for p in page2["ModelPackageSummaryList"]] == arns[2:4]
    page3 = sm.list_model_packages(ModelPackageGroupName=GROUP, MaxResults=2, NextToken=page2["NextToken"])
    assert [p["ModelPackageArn"] for p in page3["ModelPackageSummaryList"]] == arns[4:]
    assert "NextToken" not in page3
    pages = sm.get_paginator("list_model_packages").paginate(
        ModelPackageGroupName=GROUP, SortOrder="Descending", PaginationConfig={"PageSize": 2}
    )
    assert [p["ModelPackageArn"] for page in pages for p in page["ModelPackageSummaryList"]] == arns[::-1]
    with pytest.raises(ClientError) as e:
        sm.list_model_packages(ModelPackageGroupName=GROUP, NextToken="garbage")
    assert error(e) == ("ValidationException", "Invalid pagination token: garbage")


# -- tags ----------------------------------------------------------------------------------------------


def test_tags_on_groups_and_packages(aws):
    sm = aws.client("sagemaker")
    sm.create_model_package_group(ModelPackageGroupName=GROUP, Tags=[{"Key": "team", "Value": "ml"}])
    arn = register(sm, Tags=[{"Key": "stage", "Value": "build"}])
    assert sm.list_tags(ResourceArn=GROUP_ARN)["Tags"] == [{"Key": "team", "Value": "ml"}]
    added = sm.add_tags(ResourceArn=arn, Tags=[{"Key": "stage", "Value": "prod"}, {"Key": "owner", "Value": "ana"}])
    assert added["Tags"] == [{"Key": "stage", "Value": "prod"}, {"Key": "owner", "Value": "ana"}]
    assert sm.list_tags(ResourceArn=arn)["Tags"] == [
        {"Key": "stage", "Value": "prod"},
        {"Key": "owner", "Value": "ana"},
    ]
    sm.delete_tags(ResourceArn=arn, TagKeys=["stage"])
    assert sm.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "owner", "Value": "ana"}]
    missing = f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:model-package/nothing/1"
    with pytest.raises(ClientError) as e:
        sm.list_tags(ResourceArn=missing)
    assert error(e) == ("ResourceNotFound", f"Resource {missing} does not exist.")
    many = [{"Key": f"k{i}", "Value": "v"} for i in range(50)]
    with pytest.raises(ClientError) as e:
        sm.add_tags(ResourceArn=arn, Tags=many)
    assert error(e) == ("ResourceLimitExceeded", f"A resource can have at most 50 tags; {arn} would have 51.")
    assert len(sm.list_tags(ResourceArn=arn)["Tags"]) == 1  # the failed call changed nothing


# -- the rest ------------------------------------------------------------------------------------------


def test_unimplemented_operations_fail_clearly(aws):
    sm = aws.client("sagemaker")
    with pytest.raises(ClientError) as e:
        sm.list_training_jobs()
    assert error(e) == ("NotImplemented", "ListTrainingJobs (sagemaker) is not implemented by the local runtime")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501


def test_region_scopes_the_registry(aws):
    east = aws.client("sagemaker")
    west = aws.client("sagemaker", region_name="eu-west-1")
    east.create_model_package_group(ModelPackageGroupName=GROUP)
    arn = west.create_model_package_group(ModelPackageGroupName=GROUP)["ModelPackageGroupArn"]
    assert arn.startswith("arn:aws:sagemaker:eu-west-1:")
    assert len(west.list_model_package_groups()["ModelPackageGroupSummaryList"]) == 1


def test_registry_survives_a_new_process(aws, sm):
    arn = register(sm)
    sm.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved", ApprovalDescription="durable")
    script = (
        "import json, sys\n"
        "from offline.aws import local_session\n"
        "sm = local_session(sys.argv[1]).client('sagemaker')\n"
        "d = sm.describe_model_package(ModelPackageName=sys.argv[2])\n"
        "print(json.dumps([d['ModelApprovalStatus'], d['ApprovalDescription'], d['ModelMetrics']]))\n"
    )
    out = subprocess.run([sys.executable, "-c", script, str(aws.home), arn], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == ["Approved", "durable", PACKAGE["ModelMetrics"]]
