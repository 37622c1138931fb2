"""Serve a model locally: in the foreground (the CLI), or in the background from Python (the demo, tests).

    from offline.endpoint import start_endpoint
    with start_endpoint(home=home) as endpoint:        # latest approved package, capture 100 %
        replay(endpoint.name, "requests.csv", url=endpoint.url)
    endpoint.summary                                   # requests, captured, capture_uri, ...

`start_endpoint` runs the same command as `mlops endpoint serve` in a child process and returns once
it printed `Serving …`, so what the demo measures is what a user runs.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from offline.endpoint.artifact import (
    ArtifactError,
    ModelSpec,
    describe_package,
    extract_archive,
    latest_approved_package,
    locate_archive,
)
from offline.endpoint.capture import endpoint_capture_uri
from offline.endpoint.host import SUMMARY_PREFIX, Host, HostError
from offline.endpoint.settings import (
    DEFAULT_ENVIRONMENT,
    HEADER_TIMEOUT,
    CaptureSettings,
    EndpointSettings,
    validate_name,
)
from offline.home import mlops_home

_SERVING = re.compile(r"^Serving (?P<name>\S+) at (?P<url>http://\S+)$")


def resolve_model(
    model_package: str | None = None,
    model_data: str | None = None,
    group: str | None = None,
    home: str | os.PathLike | None = None,
    sagemaker_client=None,
) -> ModelSpec:
    """What to serve: --model-data as given, else the package (default: the latest approved one)."""
    if model_data and model_package:
        raise ArtifactError("give either a model package or model data, not both")
    if model_data:
        return ModelSpec(model_data=model_data, environment=dict(DEFAULT_ENVIRONMENT))
    if sagemaker_client is None:
        from offline.aws import local_session

        sagemaker_client = local_session(home).client("sagemaker")
    arn = model_package or latest_approved_package(sagemaker_client, group)
    return describe_package(sagemaker_client, arn)


def default_endpoint_name(spec: ModelSpec) -> str:
    base = f"{spec.group}-local" if spec.group else "mlops-local-endpoint"
    name = re.sub(r"[^a-zA-Z0-9-]", "-", base)[:63].strip("-")
    return validate_name(name or "mlops-local-endpoint", "endpoint name")


def serve(
    spec: ModelSpec,
    *,
    endpoint_name: str | None = None,
    port: int = 0,
    workers: int = 2,
    header_timeout: float = HEADER_TIMEOUT,
    capture: CaptureSettings | None = None,
    home: str | os.PathLike | None = None,
) -> int:
    """Serve in the foreground until SIGTERM/SIGINT (what `mlops endpoint serve` runs)."""
    home = str(mlops_home(home))
    archive = locate_archive(spec.model_data, home)
    with tempfile.TemporaryDirectory(prefix="mlops-model-") as scratch:
        model_dir = extract_archive(archive, Path(scratch) / "model")
        environment = {**DEFAULT_ENVIRONMENT, **spec.environment}
        settings = EndpointSettings(
            name=endpoint_name or default_endpoint_name(spec),
            model_dir=str(model_dir),
            environment=environment,
            port=port,
            workers=workers,
            header_timeout=header_timeout,
            capture=capture or CaptureSettings(),
            home=home,
            model_source=spec.package_arn or spec.model_data,
        )
        return Host(settings).run()


@dataclass
class LocalEndpoint:
    """A host running in a child process; `stop()` ends it and returns its summary."""

    name: str
    url: str
    capture_uri: str | None
    process: subprocess.Popen
    log_path: Path
    summary: dict = field(default_factory=dict)
    _lines: list[str] = field(default_factory=list)
    _reader: threading.Thread | None = None

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self, timeout: float = 30.0) -> dict:
        """SIGTERM the host, wait for it, and return its summary (requests, captured, capture_uri, …)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                _kill_group(self.process)
                raise HostError(f"endpoint {self.name} did not stop within {timeout:.0f} s; killed it") from None
        if self._reader is not None:
            self._reader.join(5)
        for line in self._lines:
            if line.startswith(SUMMARY_PREFIX):
                self.summary = json.loads(line[len(SUMMARY_PREFIX) :])
        return self.summary

    def kill(self) -> None:
        """SIGKILL the host and its workers at once: a crash, for testing what it leaves behind."""
        _kill_group(self.process)

    def __enter__(self) -> LocalEndpoint:
        return self

    def __exit__(self, *exc) -> None:
        if self.process.poll() is None:
            self.stop()


