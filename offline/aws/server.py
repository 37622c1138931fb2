"""HTTP transport: the same local services on 127.0.0.1, for subprocesses and non-Python clients.

    with LocalAWSServer(home) as server:
        env = {**os.environ, **server.client_env()}   # AWS_ENDPOINT_URL_S3 / _SAGEMAKER / _STS, dummy keys
        subprocess.run([...], env=env)

Threaded (one thread per connection, HTTP/1.1 keep-alive), bound to 127.0.0.1 on a free port unless
told otherwise. The protocol layer is the one the in-process hook uses; only the socket handling is here.
`python -m offline.aws.server [--port N]` serves in the foreground until interrupted.
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from offline.aws.constants import DEFAULT_REGION, DUMMY_ACCESS_KEY_ID, DUMMY_SECRET_ACCESS_KEY
from offline.aws.runtime import LocalAWS, runtime_for
from offline.aws.wire import Headers, LimitedReader, Request, decoded_body

log = logging.getLogger(__name__)
SERVED_SERVICES = ("s3", "sagemaker", "sts")
_TIMEOUT_SECONDS = 120


class LocalAWSServer:
    """Serve the local services of one MLOPS_HOME over HTTP; a context manager that stops on exit."""

    def __init__(self, home: str | os.PathLike | None = None, host: str = "127.0.0.1", port: int = 0):
        self.runtime: LocalAWS = runtime_for(home)
        handler = type("Handler", (_Handler,), {"runtime": self.runtime})
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def endpoint_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def client_env(self, region: str = DEFAULT_REGION) -> dict[str, str]:
        """Environment that points boto3 in another process at this server, with dummy credentials."""
        env = {f"AWS_ENDPOINT_URL_{name.upper()}": self.endpoint_url for name in SERVED_SERVICES}
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

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> LocalAWSServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes: no 40 ms delayed-ACK stall
    runtime: LocalAWS
    timeout = _TIMEOUT_SECONDS

    def do_request(self) -> None:
        headers = Headers(list(self.headers.items()))
        raw, length = self._body_stream(headers)
        if raw is None:
            return
        body, decoded_length = decoded_body(headers, raw, length)
        host = headers.get("host") or "{}:{}".format(*self.server.server_address[:2])
        request = Request(self.command, f"http://{host}{self.path}", headers, body, decoded_length)
        try:
            response = self.runtime.handle(request)
        finally:
            if isinstance(raw, LimitedReader):  # keep the connection usable: consume what was not read
                raw.drain()
        self.send_response(response.status)
        for name, value in response.headers.items():
            if name not in ("content-length", "connection", "date", "server"):
                self.send_header(name, value)
        self.send_header("Content-Length", response.headers.get("content-length") or str(response.content_length))
        self.end_headers()
        if self.command == "HEAD" or response.status in (204, 304):
            if not isinstance(response.body, bytes):
                response.body.close()
            return
        for chunk in response.iter_body():
            self.wfile.write(chunk)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_request

    def _body_stream(self, headers: Headers):
        if "chunked" in headers.get("transfer-encoding", "").lower():
            return io.BytesIO(_read_chunked(self.rfile)), None
        declared = headers.get("content-length")
        if declared is None:
            return io.BytesIO(), 0
        if not declared.isdigit():
            self.send_error(400, "Invalid Content-Length")
            return None, None
        return LimitedReader(self.rfile, int(declared)), int(declared)

    def log_message(self, format: str, *args) -> None:  # requests are not logged: no payloads in logs
        log.debug("local-aws %s - %s", self.address_string(), format % args)


def _read_chunked(rfile) -> bytes:
    data = bytearray()
    while True:
        size = int(rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            while rfile.readline() not in (b"\r\n", b"\n", b""):
                pass
            return bytes(data)
        data += rfile.read(size)
        rfile.readline()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve the local AWS services (S3, STS, SageMaker registry).")
    parser.add_argument("--home", help="MLOPS_HOME to serve (default: $MLOPS_HOME or ./.mlops)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    args = parser.parse_args(argv)
    server = LocalAWSServer(args.home, args.host, args.port)
    print(f"Serving local AWS services of {server.runtime.home} at {server.endpoint_url}", flush=True)
    for name, value in server.client_env().items():
        print(f"export {name}={value}", flush=True)
    try:
        server.httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.httpd.server_close()


if __name__ == "__main__":
    main()
