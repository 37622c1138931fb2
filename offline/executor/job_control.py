"""The job processes of one execution: tagged at start, ended on stop, swept when the runner ends.

Every job runs in its own session (process group), so a Ctrl-C at the terminal reaches the runner
alone, and the runner stops its jobs the way SageMaker stops a job: SIGTERM, then SIGKILL after a
grace period. The processes of a job are found by their tag (see watchdog.py) as well as by the
job's process group, so what a job started in the background goes too.
"""

from __future__ import annotations

import secrets
import subprocess
import threading

from offline.executor.watchdog import GRACE_SECONDS, TAG_ENV, Watchdog, end_tagged


class JobControl:
    """`with JobControl() as jobs:` starts the watchdog; leaving ends whatever jobs are left."""

    def __init__(self, grace: float = GRACE_SECONDS):
        self.token = secrets.token_hex(8)
        self.grace = grace
        self.stopping = threading.Event()
        self._running: dict[int, str] = {}  # pid (= process group) -> tag
        self._lock = threading.Lock()
        self._watchdog: Watchdog | None = None

    def __enter__(self) -> JobControl:
        self._watchdog = Watchdog(self.token, self.grace).__enter__()
        return self

    def __exit__(self, *exc) -> None:
        end_tagged(f"{self.token}/", self.grace)
        if self._watchdog is not None:
            self._watchdog.__exit__(*exc)

    def environment(self, job_name: str) -> dict[str, str]:
        """The tag a job's processes inherit."""
        return {TAG_ENV: self._tag(job_name)}

    def launch(self, job_name: str, argv: list[str], **popen) -> subprocess.Popen:
        """Start a job's command in its own session; stopped at once if the execution is stopping."""
        process = subprocess.Popen(argv, start_new_session=True, **popen)
        with self._lock:
            self._running[process.pid] = self._tag(job_name)
        if self.stopping.is_set():
            self._end_in_background(process.pid, self._tag(job_name), self.grace)
        return process

    def finished(self, job_name: str, process: subprocess.Popen) -> None:
        """The job's main process has ended: end what it left running, as a container's end would."""
        with self._lock:
            self._running.pop(process.pid, None)
        end_tagged(self._tag(job_name), self.grace, groups=[process.pid])

    def end(self, job_name: str, process: subprocess.Popen) -> None:
        """End one job now (its stopping condition was reached): SIGTERM, SIGKILL after the grace period."""
        end_tagged(self._tag(job_name), self.grace, groups=[process.pid])

    def stop(self) -> None:
        """Stop every running job (StopPipelineExecution); later launches are stopped as they start."""
        if self.stopping.is_set():
            return
        self.stopping.set()
        with self._lock:
            running = dict(self._running)
        for pid, tag in running.items():
            self._end_in_background(pid, tag, self.grace)

    def kill(self) -> None:
        """A second interrupt: no more grace."""
        self.stopping.set()
        with self._lock:
            running = dict(self._running)
        for pid, tag in running.items():
            end_tagged(tag, 0, groups=[pid])

    def _tag(self, job_name: str) -> str:
        return f"{self.token}/{job_name}/"

    def _end_in_background(self, pid: int, tag: str, grace: float) -> None:
        threading.Thread(
            target=end_tagged, args=(tag, grace), kwargs={"groups": [pid]}, name=f"stop-{pid}", daemon=True
        ).start()