def start_endpoint(
    *,
    model_package: str | None = None,
    model_data: str | os.PathLike | None = None,
    model_package_group: str | None = None,
    endpoint_name: str | None = None,
    port: int = 0,
    workers: int = 2,
    header_timeout: float = HEADER_TIMEOUT,
    capture_percentage: float = 100,
    capture_destination: str | None = None,
    capture_mode: str = "both",
    capture_enabled: bool = True,
    csv_content_types: tuple[str, ...] | None = None,
    json_content_types: tuple[str, ...] | None = None,
    home: str | os.PathLike | None = None,
    timeout: float = 120.0,
) -> LocalEndpoint:
    """Start `mlops endpoint serve` in the background; returns once it serves (or raises HostError).

    The host's stderr goes to `$MLOPS_HOME/logs/endpoint-<name or pid>.log`.
    """
    home = str(mlops_home(home))
    args = ["--port", str(port), "--workers", str(workers), "--capture-mode", capture_mode]
    args += ["--header-timeout", f"{header_timeout:g}"]
    args += ["--capture-percentage", f"{capture_percentage:g}"]
    if not capture_enabled:
        args.append("--no-capture")
    for flag, value in (
        ("--model-package", model_package),
        ("--model-data", str(model_data) if model_data else None),
        ("--model-package-group", model_package_group),
        ("--endpoint-name", endpoint_name),
        ("--capture-destination", capture_destination),
    ):
        if value:
            args += [flag, value]
    for flag, types in (("--capture-csv-type", csv_content_types), ("--capture-json-type", json_content_types)):
        if types is not None:
            args += [f"{flag}={t}" for t in types] if types else [f"{flag}="]
    log_dir = Path(home) / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"endpoint-{endpoint_name or 'default'}-{os.getpid()}-{time.monotonic_ns()}.log"
    env = {**os.environ, "MLOPS_HOME": home, "PYTHONUNBUFFERED": "1"}
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "offline.endpoint", *args],
            stdout=subprocess.PIPE,
            stderr=log,
            stdin=subprocess.DEVNULL,
            env=env,
            text=True,
            start_new_session=True,
        )
    lines: list[str] = []
    found = _wait_for_serving(process, lines, timeout)
    if found is None:
        _kill_group(process)
        process.wait()
        tail = log_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-5:]
        raise HostError("the endpoint did not start: " + (" | ".join(tail) or "no output"))
    name, url = found
    reader = threading.Thread(target=_drain, args=(process, lines), daemon=True)
    reader.start()
    capture = None
    if capture_enabled:
        settings = CaptureSettings(destination=capture_destination) if capture_destination else CaptureSettings()
        capture = endpoint_capture_uri(settings, name)
    return LocalEndpoint(name, url, capture, process, log_path, _lines=lines, _reader=reader)


def _wait_for_serving(process: subprocess.Popen, lines: list[str], timeout: float) -> tuple[str, str] | None:
    found: list[tuple[str, str]] = []

    def read() -> None:
        for line in process.stdout:
            lines.append(line.rstrip("\n"))
            match = _SERVING.match(lines[-1])
            if match:
                found.append((match["name"], match["url"]))
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout)
    return found[0] if found else None


def _drain(process: subprocess.Popen, lines: list[str]) -> None:
    with contextlib.suppress(ValueError, OSError):
        for line in process.stdout:
            lines.append(line.rstrip("\n"))


def _kill_group(process: subprocess.Popen) -> None:
    """SIGKILL the host and every worker (they share its session's process group only via the host)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
