"""Models and endpoint configurations of the local SageMaker service through real boto3 clients (in-process
and over HTTP): what they store, SageMaker's error codes and messages, and what the local runtime refuses
with a reason. Endpoints themselves, which start real hosts, are tested in tests/offline/endpoint."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from offline.endpoint.settings import CaptureSettings, SettingsError

ACCOUNT = "123456789012"
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:3.0-5"
DATA = "s3://models/m1/model.tar.gz"
CAPTURE = {
    "EnableCapture": True,
    "InitialSamplingPercentage": 50,
    "DestinationS3Uri": "s3://models/datacapture",
    "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
    "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"], "JsonContentTypes": ["application/json"]},
}


@pytest.fixture
def sm(aws):
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="models")
    s3.put_object(Bucket="models", Key="m1/model.tar.gz", Body=b"not read until an endpoint starts")
    return aws.client("sagemaker")


def error(excinfo) -> tuple[str, str]:
    err = excinfo.value.response["Error"]
    return err["Code"], err["Message"]


def variant(model: str = "m1", **extra) -> dict:
    return {
        "VariantName": "AllTraffic",
        "ModelName": model,
        "InstanceType": "ml.m5.large",
        "InitialInstanceCount": 1,
        **extra,
    }


# -- models --------------------------------------------------------------------------------------------


def test_create_describe_list_delete_model(sm):
    container = {"Image": IMAGE, "ModelDataUrl": DATA, "Environment": {"SAGEMAKER_PROGRAM": "inference.py"}}
    arn = sm.create_model(ModelName="Model-1", PrimaryContainer=container, Tags=[{"Key": "k", "Value": "v"}])[
        "ModelArn"
    ]
    assert arn == f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:model/model-1"
    described = sm.describe_model(ModelName="model-1")  # names are unique ignoring case, as ARNs are lower-case
    assert described["ModelName"] == "Model-1" and described["ModelArn"] == arn
    assert described["PrimaryContainer"] == container
    assert described["EnableNetworkIsolation"] is False and "Tags" not in described
    sm.create_model(ModelName="model-2", Containers=[{"Image": IMAGE, "ModelDataUrl": DATA}])
    names = [m["ModelName"] for m in sm.list_models()["Models"]]
    assert names == ["model-2", "Model-1"]  # newest first: ListModels sorts descending by default
    assert [m["ModelName"] for m in sm.list_models(SortBy="Name", SortOrder="Ascending")["Models"]] == names[::-1]
    first = sm.list_models(MaxResults=1)
    assert len(first["Models"]) == 1 and first["NextToken"]
    assert sm.list_models(MaxResults=1, NextToken=first["NextToken"])["Models"][0]["ModelName"] == "Model-1"
    assert [m["ModelName"] for m in sm.list_models(NameContains="DEL-2")["Models"]] == ["model-2"]
    sm.delete_model(ModelName="Model-1")
    with pytest.raises(ClientError) as e:
        sm.describe_model(ModelName="Model-1")
    assert error(e) == ("ValidationException", f'Could not find model "{arn}".')


def test_a_model_from_a_registered_package_resolves_its_container(sm):
    sm.create_model_package_group(ModelPackageGroupName="grp")
    package = sm.create_model_package(
        ModelPackageGroupName="grp",
        InferenceSpecification={
            "Containers": [{"Image": IMAGE, "ModelDataUrl": DATA}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
    )["ModelPackageArn"]
    sm.create_model(ModelName="from-package", Containers=[{"ModelPackageName": package}])
    assert sm.describe_model(ModelName="from-package")["Containers"] == [{"ModelPackageName": package}]
    with pytest.raises(ClientError) as e:
        sm.create_model(ModelName="ghost", Containers=[{"ModelPackageName": "grp/7"}])
    assert error(e) == (
        "ValidationException",
        f"ModelPackage arn:aws:sagemaker:us-east-1:{ACCOUNT}:model-package/grp/7 does not exist.",
    )


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (
            {"PrimaryContainer": {"Image": IMAGE, "ModelDataUrl": "s3://models/none.tar.gz"}},
            "Could not find model data at s3://models/none.tar.gz.",
        ),
        (
            {"PrimaryContainer": {"Image": IMAGE, "ModelDataUrl": "s3://no-bucket/m.tar.gz"}},
            "Could not find model data at s3://no-bucket/m.tar.gz.",
        ),
        (
            {"PrimaryContainer": {"Image": IMAGE, "ModelDataUrl": "https://example.com/m.tar.gz"}},
            "the local runtime serves one container",
        ),
        ({"PrimaryContainer": {"ModelDataUrl": DATA}}, "Image must be specified"),
        ({"PrimaryContainer": {"Image": IMAGE}}, "ModelDataUrl must be specified"),
        (
            {"PrimaryContainer": {"Image": IMAGE, "ModelDataUrl": DATA}, "Containers": [{"Image": IMAGE}]},
            "cannot both be specified",
        ),
        ({}, "Either PrimaryContainer or Containers must be specified"),
        ({"Containers": [{"Image": IMAGE, "ModelDataUrl": DATA}] * 2}, "Containers holds 2 containers"),
        ({"PrimaryContainer": {"Image": IMAGE, "ModelDataUrl": DATA, "Mode": "MultiModel"}}, "Multi-model containers"),
    ],
)
def test_create_model_refuses_what_cannot_be_served_and_stores_nothing(sm, request_, message):
    with pytest.raises(ClientError) as e:
        sm.create_model(ModelName="m", **request_)
    code, text = error(e)
    assert code == "ValidationException" and message in text
    assert sm.list_models()["Models"] == []


def test_model_names_follow_sagemakers_rules_and_are_unique(sm):
    with pytest.raises(ClientError) as e:
        sm.create_model(ModelName="bad_name", PrimaryContainer={"Image": IMAGE, "ModelDataUrl": DATA})
    assert error(e) == (
        "ValidationException",
        "1 validation error detected: Value 'bad_name' at 'modelName' failed to satisfy constraint: Member must "
        "satisfy regular expression pattern: [a-zA-Z0-9]([\\-a-zA-Z0-9]*[a-zA-Z0-9])?",
    )
    sm.create_model(ModelName="m1", PrimaryContainer={"Image": IMAGE, "ModelDataUrl": DATA})
    with pytest.raises(ClientError) as e:
        sm.create_model(ModelName="M1", PrimaryContainer={"Image": IMAGE, "ModelDataUrl": DATA})
    assert error(e) == (
        "ValidationException",
        f'Cannot create already existing model "arn:aws:sagemaker:us-east-1:{ACCOUNT}:model/m1".',
    )
    with pytest.raises(ClientError) as e:
        sm.delete_model(ModelName="m2")
    assert error(e) == (
        "ValidationException",
        f'Could not find model "arn:aws:sagemaker:us-east-1:{ACCOUNT}:model/m2".',
    )


# -- endpoint configurations ---------------------------------------------------------------------------


def test_create_describe_list_delete_endpoint_config(sm):
    sm.create_model(ModelName="m1", PrimaryContainer={"Image": IMAGE, "ModelDataUrl": DATA})
    arn = sm.create_endpoint_config(EndpointConfigName="c1", ProductionVariants=[variant()], DataCaptureConfig=CAPTURE)[
        "EndpointConfigArn"
    ]
    assert arn == f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:endpoint-config/c1"
    described = sm.describe_endpoint_config(EndpointConfigName="c1")
    assert described["ProductionVariants"] == [variant(InitialVariantWeight=1.0)]  # the weight's default filled in
    assert described["DataCaptureConfig"] == CAPTURE and described["EndpointConfigArn"] == arn
    sm.create_endpoint_config(EndpointConfigName="c2", ProductionVariants=[variant(InitialVariantWeight=0.5)])
    assert [c["EndpointConfigName"] for c in sm.list_endpoint_configs()["EndpointConfigs"]] == ["c2", "c1"]
    with pytest.raises(ClientError) as e:
        sm.create_endpoint_config(EndpointConfigName="C1", ProductionVariants=[variant()])
    assert error(e) == ("ValidationException", f'Cannot create already existing endpoint configuration "{arn}".')
    sm.delete_model(ModelName="m1")  # as on SageMaker, a configuration outlives the model it names
    assert sm.describe_endpoint_config(EndpointConfigName="c1")["EndpointConfigName"] == "c1"
    sm.delete_endpoint_config(EndpointConfigName="c1")
    with pytest.raises(ClientError) as e:
        sm.describe_endpoint_config(EndpointConfigName="c1")
    assert error(e) == ("ValidationException", f'Could not find endpoint configuration "{arn}".')


@pytest.mark.parametrize(
    ("request_", "code", "message"),
    [
        (
            {"ProductionVariants": [variant("ghost")]},
            "ValidationException",
            'Could not find model "arn:aws:sagemaker:us-east-1:123456789012:model/ghost".',
        ),
        (
            {"ProductionVariants": [variant(), {**variant(), "VariantName": "B"}]},
            "ValidationException",
            "one production variant per endpoint",
        ),
        (
            {"ProductionVariants": [{"VariantName": "AllTraffic", "ModelName": "m1"}]},
            "ValidationException",
            "needs InstanceType and InitialInstanceCount",
        ),
        (
            {"ProductionVariants": [variant(InstanceType="ml.x.huge")]},
            "ValidationException",
            "Member must satisfy enum value set",
        ),
        (
            {
                "ProductionVariants": [variant()],
                "DataCaptureConfig": {**CAPTURE, "DestinationS3Uri": "s3://Bad_Bucket/x"},
            },
            "ValidationException",
            "DataCaptureConfig",
        ),
        (
            {
                "ProductionVariants": [variant()],
                "DataCaptureConfig": {**CAPTURE, "DestinationS3Uri": "https://x.example/y"},
            },
            "ValidationException",
            "must be an s3:// URI",
        ),
        (
            {"ProductionVariants": [variant()], "DataCaptureConfig": {**CAPTURE, "InitialSamplingPercentage": 101}},
            "ValidationException",
            "Member must have value less than or equal to 100",
        ),
        (
            {"ProductionVariants": [variant()], "ShadowProductionVariants": [variant()]},
            "ValidationException",
            "ShadowProductionVariants is not supported",
        ),
    ],
)
def test_create_endpoint_config_refuses_with_a_reason(sm, request_, code, message):
    sm.create_model(ModelName="m1", PrimaryContainer={"Image": IMAGE, "ModelDataUrl": DATA})
    with pytest.raises(ClientError) as e:
        sm.create_endpoint_config(EndpointConfigName="c", **request_)
    assert error(e)[0] == code and message in error(e)[1], error(e)
    assert sm.list_endpoint_configs()["EndpointConfigs"] == []


def test_endpoint_errors_name_the_endpoint_arn(sm):
    arn = f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:endpoint/ghost"
    for call in (sm.describe_endpoint, sm.delete_endpoint):
        with pytest.raises(ClientError) as e:
            call(EndpointName="ghost")
        assert error(e) == ("ValidationException", f'Could not find endpoint "{arn}".')
    with pytest.raises(ClientError) as e:
        sm.update_endpoint(EndpointName="ghost", EndpointConfigName="c")
    assert error(e) == ("ValidationException", f'Could not find endpoint "{arn}".')
    with pytest.raises(ClientError) as e:
        sm.create_endpoint(EndpointName="ghost", EndpointConfigName="none")
    assert error(e) == (
        "ValidationException",
        f'Could not find endpoint configuration "arn:aws:sagemaker:us-east-1:{ACCOUNT}:endpoint-config/none".',
    )
    sm.create_model(ModelName="m1", PrimaryContainer={"Image": IMAGE, "ModelDataUrl": DATA})
    sm.create_endpoint_config(EndpointConfigName="c", ProductionVariants=[variant()])
    sm.delete_model(ModelName="m1")
    with pytest.raises(ClientError) as e:
        sm.create_endpoint(EndpointName="ghost", EndpointConfigName="c")  # the configuration's model is gone
    assert error(e) == (
        "ValidationException",
        f'Could not find model "arn:aws:sagemaker:us-east-1:{ACCOUNT}:model/m1".',
    )
    with pytest.raises(ClientError) as e:
        sm.create_endpoint(EndpointName="bad..name", EndpointConfigName="c")
    assert error(e)[0] == "ValidationException" and "at 'endpointName' failed to satisfy constraint" in error(e)[1]
    assert sm.list_endpoints()["Endpoints"] == []


def test_more_workers_than_a_local_endpoint_runs_is_a_resource_limit(sm):
    sm.create_model(ModelName="m1", PrimaryContainer={"Image": IMAGE, "ModelDataUrl": DATA})
    sm.create_endpoint_config(EndpointConfigName="c", ProductionVariants=[variant(InitialInstanceCount=9)])
    with pytest.raises(ClientError) as e:
        sm.create_endpoint(EndpointName="big", EndpointConfigName="c")
    assert error(e)[0] == "ResourceLimitExceeded" and "a local endpoint runs at most 8" in error(e)[1]


# -- DataCaptureConfig as the host applies it --------------------------------------------------------------


def test_data_capture_config_becomes_the_hosts_capture_settings():
    settings = CaptureSettings.from_data_capture_config(CAPTURE)
    assert (settings.enabled, settings.percentage, settings.mode) == (True, 50.0, "both")
    assert settings.destination == "s3://models/datacapture"
    assert (settings.csv_content_types, settings.json_content_types) == (("text/csv",), ("application/json",))
    # No content types declared: SageMaker captures every payload base64-encoded.
    bare = CaptureSettings.from_data_capture_config({**CAPTURE, "CaptureContentTypeHeader": None})
    assert (bare.csv_content_types, bare.json_content_types) == ((), ())
    only_input = CaptureSettings.from_data_capture_config({**CAPTURE, "CaptureOptions": [{"CaptureMode": "Input"}]})
    assert only_input.mode == "input"
    both = CaptureSettings.from_data_capture_config({**CAPTURE, "CaptureOptions": [{"CaptureMode": "InputAndOutput"}]})
    assert both.mode == "both"
    assert CaptureSettings.from_data_capture_config({**CAPTURE, "EnableCapture": False}).enabled is False
    assert CaptureSettings.from_data_capture_config(None).enabled is False
    with pytest.raises(SettingsError, match="CaptureOptions"):
        CaptureSettings.from_data_capture_config({**CAPTURE, "CaptureOptions": []})
