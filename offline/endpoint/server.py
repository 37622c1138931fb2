"""A lean HTTP/1.1 server for the endpoint: asyncio transports and the httptools (llhttp) parser.

Why not uvicorn: on this path every request pays the server's own cost, and uvicorn's ASGI machinery
(scope dicts, receive/send coroutines, a task per request) costs about 23 µs of CPU per request on this
machine against about 9 µs here, out of ~250 µs in all (benchmarks/serving.py, docs/serving.md).
The endpoint's work is synchronous and short (one prediction), so each request is handled inside
`data_received`, in arrival order, with no task and no thread.

What it does: keep-alive (HTTP/1.1 default, HTTP/1.0 on request), pipelined requests answered in order,
Content-Length and chunked bodies, `Expect: 100-continue`, 413 as soon as the declared or received
length passes 6 MiB (the connection then closes without reading the rest), 400 for malformed HTTP,
431 for header blocks over 64 KiB, 408 when a request's line and headers take longer than
`header_timeout` seconds in all (a client sending a byte at a time cannot hold a connection open),
idle connections closed after `keep_alive` seconds, back-pressure (no reading while the client does
not read its answers), a Date header, TCP_NODELAY. An upgrade offer (`Upgrade: h2c`, as `curl --http2`
sends, or websocket) is ignored: the request is answered once, over HTTP/1.1, as most HTTP/1.1 servers do.
Graceful stop: stop accepting, close idle connections, let requests in progress finish (up to a
timeout), then return so the caller can publish the capture.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sys
import time
import traceback
from email.utils import formatdate
from http import HTTPStatus
from urllib.parse import unquote

import httptools

from offline.endpoint.app import Endpoint, Reply
from offline.endpoint.settings import HEADER_TIMEOUT, MAX_PAYLOAD_BYTES

MAX_HEADER_BYTES = 64 * 1024
KEEP_ALIVE = 75.0  # seconds an idle connection stays open
_REASONS = {s.value: s.phrase.encode("ascii") for s in HTTPStatus}
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
_NO_UPGRADE, _OFFERED, _REPARSING = 0, 1, 2  # how a connection stands with a request's upgrade offer


class _Clock:
    """The Date header, formatted once a second."""

    def __init__(self) -> None:
        self._second = -1
        self._value = b""

    def date(self) -> bytes:
        now = int(time.time())
        if now != self._second:
            self._second, self._value = now, formatdate(now, usegmt=True).encode("ascii")
        return self._value


class HttpServer:
    """Serves one Endpoint on a listening socket until `stop()`."""

    def __init__(
        self, endpoint: Endpoint, keep_alive: float = KEEP_ALIVE, header_timeout: float = HEADER_TIMEOUT, log=None
    ):
        self.endpoint = endpoint
        self.keep_alive = keep_alive
        self.header_timeout = header_timeout
        self.connections: set[_Connection] = set()
        self.clock = _Clock()
        self.stopping = False
        self.hurry = False  # set during stop() to drop requests still in progress
        self._log = log or (lambda message: print(message, file=sys.stderr, flush=True))
        self._listener: socket.socket | None = None
        self._tasks: set[asyncio.Task] = set()
        self._sweeper: asyncio.Task | None = None

    async def start(self, listener: socket.socket) -> None:
        """Accept on a listening socket that every worker shares, one connection per wake-up.

        All workers wait on the same socket; each accepts a single connection when woken, so a burst of
        connections is dealt out in turn, and a busy worker (slower to wake) takes fewer. asyncio's own
        server accepts the whole backlog at once, which hands a burst to one worker.
        """
        loop = asyncio.get_running_loop()
        listener.setblocking(False)
        self._listener = listener
        loop.add_reader(listener.fileno(), self._accept_one)
        self._sweeper = asyncio.create_task(self._sweep_idle())

    def _accept_one(self) -> None:
        try:
            conn, _ = self._listener.accept()
        except (BlockingIOError, InterruptedError, ConnectionAbortedError):
            return  # another worker took it
        except OSError as e:  # out of file descriptors and the like: keep serving the open connections
            self.log(f"cannot accept a connection: {e}")
            return
        conn.setblocking(False)
        task = asyncio.get_running_loop().create_task(
            asyncio.get_running_loop().connect_accepted_socket(lambda: _Connection(self), conn)
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def stop(self, timeout: float = 5.0) -> None:
        """Stop accepting; finish requests in progress (closing each connection after it), then return."""
        self.stopping = True
        if self._listener is not None:
            asyncio.get_running_loop().remove_reader(self._listener.fileno())
            self._listener.close()  # this worker's copy; queued connections stay for the others until they stop
            self._listener = None
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        for connection in list(self.connections):
            connection.close_when_idle()
        deadline = time.monotonic() + timeout
        while self.connections and time.monotonic() < deadline and not self.hurry:
            await asyncio.sleep(0.02)
        for connection in list(self.connections):
            connection.abort()
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper

    async def _sweep_idle(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(1.0)
            limit = loop.time() - self.keep_alive
            for connection in list(self.connections):
                if connection.last_activity < limit:
                    connection.close_when_idle()

    def log(self, message: str) -> None:
        self._log(message)


class _Connection(asyncio.Protocol):
    """One client connection: parse, answer in order, keep alive."""

    __slots__ = (
        "_body",
        "_body_size",
        "_busy",
        "_closing",
        "_done",
        "_head_started",
        "_head_timer",
        "_header_bytes",
        "_header_map",
        "_headers",
        "_in_head",
        "_loop",
        "_parser",
        "_server",
        "_transport",
        "_upgrade",
        "_url",
        "last_activity",
    )

    def __init__(self, server: HttpServer):
        self._server = server
        self._loop = asyncio.get_running_loop()
        self._parser = httptools.HttpRequestParser(self)
        self._transport: asyncio.Transport | None = None
        self._closing = False  # answer the request in progress, then close
        self._done = False  # no further request is read or answered on this connection
        self._busy = False  # a request has begun and is not answered yet
        self._in_head = False  # a request has begun and its headers are not complete yet
        self._head_started = 0.0  # loop time of the data that began the request
        self._head_timer: asyncio.TimerHandle | None = None  # armed only while a head spans several reads
        self._upgrade = _NO_UPGRADE  # or _OFFERED: parse the request again without its Upgrade header
        self._reset()
        self.last_activity = self._loop.time()

    def _reset(self) -> None:
        self._url = b""
        self._headers: list[tuple[bytes, bytes]] = []
        self._header_map: dict[bytes, bytes] = {}
        self._header_bytes = 0
        self._body: list[bytes] = []
        self._body_size = 0

    # -- asyncio.Protocol --------------------------------------------------------------------------------

    def connection_made(self, transport) -> None:
        self._transport = transport
        self._server.connections.add(self)
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self._server.stopping:
            self.close_when_idle()

    def connection_lost(self, exc) -> None:
        self._server.connections.discard(self)
        self._transport = None
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def data_received(self, data: bytes) -> None:
        self.last_activity = self._loop.time()
        self._feed(data)
        if self._in_head and self._head_timer is None and not self._done:
            # The head did not arrive in one read: its whole line and headers get `header_timeout` seconds
            # from its first byte, however slowly the bytes trickle in (each byte resets the idle timer).
            deadline = self._head_started + self._server.header_timeout
            self._head_timer = self._loop.call_at(deadline, self._head_timed_out)

    def _feed(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade as e:
            self._after_upgrade_offer(data[e.args[0] :] if e.args else b"")
        except httptools.HttpParserError as e:
            if not self._done:
                self._fail(400, f"malformed HTTP request: {e}")

    def _after_upgrade_offer(self, rest: bytes) -> None:
        """llhttp stops at the end of headers that offer an upgrade, before the body: parse the request
        again without its Upgrade header, with the bytes that followed (body, further requests)."""
        if self._done:
            return
        if self._upgrade != _OFFERED:  # not reached (CONNECT is refused with its headers)
            self._fail(400, "protocol upgrades are not supported")
            return
        self._upgrade = _REPARSING
        method, url, version = self._parser.get_method(), self._url, self._parser.get_http_version()
        head = [b"%s %s HTTP/%s\r\n" % (method, url, version.encode("ascii"))]
        head += [b"%s: %s\r\n" % (name, value) for name, value in self._headers if name != b"upgrade"]
        self._parser = httptools.HttpRequestParser(self)
        self._feed(b"".join(head) + b"\r\n" + rest)

    def pause_writing(self) -> None:
        if self._transport is not None:
            self._transport.pause_reading()  # the client is not reading its answers: stop reading its requests

    def resume_writing(self) -> None:
        if self._transport is not None and not self._done:
            self._transport.resume_reading()

    # -- httptools callbacks -----------------------------------------------------------------------------

    def on_message_begin(self) -> None:
        if self._done or self._closing:  # e.g. a request pipelined after one that closes the connection
            raise httptools.HttpParserError("the connection is closing")
        self._busy = True
        if not self._in_head:  # (a head parsed again after an upgrade offer keeps its start)
            self._in_head = True
            self._head_started = self.last_activity
        self._reset()

    def on_url(self, url: bytes) -> None:
        self._url += url
        self._header_bytes += len(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_bytes += len(name) + len(value)
        if self._header_bytes > MAX_HEADER_BYTES:
            self._fail(431, f"the request line and headers exceed {MAX_HEADER_BYTES} bytes")
            raise httptools.HttpParserError("header block too large")  # stops parsing; already answered
        self._headers.append((name.lower(), value))

    def on_headers_complete(self) -> None:
        headers = self._header_map = dict(self._headers)
        method = self._parser.get_method()
        if self._parser.should_upgrade():
            if method == b"CONNECT":
                message = "CONNECT is not supported: this is an HTTP/1.1 endpoint, not a proxy"
                self._fail(405, message, b"MethodNotAllowed")
                raise httptools.HttpParserError("CONNECT refused")  # stops parsing; already answered
            if self._upgrade == _REPARSING:  # never loop, whatever llhttp makes of the rewritten head
                self._fail(400, "protocol upgrades are not supported")
                raise httptools.HttpParserError("upgrade refused")
            self._upgrade = _OFFERED  # not answered now: see _after_upgrade_offer
            return
        self._upgrade = _NO_UPGRADE
        self._in_head = False
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        refusal = self._server.endpoint.preflight(method, self._path(), headers)
        if refusal is not None:
            self._write(refusal, keep_alive=False)
            raise httptools.HttpParserError("request refused before its body")  # stops parsing; already answered
        if headers.get(b"expect", b"").lower() == b"100-continue" and self._transport is not None:
            self._transport.write(_CONTINUE)

    def on_body(self, chunk: bytes) -> None:
        self._body_size += len(chunk)
        if self._body_size > MAX_PAYLOAD_BYTES:  # chunked or lying Content-Length: refuse as it passes the limit
            self._write(self._server.endpoint.too_large(self._path().startswith("/endpoints/")), keep_alive=False)
            raise httptools.HttpParserError("request body too large")
        self._body.append(chunk)

    def on_message_complete(self) -> None:
        if self._upgrade == _OFFERED:
            return  # the head ended an upgrade offer; the request is parsed again (see _after_upgrade_offer)
        body = self._body[0] if len(self._body) == 1 else b"".join(self._body)
        keep_alive = self._parser.should_keep_alive() and not self._server.stopping and not self._closing
        try:
            reply = self._server.endpoint.handle(self._parser.get_method(), self._path(), self._header_map, body)
        except Exception:
            self._server.log(f"endpoint error (500): {traceback.format_exc()}")
            reply = Reply(500, b'{"code":500,"type":"InternalServerException","message":"internal error"}')
        self._busy = False
        self._write(reply, keep_alive)

    # -- answers -----------------------------------------------------------------------------------------

    def _path(self) -> str:
        raw = self._url.split(b"?", 1)[0].decode("latin-1")
        return unquote(raw) if "%" in raw else raw

    def _write(self, reply: Reply, keep_alive: bool) -> None:
        transport = self._transport
        if transport is None:
            return
        keep_alive = keep_alive and not reply.close
        head = [
            b"HTTP/1.1 %d %s\r\n" % (reply.status, _REASONS.get(reply.status, b"Unknown")),
            b"content-type: %s\r\ncontent-length: %d\r\ndate: %s\r\n"
            % (reply.content_type, len(reply.body), self._server.clock.date()),
        ]
        for name, value in reply.headers:
            head.append(b"%s: %s\r\n" % (name, value))
        if not keep_alive:
            head.append(b"connection: close\r\n")
        head.append(b"\r\n")
        transport.write(b"".join(head) + reply.body)
        if not keep_alive:
            self._done = True
            transport.pause_reading()
            transport.close()  # after the answer is flushed

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self._in_head and not self._done:
            message = f"the request line and headers did not arrive within {self._server.header_timeout:g} s"
            self._fail(408, message, b"RequestTimeout")

    def _fail(self, status: int, message: str, kind: bytes = b"BadRequest") -> None:
        body = b'{"code":%d,"type":"%s","message":%s}' % (status, kind, _json_string(message))
        self._busy = False
        self._write(Reply(status, body), keep_alive=False)

    def close_when_idle(self) -> None:
        """Close now if no request is in progress, else after answering it."""
        self._closing = True
        if not self._busy and self._transport is not None:
            self._transport.close()

    def abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()


def _json_string(text: str) -> bytes:
    import json

    return json.dumps(text).encode("utf-8")
