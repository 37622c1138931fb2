"""HTTP transport: the same local services on 127.0.0.1, for subprocesses, notebooks and non-Python clients.

    with LocalAWSServer(home) as server:
        env = {**os.environ, **server.client_env()}   # AWS_ENDPOINT_URL_<SERVICE> per service, dummy keys
        subprocess.run([...], env=env)

Threaded (one thread per connection, HTTP/1.1 keep-alive), bound to 127.0.0.1 on a free port unless
told otherwise. The protocol layer is the one the in-process hook uses; only the socket handling is here:
request targets (origin- and absolute-form), Content-Length and chunked bodies (any framing error is a
4xx in the protocol's format, and the connection is closed), a graceful stop that lets requests in
flight finish. `mlops local serve` runs it in the foreground (`offline.aws.serve`).
"""

from __future__ import annotations

import ipaddress
import logging
import os
import socket
import sys
import threading
import time
import uuid
from contextlib import contextmanager, suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from offline.aws.constants import DEFAULT_REGION, DUMMY_ACCESS_KEY_ID, DUMMY_SECRET_ACCESS_KEY, LOCAL_ACCOUNT_ID
from offline.aws.errors import InternalFailure, ServiceError
from offline.aws.protocols import Context
from offline.aws.routing import SERVICES
from offline.aws.runtime import LocalAWS, error_response, runtime_for
from offline.aws.wire import ChunkedReader, Headers, LimitedReader, Request, Response, decoded_body, is_count

log = logging.getLogger(__name__)
_TIMEOUT_SECONDS = 120
_HOP_BY_HOP = ("content-length", "connection", "date", "server", "transfer-encoding")


class LocalAWSServer:
    """Serve the local services of one MLOPS_HOME over HTTP; a context manager that stops on exit.

    Binding happens in the constructor, so a port in use or an address this machine does not have raises
    OSError there, before anything is printed or started.
    """

    def __init__(self, home: str | os.PathLike | None = None, host: str = "127.0.0.1", port: int = 0):
        self.runtime: LocalAWS = runtime_for(home)
        handler = type("Handler", (_Handler,), {"runtime": self.runtime})
        server_class = _Server6 if _is_ipv6(host) else _Server
        self.httpd = server_class((host, port), handler)
        self._thread: threading.Thread | None = None

    @property
    def endpoint_url(self) -> str:
        """The URL clients use: loopback when bound to every address (0.0.0.0 or ::)."""
        host, port = self.httpd.server_address[:2]
        if host in ("0.0.0.0", "::"):
            host = "127.0.0.1" if host == "0.0.0.0" else "::1"
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    @property
    def services(self) -> list[str]:
        return sorted(SERVICES)

    def client_env(self, region: str = DEFAULT_REGION) -> dict[str, str]:
        """Environment that points boto3 in another process at this server, with dummy credentials.

        One `AWS_ENDPOINT_URL_<SERVICE>` per served service (not the global `AWS_ENDPOINT_URL`), so a
        job's calls to other services are not sent here.
        """
        env = {entry.endpoint_env_var: self.endpoint_url for entry in SERVICES.values()}
        env.update(
            AWS_ACCESS_KEY_ID=DUMMY_ACCESS_KEY_ID,
            AWS_SECRET_ACCESS_KEY=DUMMY_SECRET_ACCESS_KEY,
            AWS_DEFAULT_REGION=region,
            AWS_REGION=region,
        )
        return env

    def start(self) -> LocalAWSServer:
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="local-aws-server", daemon=True
        )
        self._thread.start()
        return self

    def stop(self, grace: float = 10.0) -> bool:
        """Stop accepting, close idle connections, let requests in flight finish (up to `grace` seconds).

        Returns whether every request in flight finished in time.
        """
        if self._thread is not None:
            self.httpd.shutdown()
            self._thread.join(timeout=5)
        self.httpd.server_close()
        return self.httpd.connections.close_all(grace)

    def __enter__(self) -> LocalAWSServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class _Connections:
    """The open connections and how many requests are in flight, for a graceful stop."""

    def __init__(self):
        self._cond = threading.Condition()
        self._open: dict[_Handler, bool] = {}  # handler -> busy
        self.stopping = False

    def opened(self, handler: _Handler) -> None:
        with self._cond:
            self._open[handler] = False

    def closed(self, handler: _Handler) -> None:
        with self._cond:
            self._open.pop(handler, None)
            self._cond.notify_all()

    @contextmanager
    def busy(self, handler: _Handler):
        with self._cond:
            self._open[handler] = True
        try:
            yield
        finally:
            with self._cond:
                if handler in self._open:
                    self._open[handler] = False
                self._cond.notify_all()

    def close_all(self, grace: float) -> bool:
        with self._cond:
            self.stopping = True
            for handler, busy in list(self._open.items()):
                if not busy:
                    handler.shutdown_socket()
            deadline = time.monotonic() + grace
            while any(self._open.values()):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
            return True


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a stop never waits on idle keep-alive connections (they are shut down)

    def __init__(self, *args, **kwargs):
        self.connections = _Connections()
        super().__init__(*args, **kwargs)

    def handle_error(self, request, client_address) -> None:
        """A client that hangs up or times out is routine; anything else is a bug worth a traceback."""
        error = sys.exc_info()[1]
        if isinstance(error, OSError):
            log.debug("local-aws connection from %s ended: %s", client_address[0], error)
        else:
            log.error("local-aws: unexpected error on a connection", exc_info=True)


