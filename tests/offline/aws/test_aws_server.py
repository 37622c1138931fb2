"""The HTTP transport: 127.0.0.1 only, reachable from subprocesses, robust to bad requests."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys

import pytest

from offline.aws import local_session
from offline.aws.server import LocalAWSServer


@pytest.fixture
def server(tmp_path):
    with LocalAWSServer(tmp_path / "home") as srv:
        yield srv


def test_binds_loopback_on_a_free_port(server):
    host, port = server.httpd.server_address[:2]
    assert host == "127.0.0.1" and port > 0
    assert server.endpoint_url == f"http://127.0.0.1:{port}"


def test_subprocess_reaches_it_through_aws_endpoint_url_variables(server, tmp_path):
    local_session(server.runtime.home).client("sagemaker").create_model_package_group(ModelPackageGroupName="grp")
    script = (
        "import boto3, json\n"
        "sm = boto3.client('sagemaker')\n"
        "s3 = boto3.client('s3')\n"
        "s3.create_bucket(Bucket='from-child')\n"
        "s3.put_object(Bucket='from-child', Key='k.txt', Body=b'child')\n"
        "print(json.dumps([g['ModelPackageGroupName'] for g in sm.list_model_package_groups()"
        "['ModelPackageGroupSummaryList']] + [boto3.client('sts').get_caller_identity()['Account']]))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        server.client_env(), AWS_CONFIG_FILE=str(tmp_path / "none"), AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none")
    )
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == ["grp", "123456789012"]
    assert (server.runtime.home / "s3" / "from-child" / "k.txt").read_bytes() == b"child"


def _raw(server, method: str, path: str, body: bytes = b"", headers: dict | None = None):
    host, port = server.httpd.server_address[:2]
    conn = http.client.HTTPConnection(host, port, timeout=10)
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    return response.status, dict(response.getheaders()), response.read()


def test_malformed_json_gets_a_400_serialization_error(server):
    status, headers, body = _raw(
        server,
        "POST",
        "/",
        b"{not json",
        {"X-Amz-Target": "SageMaker.ListModelPackages", "Content-Type": "application/x-amz-json-1.1"},
    )
    assert status == 400
    assert json.loads(body)["__type"] == "SerializationException"


def test_unknown_sagemaker_target_and_bad_xml_are_4xx_not_500(server):
    status, _, body = _raw(server, "POST", "/", b"{}", {"X-Amz-Target": "SageMaker.NoSuchOperation"})
    assert status == 501 and b"NoSuchOperation (sagemaker) is not implemented" in body
    _raw(server, "PUT", "/bkt")
    status, _, body = _raw(server, "POST", "/bkt/key?uploads")
    upload_id = body.split(b"<UploadId>")[1].split(b"</UploadId>")[0].decode()
    status, _, body = _raw(server, "POST", f"/bkt/key?uploadId={upload_id}", b"<not xml")
    assert status == 400 and b"<Code>MalformedXML</Code>" in body


def test_chunked_transfer_encoding_is_accepted(server):
    _raw(server, "PUT", "/bkt")
    host, port = server.httpd.server_address[:2]
    conn = http.client.HTTPConnection(host, port, timeout=10)
    conn.request("PUT", "/bkt/chunked.txt", body=iter([b"hello ", b"world"]), encode_chunked=True)
    assert conn.getresponse().status == 200
    assert (server.runtime.home / "s3" / "bkt" / "chunked.txt").read_bytes() == b"hello world"
