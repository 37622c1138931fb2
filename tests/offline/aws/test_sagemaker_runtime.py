"""The local sagemaker-runtime service: where its requests are routed among the services that sign as
`sagemaker`, what it answers itself (unknown endpoints, bad names, bodies over 6 MiB, other operations),
and how its proxy follows an endpoint to its new host. Invocations of real hosts are tested in
tests/offline/endpoint/test_lifecycle.py."""

from __future__ import annotations

import io
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from botocore.exceptions import ClientError

from offline.aws.routing import BUILT_IN, Router
from offline.aws.sagemaker_runtime.proxy import HostProxy
from offline.aws.wire import Headers, Request
from offline.endpoint.hosts import HostRegistry

ACCOUNT = "123456789012"


def signed(method: str, path: str, headers: dict | None = None, host: str = "127.0.0.1:4599") -> Request:
    scope = "Credential=AKID/20260101/us-east-1/sagemaker/aws4_request, SignedHeaders=host, Signature=x"
    merged = {"Authorization": f"AWS4-HMAC-SHA256 {scope}", "Host": host, **(headers or {})}
    return Request(method, f"http://{host}{path}", Headers(merged), io.BytesIO(b""), 0)


def test_runtime_paths_coexist_with_sagemaker_and_the_a2i_runtime():
    router = Router(BUILT_IN)  # the A2I runtime is one of them
    assert router.route(signed("POST", "/endpoints/ep/invocations"), "sagemaker") == "sagemaker-runtime"
    assert router.route(signed("POST", "/endpoints/ep/async-invocations"), "sagemaker") == "sagemaker-runtime"
    target = {"X-Amz-Target": "SageMaker.DescribeEndpoint"}
    assert router.route(signed("POST", "/", target), "sagemaker") == "sagemaker"
    assert router.route(signed("GET", "/human-loops"), "sagemaker") == "sagemaker-a2i-runtime"
    assert router.route(signed("DELETE", "/human-loops/endpoints"), "sagemaker") == "sagemaker-a2i-runtime"
    runtime_host = "runtime.sagemaker.us-east-1.amazonaws.com"
    assert router.route(signed("POST", "/", host=runtime_host), "sagemaker") == "sagemaker-runtime"


def test_what_the_runtime_answers_before_any_host(aws):
    runtime = aws.client("sagemaker-runtime")
    with pytest.raises(ClientError) as e:
        runtime.invoke_endpoint(EndpointName="ghost", ContentType="text/csv", Body=b"1,2")
    assert e.value.response["Error"] == {
        "Code": "ValidationError",
        "Message": f"Endpoint ghost of account {ACCOUNT} not found.",
    }
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(ClientError) as e:
        runtime.invoke_endpoint(EndpointName="bad_name", ContentType="text/csv", Body=b"1,2")
    assert e.value.response["Error"]["Message"] == (
        "1 validation error detected: Value 'bad_name' at 'endpointName' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9])*"
    )
    with pytest.raises(ClientError) as e:
        runtime.invoke_endpoint(EndpointName="ghost", ContentType="text/csv", Body=b"1" * (6 * 1024 * 1024 + 1))
    assert e.value.response["Error"]["Code"] == "ValidationError"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413
    with pytest.raises(ClientError) as e:
        runtime.invoke_endpoint_async(EndpointName="ghost", InputLocation="s3://b/k")
    assert e.value.response["Error"] == {
        "Code": "NotImplemented",
        "Message": "InvokeEndpointAsync (sagemaker-runtime) is not implemented by the local runtime",
    }
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501


# -- the proxy across a switch of hosts -------------------------------------------------------------------


class _Host(BaseHTTPRequestHandler):
    """A stand-in endpoint host answering every invocation with its own name, over keep-alive connections."""

    protocol_version = "HTTP/1.1"

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        body = self.server.answer
        self.send_response(200)
        self.send_header("Content-Type", "text/csv")
        self.send_header("x-Amzn-Invoked-Production-Variant", "AllTraffic")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        # As a host closing an idle keep-alive connection: the client was not told, and reuses it.
        self.close_connection = self.server.close_idle

    def log_message(self, *args):
        pass


@pytest.fixture
def new_host_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Host)
    server.answer = b"new\n"
    server.close_idle = False
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def new_host(new_host_server):
    port = new_host_server.server_address[1]
    return f"http://127.0.0.1:{port}", port


def closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens there once the socket is closed


def serving_row(registry: HostRegistry, url: str, port: int):
    """A serving row for this (live) process: the registry verifies pid, start time and home, not the port."""
    record = registry.create("us-east-1", "ep", managed=True, pid=os.getpid())
    registry.promote(record.id, url, port)
    return record


def test_a_request_that_read_the_route_just_before_the_switch_reaches_the_new_host(tmp_path, new_host):
    registry = HostRegistry.for_home(tmp_path / "home")
    old_port = closed_port()
    serving_row(registry, f"http://127.0.0.1:{old_port}", old_port)  # the old host: stopped accepting
    successor = registry.create("us-east-1", "ep", managed=True, pid=os.getpid())
    proxy = HostProxy(registry)
    read = registry.serving

    def read_then_switch(region, name):
        route = read(region, name)
        if route.url != new_host[0]:
            registry.promote(successor.id, *new_host)  # the switch lands between the read and the connect
        return route

    proxy.hosts.serving = read_then_switch
    answer = proxy.invoke("us-east-1", ACCOUNT, "ep", b"1,2", Headers({"Content-Type": "text/csv"}))
    assert answer.error is None and (answer.status, answer.body) == (200, b"new\n")
    assert answer.headers["x-amzn-invoked-production-variant"] == "AllTraffic"


def test_a_host_that_refuses_with_no_successor_is_service_unavailable_not_a_hang(tmp_path):
    registry = HostRegistry.for_home(tmp_path / "home")
    port = closed_port()
    serving_row(registry, f"http://127.0.0.1:{port}", port)
    answer = HostProxy(registry).invoke("us-east-1", ACCOUNT, "ep", b"1", Headers())
    assert answer.error.status == 503 and answer.error.code == "ServiceUnavailable"
    assert b"refused the connection" in answer.error.body


def test_a_keep_alive_connection_the_host_closed_is_retried_on_a_new_one(tmp_path, new_host, new_host_server):
    registry = HostRegistry.for_home(tmp_path / "home")
    serving_row(registry, *new_host)
    proxy = HostProxy(registry)
    server = new_host_server
    server.close_idle = True
    assert proxy.invoke("us-east-1", ACCOUNT, "EP", b"1", Headers()).body == b"new\n"  # names ignore case
    assert len(proxy._idle[new_host[0]]) == 1  # kept for reuse: the host said nothing about closing it
    server.close_idle = False
    for _ in range(3):
        answer = proxy.invoke("us-east-1", ACCOUNT, "ep", b"1", Headers())
        assert answer.error is None and answer.body == b"new\n"
