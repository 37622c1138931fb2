"""A job's stand-in for the container file system, and running job commands in it.

Each job gets `<MLOPS_HOME>/jobs/<execution>/<step>/` holding an `opt/ml/...` tree. Container
paths (`/opt/ml/...`) in arguments, environment values and entry-point shell scripts are
rewritten to that tree, `python`/`python3` resolve to this project's interpreter, and the job's
output goes to a log file, whose last lines become the failure reason when the job fails, and which
ends with the job's exit code, wall time and CPU time. Jobs are started, stopped and swept through
the execution's JobControl (see job_control.py).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from collections import deque
from pathlib import Path
from typing import TextIO

from offline.executor.job_control import JobControl

CONTAINER_ROOT = "/opt/ml/"
EXIT_LINE = "[job exited with code {code} after {wall:.2f} s; {cpu:.2f} s CPU]"
FAILURE_TAIL_LINES = 12
FAILURE_REASON_LIMIT = 1024


class JobFailed(RuntimeError):
    """The job's command exited non-zero; the message is the tail of what it wrote."""


class JobStopped(Exception):
    """The execution was stopped while the job ran, and the job ended without completing."""


class Sandbox:
    def __init__(self, root: Path, log_path: Path, jobs: JobControl | None = None, job_name: str | None = None):
        self.root = root
        self.log_path = log_path
        self.jobs = jobs or JobControl()
        self.job_name = job_name or root.name
        if root.exists():
            shutil.rmtree(root)
        (root / "opt" / "ml").mkdir(parents=True)
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self._bin = root / ".bin"
        self._bin.mkdir()
        for name in ("python", "python3"):
            shim = self._bin / name
            shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
            shim.chmod(0o755)

    def local(self, container_path: str) -> Path:
        """The sandbox path standing for a container path."""
        return self.root / container_path.lstrip("/")

    def remap(self, value: str) -> str:
        """A container path in a string becomes the sandbox path (only at the start, as paths appear)."""
        if value.startswith(CONTAINER_ROOT) or value == CONTAINER_ROOT.rstrip("/"):
            return str(self.local(value))
        return value

    def rewrite_script(self, path: Path) -> Path:
        """An entry-point shell script with its container paths pointed at the sandbox."""
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace(CONTAINER_ROOT, f"{self.root}{CONTAINER_ROOT}"), encoding="utf-8")
        path.chmod(0o755)
        return path

    def environment(self, extra: dict[str, str]) -> dict[str, str]:
        env = dict(os.environ)
        env.update({key: self.remap(str(value)) for key, value in extra.items()})
        env["PATH"] = f"{self._bin}{os.pathsep}{env.get('PATH', '')}"
        env.setdefault("PYTHONUNBUFFERED", "1")
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env["OMP_NUM_THREADS"] = "1"  # one thread per job: OpenMP stalls on a busy two-core machine
        return env

    def run(self, argv: list[str], env: dict[str, str], cwd: Path | None = None, timeout: float | None = None) -> None:
        """Run the job's command, appending its output to the log; raise JobFailed on a non-zero exit,
        JobStopped when the execution was stopped meanwhile."""
        if self.jobs.stopping.is_set():
            raise JobStopped("the execution was stopped before the job started")
        tail: deque[str] = deque(maxlen=FAILURE_TAIL_LINES)
        with open(self.log_path, "a", encoding="utf-8", errors="replace") as log:
            log.write(f"$ {' '.join(argv)}\n")
            log.flush()
            process = self.jobs.launch(
                self.job_name,
                argv,
                cwd=cwd or self.root,
                env={**env, **self.jobs.environment(self.job_name)},
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                text=True,
                errors="replace",
            )
            started = time.monotonic()
            reader = threading.Thread(target=_copy_output, args=(process.stdout, log, tail), daemon=True)
            reader.start()
            exited = _Reaper(process)
            timed_out = not exited.wait(timeout)
            try:
                if timed_out:
                    self.jobs.end(self.job_name, process)
                    exited.wait()
            finally:
                self.jobs.finished(self.job_name, process)  # what it left running goes, as with a container
                reader.join(timeout=self.jobs.grace + 1)  # a process that escaped both may hold the pipe
            code = exited.code
            log.write(EXIT_LINE.format(code=code, wall=time.monotonic() - started, cpu=exited.cpu) + "\n")
        if timed_out:
            raise JobFailed(f"the job ran longer than its {timeout:.0f} s stopping condition")
        if code != 0 and self.jobs.stopping.is_set():
            raise JobStopped(f"the job was stopped (exit code {code})")
        if code != 0:
            raise JobFailed(failure_reason(list(tail), code))

    def log(self, message: str) -> None:
        with open(self.log_path, "a", encoding="utf-8") as log:
            log.write(message.rstrip("\n") + "\n")


class _Reaper:
    """Waits for a job's main process with wait4, which also reports the CPU time of the process and of
    the descendants it waited for (Popen.wait reaps it without)."""

    def __init__(self, process: subprocess.Popen):
        self.process = process
        self.code: int | None = None
        self.cpu = 0.0
        self._done = threading.Event()
        threading.Thread(target=self._reap, name=f"reap-{process.pid}", daemon=True).start()

    def wait(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)

    def _reap(self) -> None:
        _, status, usage = os.wait4(self.process.pid, 0)
        self.code = os.waitstatus_to_exitcode(status)
        self.cpu = usage.ru_utime + usage.ru_stime
        self.process.returncode = self.code  # reaped: Popen must not wait for it again
        self._done.set()


def _copy_output(stream: TextIO, log: TextIO, tail: deque[str]) -> None:
    with stream:
        for line in stream:
            try:
                log.write(line)
            except ValueError:  # the log was closed: the job was given up on (see Sandbox.run)
                return
            if line.strip():
                tail.append(line.rstrip())


def failure_reason(tail: list[str], code: int) -> str:
    """SageMaker's style: 'AlgorithmError: <what the job said last>'; the error line first if there is one."""
    errors = [line for line in tail if "Error" in line or "error:" in line.lower() or line.startswith("Exception")]
    said = errors[-1] if errors else (tail[-1] if tail else "")
    reason = f"AlgorithmError: {said} (exit code {code})" if said else f"AlgorithmError: exit code {code}"
    return reason[:FAILURE_REASON_LIMIT]
