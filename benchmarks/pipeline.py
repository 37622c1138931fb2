"""Wall time of the local build pipeline run (milestone 1b's bar: <= 20 s, median of three).

Runs `mlops pipeline run --local` in fresh MLOPS_HOMEs: one untimed warm-up (compilation caches,
page cache), then N timed runs; prints each run, the median and the per-step times of the last.
SageMaker's own local mode needs Docker and minutes per job; on AWS the same pipeline takes tens
of minutes (instance start-up per job), so there is no peer to run beside it here.

    python benchmarks/pipeline.py [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MLOPS = Path(sys.executable).with_name("mlops")


def run_once(home: Path) -> tuple[float, dict]:
    env = {**os.environ, "MLOPS_HOME": str(home)}
    started = time.perf_counter()
    result = subprocess.run(
        [str(MLOPS), "pipeline", "run", "--local", "--json"], env=env, capture_output=True, text=True, check=False
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"the run failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    return elapsed, json.loads(result.stdout[result.stdout.index("{") :])


def step_seconds(execution: dict) -> list[tuple[str, float]]:
    from datetime import datetime

    def parse(text: str) -> datetime:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))

    return [(s["StepName"], (parse(s["EndTime"]) - parse(s["StartTime"])).total_seconds()) for s in execution["Steps"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        run_once(Path(scratch) / "warm-up")
        times = []
        for i in range(args.runs):
            elapsed, execution = run_once(Path(scratch) / f"run-{i}")
            times.append(elapsed)
            print(f"run {i + 1}: {elapsed:.2f} s ({execution['PipelineExecutionStatus']})")
    print(f"median of {args.runs}: {statistics.median(times):.2f} s (bar: <= 20 s)")
    print("steps of the last run (s):")
    for name, seconds in step_seconds(execution):
        print(f"  {name:<32}{seconds:6.2f}")


if __name__ == "__main__":
    main()
