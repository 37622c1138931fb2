"""The HTTP transport: 127.0.0.1 only, reachable from subprocesses, robust to bad requests."""

from __future__ import annotations

import http.client
import json
import logging
import os
import socket
import subprocess
import sys
import threading
import time

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


# -- bad requests over real sockets: a specific 4xx, never a 500, a dropped connection or a traceback ----

SIGNED_S3 = "AWS4-HMAC-SHA256 Credential=k/20250101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0"
SIGNED_SM = SIGNED_S3.replace("/s3/", "/sagemaker/")


@pytest.fixture
def quiet_log(caplog, capfd):
    """After the test: nothing logged at ERROR, no traceback anywhere (log records or stderr)."""
    caplog.set_level(logging.DEBUG, logger="offline.aws")
    yield
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR], caplog.text
    assert "Traceback" not in capfd.readouterr().err


def _exchange(server, request: bytes, half_close: bool = False, then: bytes | None = None):
    """Send raw bytes; return (status, headers, body, closed). closed: the server said `Connection: close`
    and did close. `then` is a second request sent on the same connection when it stays open; its
    status replaces `closed` in the result (proof that the connection is still usable)."""
    host, port = server.httpd.server_address[:2]
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(request)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        response = http.client.HTTPResponse(sock)
        response.begin()
        body = response.read()
        headers = {k.lower(): v for k, v in response.getheaders()}
        if headers.get("connection") == "close":
            return response.status, headers, body, sock.recv(1) == b""
        if then is None:
            return response.status, headers, body, False
        sock.sendall(then)
        second = http.client.HTTPResponse(sock)
        second.begin()
        second.read()
        return response.status, headers, body, second.status


def _code(body: bytes) -> str:
    if body.startswith(b"{"):
        return json.loads(body)["__type"]
    return body.split(b"<Code>")[1].split(b"</Code>")[0].decode()


def _put(server, key: str, body: bytes):
    host, port = server.httpd.server_address[:2]
    conn = http.client.HTTPConnection(host, port, timeout=10)
    conn.request("PUT", key, body=body, headers={"Authorization": SIGNED_S3})
    assert conn.getresponse().status == 200


def test_absolute_form_targets_are_served_as_rfc_9112_requires(server, quiet_log):
    _put(server, "/bkt", b"")
    _put(server, "/bkt/key.txt", b"absolute")
    host, port = server.httpd.server_address[:2]
    status, _, body, closed = _exchange(
        server,
        f"GET http://{host}:{port}/bkt/key.txt HTTP/1.1\r\nHost: ignored\r\nAuthorization: {SIGNED_S3}\r\n\r\n".encode(),
    )
    assert (status, body, closed) == (200, b"absolute", False)
    # the target's authority replaces Host: S3's virtual-hosted style names the bucket
    status, _, body, _ = _exchange(
        server, f"GET http://bkt.s3.amazonaws.com/key.txt HTTP/1.1\r\nAuthorization: {SIGNED_S3}\r\n\r\n".encode()
    )
    assert (status, body) == (200, b"absolute")
    for target in ("ftp://h/bkt/key.txt", "*", "bkt/key.txt", "http:///bkt"):
        status, headers, body, closed = _exchange(server, f"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        assert (status, _code(body), closed) == (400, "InvalidRequest", True), target
        assert b"must be a path" in body


def _chunked_put(key: str, framing: bytes, extra: str = "") -> bytes:
    head = f"PUT {key} HTTP/1.1\r\nHost: x\r\nAuthorization: {SIGNED_S3}\r\nTransfer-Encoding: chunked\r\n{extra}\r\n"
    return head.encode() + framing


@pytest.mark.parametrize(
    "framing",
    [
        b"zz\r\nhello\r\n0\r\n\r\n",
        b"-5\r\nhello\r\n0\r\n\r\n",
        b"0x5\r\nhello\r\n0\r\n\r\n",
        b"1_0\r\n0123456789abcdef\r\n0\r\n\r\n",
        b"5\r\nhelloXX0\r\n\r\n",
    ],
)
def test_a_bad_chunk_size_is_a_400_and_keeps_the_stored_object(server, quiet_log, framing):
    _put(server, "/bkt", b"")
    _put(server, "/bkt/obj", b"old")
    status, headers, body, closed = _exchange(server, _chunked_put("/bkt/obj", framing))
    assert (status, _code(body)) == (400, "InvalidRequest")
    assert closed and headers["connection"] == "close"  # the next request cannot be found in a broken stream
    assert (server.runtime.home / "s3" / "bkt" / "obj").read_bytes() == b"old"


def test_a_chunked_body_cut_short_is_incomplete(server, quiet_log):
    _put(server, "/bkt", b"")
    status, _, body, _ = _exchange(server, _chunked_put("/bkt/cut", b"a\r\nhello"), half_close=True)
    assert (status, _code(body)) == (400, "IncompleteBody")
    assert not (server.runtime.home / "s3" / "bkt" / "cut").exists()


def test_a_body_shorter_than_its_content_length_is_incomplete(server, quiet_log):
    _put(server, "/bkt", b"")
    _put(server, "/bkt/obj", b"old")
    request = f"PUT /bkt/obj HTTP/1.1\r\nHost: x\r\nAuthorization: {SIGNED_S3}\r\nContent-Length: 100\r\n\r\nshort"
    status, _, body, _ = _exchange(server, request.encode(), half_close=True)
    assert (status, _code(body)) == (400, "IncompleteBody")
    assert (server.runtime.home / "s3" / "bkt" / "obj").read_bytes() == b"old"


def _aws_chunked_put(declared: str, framed: bytes) -> bytes:
    head = (
        f"PUT /bkt/obj HTTP/1.1\r\nHost: x\r\nAuthorization: {SIGNED_S3}\r\nContent-Encoding: aws-chunked\r\n"
        f"X-Amz-Decoded-Content-Length: {declared}\r\nContent-Length: {len(framed)}\r\n\r\n"
    )
    return head.encode("latin-1") + framed


@pytest.mark.parametrize(
    ("declared", "code", "message"),
    [
        ("9", "IncompleteBody", b"x-amz-decoded-content-length (9)"),
        ("3", "InvalidRequest", b"more than the 3 bytes"),
        ("five", "InvalidArgument", b"must be a non-negative integer"),
        ("\u00b2", "InvalidArgument", b"must be a non-negative integer"),
    ],
)
def test_a_false_decoded_content_length_is_refused(server, quiet_log, declared, code, message):
    _put(server, "/bkt", b"")
    framed = b"5;chunk-signature=0\r\nhello\r\n0;chunk-signature=0\r\n\r\n"
    honest = _aws_chunked_put("5", framed)
    status, _, body, then = _exchange(server, _aws_chunked_put(declared, framed), then=honest)
    assert (status, _code(body)) == (400, code) and message in body
    assert then == 200  # the HTTP framing was sound: the same connection takes the next request
    assert (server.runtime.home / "s3" / "bkt" / "obj").read_bytes() == b"hello"


def test_a_false_decoded_length_leaves_the_stored_object(server, quiet_log):
    _put(server, "/bkt", b"")
    _put(server, "/bkt/obj", b"old")
    assert _exchange(server, _aws_chunked_put("50", b"5\r\nhello\r\n0\r\n\r\n"))[0] == 400
    assert (server.runtime.home / "s3" / "bkt" / "obj").read_bytes() == b"old"


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ("Content-Length: abc\r\n", 400, "InvalidRequest"),
        ("Content-Length: 1, 2\r\n", 400, "InvalidRequest"),
        ("Transfer-Encoding: gzip, chunked\r\n", 501, "NotImplemented"),
    ],
)
def test_bad_body_framing_headers(server, quiet_log, headers, status, code):
    got, _, body, closed = _exchange(server, f"PUT /bkt/k HTTP/1.1\r\nHost: x\r\n{headers}\r\nabc".encode())
    assert (got, _code(body), closed) == (status, code, True)


