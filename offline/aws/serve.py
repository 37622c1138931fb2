"""The local AWS services in the foreground, as `mlops local serve` runs them (as people run moto's server
or LocalStack beside their own boto3 code and notebooks).

`open_server` binds (its errors say what is wrong with the host or port); `run_foreground` prints
`Serving … on http://127.0.0.1:PORT` and the variables to export (the global `AWS_ENDPOINT_URL` alone
routes every boto3 client here), then serves until SIGTERM or Ctrl-C. A stop lets requests in flight
finish (a second Ctrl-C does not wait), closes the services and ends any process this one started.
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

from offline.aws.constants import DEFAULT_REGION, DUMMY_ACCESS_KEY_ID, DUMMY_SECRET_ACCESS_KEY
from offline.aws.routing import router
from offline.aws.server import LocalAWSServer

STOP_GRACE_SECONDS = 10.0


class ServeError(Exception):
    """The server cannot listen where it was asked to; the message says why."""


def open_server(home: str | os.PathLike | None, host: str, port: int) -> LocalAWSServer:
    """Bind the server (nothing is served yet); a bad address or a port in use is a ServeError."""
    try:
        return LocalAWSServer(home, host, port)
    except OSError as e:
        if e.errno == errno.EADDRINUSE:
            raise ServeError(f"port {port} is in use on {host}; choose another, or --port 0 for a free one") from e
        if e.errno == errno.EADDRNOTAVAIL:
            raise ServeError(f"{host} is not an address of this machine") from e
        if e.errno == errno.EACCES:
            raise ServeError(f"no permission to listen on port {port} of {host}; choose a port above 1023") from e
        raise ServeError(f"cannot listen on {host}:{port}: {e.strerror or e}") from e


def client_exports(server: LocalAWSServer, region: str = DEFAULT_REGION) -> dict[str, str]:
    """What a shell or notebook sets to reach every local service: one URL, dummy credentials, a region."""
    return {
        "AWS_ENDPOINT_URL": server.endpoint_url,
        "AWS_ACCESS_KEY_ID": DUMMY_ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": DUMMY_SECRET_ACCESS_KEY,
        "AWS_DEFAULT_REGION": region,
    }


def run_foreground(
    server: LocalAWSServer, echo: Callable[[str], None], warn: Callable[[str], None] | None = None
) -> int:
    """Serve until SIGTERM or SIGINT, then stop gracefully; returns the exit code (0)."""
    stop, hurry = threading.Event(), threading.Event()

    def on_signal(signum: int, frame) -> None:
        if not stop.is_set():
            stop.set()
        elif not hurry.is_set():  # a second Ctrl-C: stop waiting for requests in flight
            hurry.set()
            raise _Hurry
        # later signals: the clean-up left is bounded (end_children waits at most 5 s), let it finish

    handlers = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    stopped = False
    try:
        router()  # read the services' models now, not on the first request
        server.start()
        echo(f"Serving {', '.join(server.services)} on {server.endpoint_url} (MLOPS_HOME={server.runtime.home})")
        for name, value in client_exports(server).items():
            echo(f"export {name}={value}")
        if warn is not None and not _is_loopback(server.httpd.server_address[0]):
            warn(
                f"Warning: listening on {server.httpd.server_address[0]}, reachable from other machines; "
                "the local services check no credentials."
            )
        echo("Ctrl-C or SIGTERM stops it.")
        while not stop.wait(0.5):
            pass
        finished = server.stop(STOP_GRACE_SECONDS)
        stopped = True
        echo("Stopped." if finished else "Stopped; requests still in flight were cut off.")
    except _Hurry:
        echo("Stopped without waiting for requests in flight.")
    finally:
        if not stopped:  # an error above (stdout gone, a second signal at once): stop without waiting
            server.stop(0)
        server.runtime.close()
        end_children()
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    return 0


class _Hurry(Exception):
    """A second stop signal while requests in flight were being waited for."""


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def end_children(timeout: float = 5.0) -> list[int]:
    """End every process this one started and has not reaped: SIGTERM, then SIGKILL after `timeout`.

    Services end what they start in `close()`; this is the safety net, so a stop never leaves an orphan.
    Children are found in /proc (Linux); elsewhere only the services' own `close()` applies.
    """
    pids = _child_pids()
    for pid in pids:
        _signal(pid, signal.SIGTERM)
    alive = set(pids)
    deadline = time.monotonic() + timeout
    while alive and time.monotonic() < deadline:
        alive = {pid for pid in alive if not _reaped(pid)}
        if alive:
            time.sleep(0.05)
    for pid in alive:
        _signal(pid, signal.SIGKILL)
        _reaped(pid, block=True)
    return pids


def _child_pids() -> list[int]:
    me = os.getpid()
    proc = Path("/proc")
    if not proc.is_dir():
        return []
    children = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # the process ended meanwhile
            continue
        fields = stat.rpartition(")")[2].split()  # after "pid (comm)": state, ppid, …
        if len(fields) > 1 and fields[1] == str(me):
            children.append(int(entry.name))
    return children


def _signal(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # it ended meanwhile
        os.kill(pid, sig)


def _reaped(pid: int, block: bool = False) -> bool:
    try:
        done, _ = os.waitpid(pid, 0 if block else os.WNOHANG)
    except ChildProcessError:  # reaped elsewhere (a Popen's wait)
        return True
    return done == pid
