"""Tagged job processes end when asked, or when their runner dies, even if they ignore SIGTERM."""

import os
import subprocess
import sys
import time

from offline.executor.watchdog import TAG_ENV, Watchdog, end_tagged, tagged_processes
from offline.process_identity import ProcessIdentity

STUBBORN = (
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); time.sleep(60)"
)


def _tagged(tag: str, code: str = STUBBORN) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-c", code], env={**os.environ, TAG_ENV: tag}, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout.readline() == "ready\n"  # its SIGTERM handler is in place
    return process


def test_a_process_that_ignores_sigterm_is_killed_after_the_grace_period():
    process = _tagged("t1/job/")
    other = _tagged("t1/other-job/")
    started = time.monotonic()
    assert end_tagged("t1/job/", grace=0.5) == [process.pid]
    assert process.wait(timeout=5) == -9 and 0.4 < time.monotonic() - started < 5
    assert other.poll() is None  # another job's processes are not touched
    end_tagged("t1/", grace=0)
    assert other.wait(timeout=5) == -9


def test_the_watchdog_ends_the_runners_jobs_when_the_runner_dies():
    # The "runner": a process that starts a watchdog and a tagged job, then is killed outright.
    runner_code = (
        "import subprocess, sys, os, time\n"
        "from offline.executor.watchdog import Watchdog, TAG_ENV\n"
        "w = Watchdog('t2', grace=0.5).__enter__()\n"
        "job = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'], env={**os.environ, TAG_ENV: 't2/j/'})\n"
        "print(job.pid, w.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    runner = subprocess.Popen([sys.executable, "-c", runner_code], stdout=subprocess.PIPE, text=True)
    job_pid, watchdog_pid = map(int, runner.stdout.readline().split())
    assert tagged_processes("t2/") == [job_pid]
    runner.kill()
    runner.wait()
    deadline = time.monotonic() + 10
    while (tagged_processes("t2/") or _alive(watchdog_pid)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert tagged_processes("t2/") == [] and not _alive(watchdog_pid)


def test_leaving_the_watchdog_normally_sweeps_and_ends_it():
    with Watchdog("t3", grace=0.5) as watchdog:
        job = _tagged("t3/j/", "import time; print('ready', flush=True); time.sleep(60)")
    assert job.wait(timeout=5) != 0
    assert not _alive(watchdog.pid)


def _alive(pid: int) -> bool:
    return ProcessIdentity.of(pid) is not None
