"""The endpoint host: starts the workers, says when it is ready, restarts crashed workers, stops cleanly.

Readiness: `Serving <name> at http://127.0.0.1:<port>` is printed (and flushed) only after every worker
reported that its model is loaded and its server accepts connections. A state file
`$MLOPS_HOME/endpoints/<name>.json` (url, pid, capture prefix) lets `mlops traffic replay --endpoint NAME`
find the endpoint; it is removed at stop. SIGTERM or SIGINT stop the host: each worker finishes its
in-flight requests and publishes its capture, then the host prints `Stopped …` and a JSON summary line.
The host owns the listening socket (so a port in use fails before any model loads, and connections
that arrive before the workers are ready wait in its backlog); the workers inherit it and take turns
accepting (`server.py`).
"""

from __future__ import annotations

import contextlib
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
from offline.endpoint.settings import EndpointSettings, validate_name
from offline.home import mlops_home
from processing.atomic import atomic_write

STARTUP_TIMEOUT = 120.0  # seconds for every worker to load the model and listen
STOP_TIMEOUT = 10.0  # seconds for workers to finish in-flight requests before they are killed
SUMMARY_PREFIX = "Summary: "
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
    def __init__(self, settings: EndpointSettings, out: TextIO | None = None, err: TextIO | None = None):
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
        self._state_file = mlops_home(settings.home) / "endpoints" / f"{settings.name}.json"

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
            except HostError:
                self._stop_workers()
                self._release()
                raise
            self._say(f"Serving {self.settings.name} at {self.url}")
            self._describe()
            code = self._supervise()
            summary = self._stop_workers()
            self._release()
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
        self._write_state()

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
        with contextlib.suppress(FileNotFoundError):
            if self._owns_state_file():
                self._state_file.unlink()

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

    def _claim_name(self) -> None:
        state = read_state(self.settings.name, self.settings.home)
        if state is not None:
            raise HostError(
                f"endpoint {self.settings.name} is already being served at {state['url']} (pid {state['pid']}); "
                "stop it first or choose another --endpoint-name"
            )

    def _write_state(self) -> None:
        capture = self.settings.capture
        state = {
            "name": self.settings.name,
            "url": self.url,
            "pid": os.getpid(),
            "workers": self.settings.workers,
            "variant": self.settings.variant,
            "model": self.settings.model_source,
            "capture_uri": endpoint_capture_uri(capture, self.settings.name) if capture.enabled else None,
            "started": time.time(),
        }
        atomic_write(self._state_file, json.dumps(state))

    def _owns_state_file(self) -> bool:
        try:
            return json.loads(self._state_file.read_text(encoding="utf-8")).get("pid") == os.getpid()
        except (OSError, ValueError):
            return False

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
    """The running endpoint of that name (url, pid, capture_uri), or None if none is running.

    Raises SettingsError for a name SageMaker would refuse, before it becomes a path.
    """
    path = mlops_home(home) / "endpoints" / f"{validate_name(name, 'endpoint name')}.json"
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not _alive(state.get("pid")):
        with contextlib.suppress(OSError):
            path.unlink()  # left by a host that was killed
        return None
    return state


def _alive(pid) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _with_port(settings: EndpointSettings, port: int) -> EndpointSettings:
    from dataclasses import replace

    return replace(settings, port=port)
