"""One worker process of the local endpoint: loads the handler, serves HTTP on the shared port.

Started by the host (`host.py`) as `python -m offline.endpoint.worker SETTINGS STATUS_FD LISTEN_FD`:
it accepts connections on the host's listening socket (LISTEN_FD), shared by every worker. It tells the host through the STATUS_FD pipe, one JSON line per event: `ready` once its server accepts
connections and its model is loaded, `failed` with the reason if it cannot start, `stopped` with its
counts after a graceful shutdown. SIGTERM or SIGINT stop it gracefully: in-flight requests finish,
then every queued capture record is published. If the host dies, the kernel sends it SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import gc
import json
import os
import signal
import socket
import sys
import time
from pathlib import Path

from offline.endpoint.app import Endpoint
from offline.endpoint.capture import CaptureWriter, RecordEncoder, capture_directory
from offline.endpoint.handler import HandlerLoadError, load_handler
from offline.endpoint.server import HttpServer
from offline.endpoint.settings import EndpointSettings

STARTUP_FAILED = 3
GRACE_SECONDS = 5.0  # for requests in progress at a stop
_PR_SET_PDEATHSIG = 1


def main(argv: list[str] | None = None) -> int:
    settings_file, status_fd, listen_fd = (argv or sys.argv[1:])[:3]
    status = os.fdopen(int(status_fd), "w", buffering=1)
    parent = os.getppid()
    _die_with_parent(parent)
    settings = EndpointSettings.from_json(Path(settings_file).read_text(encoding="utf-8"))
    try:
        os.environ.update(settings.environment)
        handler = load_handler(settings.model_dir, settings.environment)
        writer = encoder = None
        if settings.capture.enabled:
            directory = capture_directory(settings.capture, settings.name, settings.variant, settings.home)
            writer = CaptureWriter(directory, settings.capture)
            encoder = RecordEncoder(settings.capture)
        endpoint = Endpoint(handler, settings, writer, encoder)
        sock = socket.socket(fileno=int(listen_fd))
    except (HandlerLoadError, OSError, ValueError) as e:
        _tell(status, {"event": "failed", "pid": os.getpid(), "error": str(e)})
        return STARTUP_FAILED

    gc.collect()
    gc.freeze()  # the model and modules live as long as the worker: keep them out of every GC pass
    started = time.monotonic()
    try:
        asyncio.run(_serve(endpoint, sock, lambda: _tell(status, {"event": "ready", "pid": os.getpid()})))
    finally:
        endpoint.close()  # publish every queued capture record, whatever ended the loop
    summary = {"event": "stopped", "pid": os.getpid(), "uptime_s": round(time.monotonic() - started, 3)}
    summary.update(endpoint.summary())
    _tell(status, summary)
    return 0


async def _serve(endpoint: Endpoint, sock: socket.socket, on_ready) -> None:
    """Serve until SIGTERM or SIGINT; a second SIGINT stops waiting for requests in progress."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    server = HttpServer(endpoint, header_timeout=endpoint.settings.header_timeout)

    def on_signal(sig: int) -> None:
        if stop.is_set() and sig == signal.SIGINT:  # Ctrl-C twice; the host's SIGTERM after Ctrl-C is not
            server.hurry = True
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal, sig)
    endpoint.start()
    await server.start(sock)
    on_ready()
    await stop.wait()
    await server.stop(timeout=GRACE_SECONDS)


def _die_with_parent(parent: int) -> None:
    """Ask Linux to SIGTERM this worker when the host dies, so no orphan keeps serving the port."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent:  # the host died before prctl took effect
        os.kill(os.getpid(), signal.SIGTERM)


def _tell(status, event: dict) -> None:
    with contextlib.suppress(OSError, ValueError):
        status.write(json.dumps(event) + "\n")


if __name__ == "__main__":
    sys.exit(main())
