"""Forward an InvokeEndpoint request to the host that serves the endpoint, across a switch of hosts.

The route is read from the state DB for every request (one indexed row and a /proc check, ~30 µs), so
the request that follows an UpdateEndpoint's switch already goes to the new host. Connections to hosts
are kept alive and reused (one pool per host URL).

A request is sent again, to whichever host serves the endpoint then, only when it cannot have reached a
model: the connection was refused (the host had stopped accepting), or the connection closed before any
answer while the host it went to no longer serves the endpoint (a host that drains closes its idle
keep-alive connections; one a request was just written to gets no answer) or was a reused keep-alive
connection the host had closed as idle. A host closes a connection only between requests, never during one,
so such a request was never read. Anything else — a host that dies while answering, a timeout — is an
error for the caller, as on AWS.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import quote

from offline.aws.wire import Headers
from offline.endpoint import runtime_api
from offline.endpoint.hosts import HostRecord, HostRegistry

INVOKE_TIMEOUT = 60.0  # seconds, InvokeEndpoint's limit for a real-time container's answer
CONNECT_TIMEOUT = 5.0
ATTEMPTS = 4  # a switch needs one retry; more cover a host stopping while the next one takes over
RETRY_PAUSE = 0.05
_FORWARDED = ("content-type", "accept")  # plus every x-amzn-sagemaker-* header
_KEPT = ("content-type", "x-amzn-requestid", "x-amzn-errortype", "x-amzn-invoked-production-variant")
_MAX_IDLE = 16  # idle connections kept per host


@dataclass
class Answer:
    status: int = 0
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""
    error: runtime_api.WireError | None = None


class _NotSent(Exception):
    """The request cannot have reached the model; `retry` says whether another host may take it."""


class HostProxy:
    def __init__(self, hosts: HostRegistry):
        self.hosts = hosts
        self._idle: dict[str, list[http.client.HTTPConnection]] = {}
        self._routes: dict[tuple[str, str], str] = {}  # (region, endpoint) -> the URL last used
        self._lock = threading.Lock()

    def invoke(self, region: str, account: str, name: str, body: bytes, headers: Headers) -> Answer:
        forwarded = {k: v for k, v in headers.items() if k in _FORWARDED or k.startswith("x-amzn-sagemaker-")}
        forwarded["content-length"] = str(len(body))
        last_error = "no attempt was made"
        for attempt in range(ATTEMPTS):
            host = self.hosts.serving(region, name)
            if host is None:
                return Answer(error=runtime_api.endpoint_not_found(name, account))
            try:
                return self._send(host, body, forwarded)
            except _NotSent as e:
                last_error = str(e)
                if attempt:  # the first retry is immediate: the route has usually moved on already
                    time.sleep(RETRY_PAUSE)
            except TimeoutError:
                return Answer(error=runtime_api.model_timeout(host.endpoint, account, region, INVOKE_TIMEOUT))
            except (OSError, http.client.HTTPException) as e:  # the host failed while answering
                return Answer(error=runtime_api.service_unavailable(_unavailable(host, e)))
        return Answer(error=runtime_api.service_unavailable(f"endpoint {name}: {last_error}"))

    def _send(self, host: HostRecord, body: bytes, headers: dict[str, str]) -> Answer:
        connection, reused = self._connection(host)
        path = f"/endpoints/{quote(host.endpoint, safe='')}/invocations"
        try:
            if connection.sock is None:
                self._connect(connection)
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
        except ConnectionRefusedError as e:
            connection.close()
            raise _NotSent(f"the host at {host.url} refused the connection ({e})") from e
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as e:
            connection.close()
            if reused or self._moved_on(host):
                raise _NotSent(f"the host at {host.url} closed the connection before answering") from e
            raise
        except (OSError, http.client.HTTPException):
            connection.close()
            raise
        answer = Answer(response.status, Headers({k: v for k, v in response.getheaders() if k.lower() in _KEPT}), data)
        answer.headers["Content-Length"] = str(len(data))
        if response.will_close:
            connection.close()
        else:
            self._release(host.url, connection)
        return answer

    def _moved_on(self, host: HostRecord) -> bool:
        current = self.hosts.serving(host.region, host.endpoint)
        return current is None or current.id != host.id

    def _connection(self, host: HostRecord) -> tuple[http.client.HTTPConnection, bool]:
        """An idle keep-alive connection to the host, else a new (unconnected) one."""
        key = (host.region, host.endpoint.lower())
        with self._lock:
            previous = self._routes.get(key)
            self._routes[key] = host.url
            stale = self._idle.pop(previous, []) if previous not in (None, host.url) else []
            idle = self._idle.get(host.url)
            connection = (idle.pop(), True) if idle else None
        for old in stale:  # the endpoint moved to another host: its old connections are of no more use
            old.close()
        if connection is not None:
            return connection
        address, port = host.url.removeprefix("http://").rsplit(":", 1)
        return http.client.HTTPConnection(address, int(port), timeout=CONNECT_TIMEOUT), False

    @staticmethod
    def _connect(connection: http.client.HTTPConnection) -> None:
        connection.connect()  # refused here if the host stopped accepting: nothing was sent
        connection.sock.settimeout(INVOKE_TIMEOUT)
        connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _release(self, url: str, connection: http.client.HTTPConnection) -> None:
        with self._lock:
            idle = self._idle.setdefault(url, [])
            if len(idle) < _MAX_IDLE:
                idle.append(connection)
                return
        connection.close()

    def close(self) -> None:
        with self._lock:
            pools, self._idle = self._idle, {}
        for idle in pools.values():
            for connection in idle:
                with contextlib.suppress(OSError):
                    connection.close()


def _unavailable(host: HostRecord, error: Exception) -> str:
    return f"The local host of endpoint {host.endpoint} ({host.url}) failed while answering: {error}"
