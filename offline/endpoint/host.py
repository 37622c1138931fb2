"""The endpoint host: starts the workers, says when it is ready, restarts crashed workers, stops cleanly.

Readiness: `Serving <name> at http://127.0.0.1:<port>` is printed (and flushed) only after every worker
reported that its model is loaded and its server accepts connections, and `GET /ping` on the port answered
200. The host's row in the state DB (`hosts.py`: pid, start time, port, url, log) then becomes the
endpoint's route in one transaction (`promote`): a host started by UpdateEndpoint takes over from the one
serving the endpoint, which it then drains (SIGTERM after a short grace: that host stops accepting,
finishes its requests in progress and exits). SIGTERM or SIGINT stop the host: each worker finishes its
in-flight requests and publishes its capture, then the host prints `Stopped …` and a JSON summary line.
The host owns the listening socket (so a port in use fails before any model loads, and connections
that arrive before the workers are ready wait in its backlog); the workers inherit it and take turns
accepting (`server.py`).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from offline.endpoint.capture import endpoint_capture_uri
from offline.endpoint.hosts import FAILED, STOP_WAIT, STOPPED, HostConflict, HostRecord, HostRegistry, NotStarting
from offline.endpoint.settings import EndpointSettings, validate_name

STARTUP_TIMEOUT = 120.0  # seconds for every worker to load the model and listen
STOP_TIMEOUT = 10.0  # seconds for workers to finish in-flight requests before they are killed
SUMMARY_PREFIX = "Summary: "
# After the switch, how long the replaced host keeps accepting before it is told to stop: a proxy that read
# the old route just before the switch still reaches it (and its answer is never cut off: draining lets
# requests in progress finish).
SWITCH_GRACE = 0.5
HEALTH_TIMEOUT = 5.0  # seconds for GET /ping to answer once the workers are ready
_MAX_RESTARTS = 5  # per minute; beyond that a crashing handler stops the host instead of looping


class HostError(RuntimeError):
    """The endpoint cannot start; the message says why."""


@dataclass
class _Worker:
    process: subprocess.Popen
    ready: bool = False


@dataclass
class HostSummary:
    name: str
    url: str
    requests: int = 0
    answered_ok: int = 0
    captured: int = 0
    capture_dropped: int = 0
    capture_files: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    worker_restarts: int = 0
    capture_uri: str | None = None

    def add(self, worker: dict) -> None:
        for key in ("requests", "answered_ok", "captured", "capture_dropped", "capture_files"):
            setattr(self, key, getattr(self, key) + int(worker.get(key, 0)))
        for status, count in worker.get("statuses", {}).items():
            self.statuses[status] = self.statuses.get(status, 0) + count


class Host:
    def __init__(
        self,
        settings: EndpointSettings,
        out: TextIO | None = None,
        err: TextIO | None = None,
        host_id: str | None = None,
    ):
        """`host_id`: the row the SageMaker service created for this host (None: `mlops endpoint serve`,
        which claims the name with a row of its own)."""
        self.settings = settings
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.port = settings.port
        self._stop = threading.Event()
        self._workers: list[_Worker] = []
        self._restarts: list[float] = []
        self._summary: HostSummary | None = None
        self._status_r = self._status_w = -1
        self._buffer = b""
        self._listener: socket.socket | None = None
        self._hosts = HostRegistry.for_home(settings.home)
        self._host_id = host_id
        self._drainer: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.settings.host}:{self.port}"

    # -- foreground run ----------------------------------------------------------------------------------

    def run(self) -> int:
        """Serve until SIGTERM/SIGINT; returns the exit code."""
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self._stop.set())
        with tempfile.TemporaryDirectory(prefix="mlops-endpoint-") as scratch:
            try:
                self._start(Path(scratch))
                self._check_health()
                replaced = self._go_live()
            except HostError as e:
                self._stop_workers()
                self._release()
                if self._host_id is not None:
                    self._hosts.finish(self._host_id, FAILED, str(e))
                raise
            self._say(f"Serving {self.settings.name} at {self.url}")
            self._describe()
            if replaced:
                self._drainer = threading.Thread(target=self._drain, args=(replaced,), name="drain", daemon=True)
                self._drainer.start()
            code = 1
            try:
                code = self._supervise()
                summary = self._stop_workers()
                self._release()
                if self._drainer is not None:  # never leave the replaced host running behind us
                    self._drainer.join(SWITCH_GRACE + STOP_WAIT + 5)
            finally:
                reason = "the host stopped" if code == 0 else "its workers kept crashing"
                self._hosts.finish(self._host_id, STOPPED, reason)
        self._say(
            f"Stopped {summary.name}: {summary.requests} requests answered ({summary.answered_ok} ok), "
            f"{summary.captured} records captured in {summary.capture_files} files"
        )
        self._say(SUMMARY_PREFIX + json.dumps(summary.__dict__))
        return code

    def _start(self, scratch: Path) -> None:
        self._claim_name()
        self._listen()
        settings_file = scratch / "settings.json"
        settings_file.write_text(self.settings.to_json(), encoding="utf-8")
        self._settings_file = settings_file
        self._status_r, self._status_w = os.pipe()
        os.set_blocking(self._status_r, False)
        for _ in range(self.settings.workers):
            self._workers.append(self._spawn())
        self._await_ready(self._workers, STARTUP_TIMEOUT)

    def _check_health(self) -> None:
        """GET /ping on the port, as SageMaker checks a container before it routes traffic to it."""
        connection = http.client.HTTPConnection(self.settings.host, self.port, timeout=HEALTH_TIMEOUT)
        try:
            connection.request("GET", "/ping")
            response = connection.getresponse()
            body = response.read()
        except OSError as e:
            raise HostError(f"the ping health check failed: {e}") from None
        finally:
            connection.close()
        if response.status != 200:
            raise HostError(f"the ping health check answered {response.status}: {body[:200]!r}")

    def _go_live(self) -> list[HostRecord]:
        """Become the endpoint's route (the switch); returns the hosts this one replaces."""
        try:
            return self._hosts.promote(self._host_id, self.url, self.port)
        except NotStarting as e:
            raise HostError(f"stopped before the endpoint was ready ({e})") from None
        except HostConflict as e:
            raise HostError(str(e)) from None

    def _drain(self, replaced: list[HostRecord]) -> None:
        """Stop the hosts this one replaced: they finish the requests they have, then exit."""
        time.sleep(SWITCH_GRACE)
        self._hosts.stop(replaced, f"replaced by the host at {self.url}")

    def _spawn(self) -> _Worker:
        env = dict(os.environ)
        env.setdefault("OMP_NUM_THREADS", "1")  # one thread per worker: more stall a busy two-core machine
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "offline.endpoint.worker",
                str(self._settings_file),
                str(self._status_w),
                str(self._listener.fileno()),
            ],
            pass_fds=(self._status_w, self._listener.fileno()),
            stdin=subprocess.DEVNULL,
            env=env,
            # Same process group as the host: Ctrl-C reaches every worker at once (each stops gracefully,
            # the host's SIGTERM after it changes nothing), and `kill -- -<pgid>` ends the whole endpoint.
        )
        return _Worker(process)

    def _await_ready(self, workers: list[_Worker], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not all(w.ready for w in workers):
            if self._stop.is_set():
                raise HostError("stopped before the endpoint was ready")
            for event in self._read_events(max(0.0, min(0.2, deadline - time.monotonic()))):
                worker = next((w for w in workers if w.process.pid == event.get("pid")), None)
                if event["event"] == "stopped":
                    self._absorb(event)
                if event["event"] == "failed":
                    raise HostError(f"a worker could not start: {event.get('error')}")
                if event["event"] == "ready" and worker is not None:
                    worker.ready = True
            for w in workers:
                if not w.ready and w.process.poll() is not None:
                    raise HostError(f"a worker exited with code {w.process.returncode} before it was ready")
            if time.monotonic() > deadline:
                raise HostError(f"the workers were not ready within {timeout:.0f} s")

    def _supervise(self) -> int:
        while not self._stop.wait(0.2):
            for event in self._read_events(0):
                if event["event"] == "stopped":
                    self._absorb(event)
            for i, worker in enumerate(self._workers):
                if worker.process.poll() is None:
                    continue
                now = time.monotonic()
                self._restarts = [t for t in self._restarts if now - t < 60] + [now]
                self._warn(f"worker {worker.process.pid} exited with code {worker.process.returncode}")
                if len(self._restarts) > _MAX_RESTARTS:
                    self._warn("workers keep crashing; stopping the endpoint")
                    return 1
                replacement = self._spawn()
                try:
                    self._await_ready([replacement], STARTUP_TIMEOUT)
                except HostError as e:
                    self._warn(f"cannot restart the worker: {e}")
                    self._workers[i] = replacement
                    return 1
                self._workers[i] = replacement
                self._summary_or_new().worker_restarts += 1
        return 0

    # -- stop --------------------------------------------------------------------------------------------

    def _stop_workers(self) -> HostSummary:
        summary = self._summary_or_new()
        if self._listener is not None:  # refuse new connections at once (the workers close their copies too)
            self._listener.close()
            self._listener = None
        alive = [w.process for w in self._workers if w.process.poll() is None]
        for process in alive:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        for process in alive:
            try:
                process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self._warn(f"worker {process.pid} did not stop within {STOP_TIMEOUT:.0f} s; killing it")
                process.kill()
                process.wait()
        if self._status_r >= 0:
            for event in self._read_events(0):
                if event["event"] == "stopped":
                    self._absorb(event)
        return summary

    def _release(self) -> None:
        for fd in (self._status_r, self._status_w):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._status_r = self._status_w = -1
        if self._listener is not None:
            self._listener.close()
            self._listener = None

    def _absorb(self, event: dict) -> None:
        self._summary_or_new().add(event)

    def _summary_or_new(self) -> HostSummary:
        if self._summary is None:
            capture = self.settings.capture
            self._summary = HostSummary(
                name=self.settings.name,
                url=self.url,
                capture_uri=endpoint_capture_uri(capture, self.settings.name) if capture.enabled else None,
            )
        return self._summary

    # -- port, name and state file -----------------------------------------------------------------------

    def _listen(self) -> None:
        """The listening socket every worker accepts on; bound here so a taken port fails early."""
        host = self.settings.host
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT only; a live listener fails
        try:
            listener.bind((host, self.port))
            listener.listen(2048)
        except OSError as e:
            listener.close()
            raise HostError(f"cannot listen on {host}:{self.port}: {e.strerror or e}") from None
        self.port = listener.getsockname()[1]
        self._listener = listener
        self.settings = _with_port(self.settings, self.port)
        self._hosts.update(self._host_id, port=self.port, url=self.url)

    def _claim_name(self) -> None:
        """The host's row: a new one for `mlops endpoint serve` (refused while another host serves the name),
        the service's for a managed host."""
        settings = self.settings
        capture = endpoint_capture_uri(settings.capture, settings.name) if settings.capture.enabled else None
        if self._host_id is None:
            try:
                record = self._hosts.create(
                    settings.region, settings.name, managed=False, exclusive=True, pid=os.getpid()
                )
            except HostConflict as e:
                raise HostError(str(e)) from None
            self._host_id = record.id
        else:
            self._hosts.set_process(self._host_id, os.getpid())
        self._hosts.update(self._host_id, model=settings.model_source, workers=settings.workers, capture_uri=capture)

    # -- events and output -------------------------------------------------------------------------------

    def _read_events(self, timeout: float) -> list[dict]:
        if self._status_r < 0:
            return []
        readable, _, _ = select.select([self._status_r], [], [], timeout)
        if readable:
            with contextlib.suppress(BlockingIOError):
                while chunk := os.read(self._status_r, 65536):
                    self._buffer += chunk
        *lines, self._buffer = self._buffer.split(b"\n")
        events = []
        for line in lines:
            with contextlib.suppress(ValueError):
                events.append(json.loads(line))
        return events

    def _describe(self) -> None:
        capture = self.settings.capture
        if capture.enabled:
            modes = {"both": "input and output", "input": "input", "output": "output"}[capture.mode]
            target = f"{endpoint_capture_uri(capture, self.settings.name)}/{self.settings.variant}/"
            self._say(f"Capturing {capture.percentage:g}% of {modes} to {target}")
        else:
            self._say("Data capture is off")
        self._say(f"Model: {self.settings.model_source}; {self.settings.workers} workers. Stop with Ctrl-C.")

    def _say(self, line: str) -> None:
        print(line, file=self.out, flush=True)

    def _warn(self, line: str) -> None:
        print(f"endpoint {self.settings.name}: {line}", file=self.err, flush=True)


def read_state(name: str, home: str | os.PathLike | None = None) -> dict | None:
    """The running host that serves endpoint `name` (url, pid, capture_uri, …), or None if none does.

    Raises SettingsError for a name SageMaker would refuse.
    """
    validate_name(name, "endpoint name")
    record = HostRegistry.for_home(home).serving(None, name)
    if record is None:
        return None
    return {**record.as_dict(), "name": record.endpoint}


def _with_port(settings: EndpointSettings, port: int) -> EndpointSettings:
    from dataclasses import replace

    return replace(settings, port=port)
