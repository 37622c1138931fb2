"""Serving the portal: a socket bound first (so `--port 0` can say which port it got, and a bad address
fails before anything starts), then uvicorn on it until Ctrl-C or SIGTERM."""

from __future__ import annotations

import errno
import logging
import socket

import uvicorn


class BindError(Exception):
    """The portal cannot listen where it was asked to; the message says why."""


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say so, and without it a
    # response's headers and body, written apart, wait ~40 ms for a delayed ACK (Nagle).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        if e.errno == errno.EADDRINUSE:
            raise BindError(f"port {port} is in use on {host}; choose another, or --port 0 for a free one") from e
        if e.errno == errno.EADDRNOTAVAIL:
            raise BindError(f"{host} is not an address of this machine") from e
        if e.errno == errno.EACCES:
            raise BindError(f"no permission to listen on port {port} of {host}; choose a port above 1023") from e
        raise BindError(f"cannot listen on {host}:{port}: {e.strerror or e}") from e
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def serve(app, sock: socket.socket) -> None:
    """Run until a stop signal. The access log names method, path and status only: no body, no cookie."""
    config = uvicorn.Config(app, log_level="info", access_log=True, server_header=False, proxy_headers=False)
    server = uvicorn.Server(config)
    logging.getLogger("uvicorn.error").propagate = False
    server.run(sockets=[sock])
