"""Helpers for tests that run `mlops` as real processes, and judge them as the acceptance check does."""

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

MLOPS = Path(sys.executable).with_name("mlops")


@pytest.fixture
def home(tmp_path) -> Iterator[Path]:
    folder = tmp_path / "home"
    folder.mkdir()
    yield folder
    for pid in home_processes(folder):  # never leave a failed test's processes behind
        os.kill(pid, signal.SIGKILL)


def home_processes(home: Path) -> list[int]:
    """Processes whose environment holds MLOPS_HOME=<home> (as the acceptance check scans)."""
    wanted = f"MLOPS_HOME={home}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                environ = (entry / "environ").read_bytes().split(b"\0")
                state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if wanted in environ and state != "Z":
                found.append(int(entry.name))
    return found


def mlops(home: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    env = {**os.environ, "MLOPS_HOME": str(home)}
    return subprocess.run(
        [str(MLOPS), *args], env=env, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
    )


def start_run(home: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, "MLOPS_HOME": str(home)}
    return subprocess.Popen(
        [str(MLOPS), "pipeline", "run", "--local", *args],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # as a terminal's job: its own process group
    )


def wait_until(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"not within {timeout} s: {what}")


def describe(home: Path, execution: str | None = None) -> dict:
    if execution is None:
        listed = mlops(home, "pipeline", "list", "--json")
        assert listed.returncode == 0, listed.stderr
        execution = json.loads(listed.stdout)[0]["PipelineExecutionId"]
    described = mlops(home, "pipeline", "describe", execution, "--json")
    assert described.returncode == 0, described.stderr
    return json.loads(described.stdout)


def steps(execution: dict) -> dict[str, dict]:
    return {s["StepName"]: s for s in execution["Steps"]}


def cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""
