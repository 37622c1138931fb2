"""A job's stand-in for the container file system, and running job commands in it.

Each job gets `<MLOPS_HOME>/jobs/<execution>/<step>/` holding an `opt/ml/...` tree. Container
paths (`/opt/ml/...`) in arguments, environment values and entry-point shell scripts are
rewritten to that tree, `python`/`python3` resolve to this project's interpreter, and the job's
output goes to a log file, whose last lines become the failure reason when the job fails.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections import deque
from pathlib import Path

CONTAINER_ROOT = "/opt/ml/"
FAILURE_TAIL_LINES = 12
FAILURE_REASON_LIMIT = 1024


class JobFailed(RuntimeError):
    """The job's command exited non-zero; the message is the tail of what it wrote."""


class Sandbox:
    def __init__(self, root: Path, log_path: Path):
        self.root = root
        self.log_path = log_path
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
        """Run the job's command, appending its output to the log; raise JobFailed on a non-zero exit."""
        tail: deque[str] = deque(maxlen=FAILURE_TAIL_LINES)
        with open(self.log_path, "a", encoding="utf-8", errors="replace") as log:
            log.write(f"$ {' '.join(argv)}\n")
            log.flush()
            process = subprocess.Popen(
                argv,
                cwd=cwd or self.root,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                text=True,
                errors="replace",
            )
            assert process.stdout is not None
            for line in process.stdout:
                log.write(line)
                if line.strip():
                    tail.append(line.rstrip())
            try:
                code = process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                raise JobFailed(f"the job ran longer than its {timeout:.0f} s stopping condition") from None
        if code != 0:
            raise JobFailed(failure_reason(list(tail), code))

    def log(self, message: str) -> None:
        with open(self.log_path, "a", encoding="utf-8") as log:
            log.write(message.rstrip("\n") + "\n")


def failure_reason(tail: list[str], code: int) -> str:
    """SageMaker's style: 'AlgorithmError: <what the job said last>'; the error line first if there is one."""
    errors = [line for line in tail if "Error" in line or "error:" in line.lower() or line.startswith("Exception")]
    said = errors[-1] if errors else (tail[-1] if tail else "")
    reason = f"AlgorithmError: {said} (exit code {code})" if said else f"AlgorithmError: exit code {code}"
    return reason[:FAILURE_REASON_LIMIT]