class _Server6(_Server):
    address_family = socket.AF_INET6


class _SocketBody:
    """The request stream of one connection: a socket error while reading is a 400, not a dropped thread."""

    def __init__(self, rfile):
        self._rfile = rfile
        self.failed = False

    def read(self, n: int = -1) -> bytes:
        return self._guard(self._rfile.read, n)

    def readline(self, limit: int = -1) -> bytes:
        return self._guard(self._rfile.readline, limit)

    def _guard(self, read, n: int) -> bytes:
        try:
            return read(n)
        except OSError as e:  # timeout or reset mid-body
            self.failed = True
            raise ServiceError.of(
                "RequestTimeout",
                "Your socket connection to the server was not read from or written to within the timeout period.",
            ) from e


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes: no 40 ms delayed-ACK stall
    runtime: LocalAWS
    timeout = _TIMEOUT_SECONDS

    def setup(self) -> None:
        super().setup()
        self.server.connections.opened(self)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.connections.closed(self)

    def shutdown_socket(self) -> None:
        with suppress(OSError):  # already closed by the client
            self.connection.shutdown(socket.SHUT_RDWR)

    def do_request(self) -> None:
        with self.server.connections.busy(self):
            self._answer()
        if self.server.connections.stopping:
            self.close_connection = True

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = do_request

    def _answer(self) -> None:
        headers = Headers(list(self.headers.items()))
        stream = _SocketBody(self.rfile)
        try:
            url = request_url(self.path, headers, self.server.server_address)
            raw, length = _body_stream(headers, stream)
        except ServiceError as error:
            # The body's extent is unknown: answer, then close rather than read the next request from its middle.
            request = Request(self.command, "http://local/", headers)
            self._send(self._error(error, request), close=True)
            return
        request = Request(self.command, url, headers, raw, length)
        try:
            request.body, request.body_length = decoded_body(headers, raw, length)
            response = self.runtime.handle(request)
        except Exception:  # a bug below the protocol layer; the protocol layer answers everything else
            log.exception("local-aws: %s %s failed", self.command, request.raw_path)
            response = self._error(InternalFailure("The local service failed; see its log"), request)
        close = False
        try:
            raw.drain()  # keep the connection usable: consume what the service did not read
        except ServiceError:
            close = True  # bad framing or a dead socket: the next request cannot be found
        self._send(response, close=close or stream.failed or self.server.connections.stopping)

    def _error(self, error: ServiceError, request: Request) -> Response:
        region, service = request.signing_scope()
        return error_response(
            error, request, Context(region or DEFAULT_REGION, LOCAL_ACCOUNT_ID, str(uuid.uuid4())), service
        )

    def _send(self, response: Response, close: bool = False) -> None:
        try:
            self.send_response(response.status)
            for name, value in response.headers.items():
                if name not in _HOP_BY_HOP:
                    self.send_header(name, value)
            self.send_header("Content-Length", response.headers.get("content-length") or str(response.content_length))
            if close:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            if self.command == "HEAD" or response.status in (204, 304):
                if not isinstance(response.body, bytes):
                    response.body.close()
                return
            for chunk in response.iter_body():
                self.wfile.write(chunk)
        except OSError as e:  # the client went away mid-response
            log.debug("local-aws: client gone while answering: %s", e)
            self.close_connection = True
            if not isinstance(response.body, bytes):
                response.body.close()

    def log_message(self, format: str, *args) -> None:  # requests are not logged: no payloads in logs
        log.debug("local-aws %s - %s", self.address_string(), format % args)


def request_url(target: str, headers: Headers, server_address: tuple) -> str:
    """The full URL of a request target (RFC 9112 §3.2): origin-form `/path?q`, or absolute-form
    `http://host/path?q` as proxies and some SDKs (the AWS CRT's S3 client) send it. With absolute-form the
    target's authority replaces the Host header, as the RFC requires. Anything else is `InvalidRequest`.
    """
    if target.startswith("/"):
        host = headers.get("host") or "{}:{}".format(*server_address[:2])
        return f"http://{host}{target}"
    parts = urlsplit(target) if "://" in target else None
    if parts is None or parts.scheme.lower() not in ("http", "https") or not parts.netloc or "@" in parts.netloc:
        raise ServiceError.of(
            "InvalidRequest", "The request target must be a path (/bucket/key) or an absolute http:// URL"
        )
    headers["host"] = parts.netloc
    path = parts.path or "/"
    return f"http://{parts.netloc}{path}" + (f"?{parts.query}" if parts.query else "")


def _body_stream(headers: Headers, stream: _SocketBody):
    """(raw body stream, length if known) from Transfer-Encoding / Content-Length (RFC 9112 §6)."""
    transfer = headers.get("transfer-encoding")
    if transfer is not None:
        codings = [c.strip().lower() for c in transfer.split(",") if c.strip()]
        if codings != ["chunked"]:
            raise ServiceError.of(
                "NotImplemented", "A header you provided implies functionality that is not implemented", 501
            )
        return ChunkedReader(stream, framing="chunked"), None
    declared = headers.get("content-length")
    if declared is None:
        return LimitedReader(stream, 0), 0
    if not is_count(declared.strip()):
        raise ServiceError.of("InvalidRequest", "Content-Length must be a single non-negative integer")
    length = int(declared)
    return LimitedReader(stream, length, exact=True), length


def _is_ipv6(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).version == 6
    except ValueError:
        return False