JSON_HEADERS = {"X-Amz-Target": "SageMaker.ListModelPackages", "Content-Type": "application/x-amz-json-1.1"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"NameContains":' * 65 + b'"x"' + b"}" * 65, b"nests deeper than 64 levels"),
        (b"[" * 100_000, b"nests deeper than 64 levels"),
        (b'{"NameContains": "\xff\xfe"}', b"is not UTF-8"),
        ('{"NameContains": "x"}'.encode("utf-16"), b"is not UTF-8"),
        (b'{"NameContains": "\\ud800"}', b"lone UTF-16 surrogate"),
        (b'["NameContains"]', b"must be a JSON object"),
    ],
)
@pytest.mark.parametrize("signed", [True, False])
def test_json_protocol_refuses_deep_or_non_utf8_bodies_with_400(server, quiet_log, body, message, signed):
    headers = {**JSON_HEADERS, **({"Authorization": SIGNED_SM} if signed else {})}
    status, _, answer = _raw(server, "POST", "/", body, headers)
    assert (status, json.loads(answer)["__type"]) == (400, "SerializationException")
    assert message in answer


def test_the_connection_stays_usable_after_an_error_with_an_unread_body(server, quiet_log):
    host, port = server.httpd.server_address[:2]
    conn = http.client.HTTPConnection(host, port, timeout=10)
    conn.request("PUT", "/no-such-bucket/k", body=b"x" * 100_000, headers={"Authorization": SIGNED_S3})
    response = conn.getresponse()
    assert (response.status, _code(response.read())) == (404, "NoSuchBucket")
    conn.request("GET", "/", headers={"Authorization": SIGNED_S3})  # same connection
    assert conn.getresponse().status == 200


def test_stop_lets_a_request_in_flight_finish_and_closes_idle_connections(tmp_path):
    server = LocalAWSServer(tmp_path / "home").start()
    host, port = server.httpd.server_address[:2]
    _put(server, "/bkt", b"")
    idle = http.client.HTTPConnection(host, port, timeout=10)
    idle.request("GET", "/", headers={"Authorization": SIGNED_S3})
    assert idle.getresponse().read()
    deadline = time.monotonic() + 10
    while any(server.httpd.connections._open.values()):  # the GET's thread has finished answering
        assert time.monotonic() < deadline
        time.sleep(0.01)
    slow = socket.create_connection((host, port), timeout=10)
    slow.sendall(
        f"PUT /bkt/slow HTTP/1.1\r\nHost: x\r\nAuthorization: {SIGNED_S3}\r\nContent-Length: 8\r\n\r\nhalf".encode()
    )
    while not any(server.httpd.connections._open.values()):  # the PUT is being served
        assert time.monotonic() < deadline
        time.sleep(0.01)
    stopper = threading.Thread(target=lambda: result.append(server.stop(grace=10)))
    result: list[bool] = []
    stopper.start()
    while not server.httpd.connections.stopping:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert stopper.is_alive()  # waiting for the PUT, which cannot finish before the rest of its body
    slow.sendall(b"done")
    response = http.client.HTTPResponse(slow)
    response.begin()
    assert response.status == 200 and response.getheader("Connection") == "close"
    stopper.join(10)
    assert result == [True]
    assert (server.runtime.home / "s3" / "bkt" / "slow").read_bytes() == b"halfdone"
    with pytest.raises(OSError):
        idle.request("GET", "/", headers={"Authorization": SIGNED_S3})
        idle.getresponse()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((host, port), timeout=2)
