"""Wall and CPU time of the local build pipeline run (milestone 3c's bar: <= 10 s, median of three).

Runs `mlops pipeline run --local` in fresh MLOPS_HOMEs, as the acceptance check does: one untimed
warm-up (page cache, the per-user numba kernel cache), then N timed runs. Prints, per run, the wall
time, the CPU seconds of the whole process tree (the runner and every job), the time spent before
the execution started (CLI start, SDK import, definition build) and the execution's own time; then
the medians and each step's median wall seconds and its jobs' CPU seconds (from the job logs'
last line; in-process steps such as the XGBoost trainer or RegisterModel count in the runner's).

The machine is shared: wall time swings with the other processes' load, CPU seconds much less.
Give several `--mlops` executables (e.g. another checkout's .venv/bin/mlops) to compare them in
interleaved rounds. SageMaker's own local mode needs Docker and cannot run QualityCheck or
RegisterModel steps, and on AWS the same pipeline takes tens of minutes (an instance per job), so
there is no peer to run beside it here.

    python benchmarks/pipeline.py [--runs 3] [--mlops PATH ...]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

MLOPS = Path(sys.executable).with_name("mlops")
BAR_SECONDS = 10.0
JOB_EXIT = re.compile(r"^\[job exited with code -?\d+ after [\d.]+ s; ([\d.]+) s CPU\]$", re.MULTILINE)


@dataclass
class Run:
    wall: float
    cpu: float
    before_execution: float
    execution: float
    steps: dict[str, float] = field(default_factory=dict)
    step_cpu: dict[str, float | None] = field(default_factory=dict)


def run_once(mlops: Path, home: Path) -> Run:
    env = {**os.environ, "MLOPS_HOME": str(home)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started_at, started = time.time(), time.perf_counter()
    result = subprocess.run(
        [str(mlops), "pipeline", "run", "--local", "--json"],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        sys.exit(f"the run failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    execution = json.loads(result.stdout[result.stdout.index("{") :])
    created, ended = _time(execution["CreationTime"]), _time(execution["EndTime"])
    return Run(
        wall=wall,
        cpu=(after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
        before_execution=created - started_at,
        execution=ended - created,
        steps={s["StepName"]: _time(s["EndTime"]) - _time(s["StartTime"]) for s in execution["Steps"]},
        step_cpu={s["StepName"]: _job_cpu(s.get("LogPath")) for s in execution["Steps"]},
    )


def _job_cpu(log_path: str | None) -> float | None:
    """CPU seconds of the step's job processes, or None for a step that ran no job."""
    if not log_path or not Path(log_path).is_file():
        return None
    seconds = [float(m) for m in JOB_EXIT.findall(Path(log_path).read_text(errors="replace"))]
    return sum(seconds) if seconds else None


def _time(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def report(label: str, runs: list[Run]) -> None:
    median = statistics.median
    print(f"\n{label}")
    for i, r in enumerate(runs, 1):
        print(
            f"  run {i}: wall {r.wall:5.2f} s  cpu {r.cpu:5.2f} s  "
            f"(before the execution {r.before_execution:4.2f} s, execution {r.execution:4.2f} s)"
        )
    wall = median(r.wall for r in runs)
    print(
        f"  median: wall {wall:.2f} s (bar: <= {BAR_SECONDS:.0f} s), cpu {median(r.cpu for r in runs):.2f} s, "
        f"before the execution {median(r.before_execution for r in runs):.2f} s, "
        f"execution {median(r.execution for r in runs):.2f} s"
    )
    print(f"  {'step (medians)':<34}{'wall s':>7}{'job CPU s':>11}")
    for name in runs[-1].steps:
        cpu = [r.step_cpu[name] for r in runs if r.step_cpu.get(name) is not None]
        cpu_text = f"{median(cpu):11.2f}" if cpu else f"{'-':>11}"
        print(f"    {name:<32}{median(r.steps.get(name, 0.0) for r in runs):7.2f}{cpu_text}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="timed runs per executable")
    parser.add_argument("--mlops", type=Path, action="append", help="mlops executable(s); default: this venv's")
    args = parser.parse_args()
    executables = args.mlops or [MLOPS]
    results: dict[Path, list[Run]] = {exe: [] for exe in executables}
    with tempfile.TemporaryDirectory() as scratch:
        for exe in executables:
            run_once(exe, Path(scratch) / f"warm-up-{executables.index(exe)}")
        for i in range(args.runs):
            for j, exe in enumerate(executables):  # interleaved: load swings hit every executable alike
                results[exe].append(run_once(exe, Path(scratch) / f"run-{i}-{j}"))
    for exe, runs in results.items():
        report(str(exe), runs)


if __name__ == "__main__":
    main()
