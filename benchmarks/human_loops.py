"""Human review at scale, locally: start the loops of one captured window of 10,000 predictions, and collect
them once answered; loops per second each way (goal: >= 500/s both ways on 2 cores).

The window is written in SageMaker's capture format (one JSON Lines record per request, CSV in and the
handler's `probability,label,flag` out, under `<endpoint>/AllTraffic/yyyy/mm/dd/hh/`), from the held-out
WDBC rows, every prediction marked for review, so each one is a loop. Each round uses a fresh home:

- start   `mlops review start-loops`'s path: processing/start_human_loops.py in-process against the
          local A2I runtime (DescribeHumanLoop, then StartHumanLoop, per loop; fsynced commits); timed;
- restart the same window again (every loop already started); timed;
- answer  every loop answered through the runtime (output.json written, fsynced): not timed;
- collect `mlops review collect`'s path: processing/collect_reviews.py's job over the output.json files
          into ground truth and labelled rows; timed.

One small warm-up round, then `--rounds` rounds; printed per step: the median over rounds, the best
(quietest) round, and CPU seconds of this process per 1,000 loops.

    .venv/bin/python benchmarks/human_loops.py [--loops 10000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path, and this file would shadow the `review` package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

ENDPOINT = "bench-review"
HOUR = datetime(2024, 5, 1, 10, tzinfo=timezone.utc)
RECORDS_PER_FILE = 1000


def write_window(store_root: Path, loops: int) -> None:
    """`loops` single-row requests in capture files of one hour, every one marked for review."""
    from processing.contract import load_contract
    from processing.preprocess import load_raw, split, to_model_frame

    contract = load_contract()
    rows = split(to_model_frame(load_raw(contract, None), contract), contract).traffic.drop(columns="label")
    values = rows.to_numpy()
    folder = store_root / "sagemaker-us-east-1-123456789012" / "datacapture" / ENDPOINT / "AllTraffic"
    folder = folder / f"{HOUR:%Y/%m/%d/%H}"
    folder.mkdir(parents=True)
    for start in range(0, loops, RECORDS_PER_FILE):
        lines = []
        for n in range(start, min(start + RECORDS_PER_FILE, loops)):
            features = ",".join(repr(float(v)) for v in values[n % len(values)])
            p = 0.1 + 0.8 * ((n * 7919) % 1000 + 1) / 1002  # strictly inside (0.1, 0.9): marked
            when = HOUR + timedelta(seconds=n * 3600 // loops)
            record = {
                "captureData": {
                    "endpointInput": {"observedContentType": "text/csv", "mode": "INPUT", "data": features + "\n",
                                      "encoding": "CSV"},
                    "endpointOutput": {"observedContentType": "text/csv", "mode": "OUTPUT",
                                       "data": f"{p!r},{int(p >= 0.5)},1\n", "encoding": "CSV"},
                },
                "eventMetadata": {"eventId": f"00000000-0000-4000-8000-{n:012x}", "inferenceId": f"bench-{n:06d}",
                                  "inferenceTime": f"{when:%Y-%m-%dT%H:%M:%SZ}"},
                "eventVersion": "0",
            }  # fmt: skip
            lines.append(json.dumps(record, separators=(",", ":")))
        (folder / f"{start // RECORDS_PER_FILE:02d}-00-000-bench.jsonl").write_text("\n".join(lines) + "\n")


def one_round(scratch: Path, window: Path, loops: int) -> dict[str, tuple[float, float]]:
    """(wall s, CPU s) of start, restart and collect for `loops` loops in a fresh home."""
    from offline import human_review
    from offline.aws.a2i.loops import HumanLoops
    from processing.review.answers import answer_content

    home = scratch / f"home-{time.monotonic_ns()}"
    shutil.copytree(window, home / "s3")
    arn = human_review.ensure_flow_definition(ENDPOINT, home=home)
    end = HOUR + timedelta(hours=1)
    figures = {}
    figures["start"], (_, report) = timed(lambda: human_review.start_loops(ENDPOINT, HOUR, end, flow=arn, home=home))
    if report.started != loops:
        raise SystemExit(f"started {report.started} loops, expected {loops}")
    figures["restart"], (_, again) = timed(lambda: human_review.start_loops(ENDPOINT, HOUR, end, flow=arn, home=home))
    if again.started != 0:
        raise SystemExit(f"the second run started {again.started} loops")
    reviews = HumanLoops.for_home(home)
    for entry in report.loops:
        name = entry["humanLoopName"]
        document = reviews.detail("us-east-1", name).input_content
        reviews.answer("us-east-1", name, "bench-reviewer", answer_content(entry["predictedLabel"], document))
    flows = [human_review.resolve_flow_definition(arn, home=home)]
    figures["collect"], [collected] = timed(lambda: human_review.collect(ENDPOINT, flows, home=home))
    if collected.agreed != loops or collected.ground_truth_records != loops:
        raise SystemExit(f"collected {collected.agreed} loops, {collected.ground_truth_records} records")
    shutil.rmtree(home)
    return figures


def timed(func: Callable[[], object]) -> tuple[tuple[float, float], object]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = func()
    return (time.perf_counter() - wall, time.process_time() - cpu), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loops", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=500, help="loops of the warm-up round")
    args = parser.parse_args()
    os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; {args.loops} loops per round")
    with tempfile.TemporaryDirectory(prefix="bench-review-") as tmp:
        scratch = Path(tmp)
        warm, window = scratch / "warm-window", scratch / "window"
        write_window(warm, args.warmup)
        write_window(window, args.loops)
        one_round(scratch, warm, args.warmup)
        rounds = []
        for number in range(1, args.rounds + 1):
            figures = one_round(scratch, window, args.loops)
            rounds.append(figures)
            shown = ", ".join(f"{step} {args.loops / wall:,.0f}/s" for step, (wall, _) in figures.items())
            print(f"round {number} (load {os.getloadavg()[0]:.2f}): {shown}")
    print(f"{'step':<10}{'loops/s median':>16}{'best round':>12}{'CPU s / 1000':>14}")
    for step in ("start", "restart", "collect"):
        rates = [args.loops / r[step][0] for r in rounds]
        cpu = statistics.median(r[step][1] for r in rounds) * 1000 / args.loops
        print(f"{step:<10}{statistics.median(rates):>16,.0f}{max(rates):>12,.0f}{cpu:>14.2f}")


if __name__ == "__main__":
    main()
