"""The in-process transport: sessions and clients answered locally, with no network and no credentials."""

from __future__ import annotations

import socket
import subprocess
import sys

import boto3
import botocore.session
import pytest
from botocore.exceptions import ClientError

from offline.aws import LOCAL_ACCOUNT_ID, attach, local_session


@pytest.fixture
def no_network(monkeypatch):
    """Any socket connection fails the test: local clients must never reach the network."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_local_session_needs_no_credentials_or_network(tmp_path, monkeypatch, no_network):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    session = local_session(tmp_path / "home", region="eu-west-1")
    assert session.region_name == "eu-west-1"
    assert session.client("sts").get_caller_identity()["Account"] == LOCAL_ACCOUNT_ID
    with pytest.raises(ClientError) as e:
        session.client("ec2").describe_instances()
    err = e.value.response["Error"]
    assert (err["Code"], err["Message"]) == (
        "NotImplemented",
        "DescribeInstances (ec2) is not implemented by the local runtime",
    )
    with pytest.raises(ClientError) as e:
        session.client("sagemaker-runtime").invoke_endpoint_async(EndpointName="e", InputLocation="s3://b/k")
    assert (
        e.value.response["Error"]["Message"]
        == "InvokeEndpointAsync (sagemaker-runtime) is not implemented by the local runtime"
    )


def test_local_session_uses_mlops_home(tmp_path, monkeypatch):
    monkeypatch.setenv("MLOPS_HOME", str(tmp_path / "from-env"))
    local_session().client("s3").create_bucket(Bucket="env-bucket")
    assert (tmp_path / "from-env" / "s3" / "env-bucket").is_dir()


def test_attach_to_an_existing_session_and_client(tmp_path, no_network):
    session = boto3.Session(region_name="us-east-1", botocore_session=botocore.session.Session())
    attach(session, tmp_path / "home")
    session.client("s3").create_bucket(Bucket="attached")
    assert (tmp_path / "home" / "s3" / "attached").is_dir()

    client = boto3.Session(aws_access_key_id="a", aws_secret_access_key="b", region_name="us-east-1").client(
        "sagemaker"
    )
    attach(client, tmp_path / "home")
    client.create_model_package_group(ModelPackageGroupName="g")
    assert (
        local_session(tmp_path / "home")
        .client("sagemaker")
        .describe_model_package_group(ModelPackageGroupName="g")["ModelPackageGroupName"]
        == "g"
    )


def test_attach_refuses_other_objects():
    with pytest.raises(TypeError, match="Cannot attach"):
        attach(object())


def test_importing_the_package_stays_light():
    code = "import sys, offline.aws; print('sagemaker' in sys.modules, 'moto' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_a_cleared_home_gets_fresh_local_services_once_its_runtime_is_forgotten(tmp_path):
    """The process's shared services of a home cache what the home held; forget_runtime drops them, so a
    home cleared and started again in the same folder (mlops demo --fresh) is answered from what it holds."""
    import shutil

    from offline.aws import local_session
    from offline.aws.runtime import forget_runtime, runtime_for

    home = tmp_path / "home"
    s3 = local_session(home=home).client("s3")
    s3.create_bucket(Bucket="before")
    first = runtime_for(home)
    forget_runtime(home)
    shutil.rmtree(home)
    assert runtime_for(home) is not first
    s3 = local_session(home=home).client("s3")
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == []
    s3.create_bucket(Bucket="after")
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["after"]
    forget_runtime(tmp_path / "never-used")  # nothing to forget: no error
