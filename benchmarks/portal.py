"""The reviewer portal under load: with 10,000 open loops, the p95 latency of the queue page and of a task
page, and answers per second submitted over HTTP (goal: p95 <= 50 ms on 2 cores).

A real `mlops review serve` process (uvicorn, its own CPU) serves a home holding `--loops` open loops of
this project's review input (30 features) and task template; this process is the browser, an httpx
client with keep-alive, signed in as one worker of the flow definition's team. Each round times queue
pages (a random page of the first 40), task pages (a random open loop: render + an audit line, fsynced)
and answers (POST taskAnswers: the answer, output.json and the audit line, fsynced; then the redirect's
next-task lookup), interleaved request by request. Printed: p50/p95 per kind over all rounds and for the
quietest round, answers per second (one client, and `--clients` at once), and the server's CPU ms per
request (from /proc).

    .venv/bin/python benchmarks/portal.py [--loops 10000] [--rounds 5] [--requests 100] [--answers 200]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from offline.aws import local_session
from offline.aws.a2i.loops import HumanLoops
from review.portal.workforce import Workforce, team_arn
from review.templates import task_template

FEATURES = [f"feature {i}" for i in range(30)]
LABEL = {"name": "diagnosis", "positive": {"value": 1, "name": "malignant"}, "negative": {"value": 0, "name": "benign"}}


def review_input(n: int, rng: random.Random) -> dict:
    p = rng.random()
    return {
        "endpoint": "breast-cancer",
        "eventId": f"event-{n}",
        "inferenceId": None,
        "inferenceTime": "2024-05-01T10:00:00Z",
        "rowIndex": 0,
        "reason": "review",
        "probability": round(p, 6),
        "predictedLabel": int(p > 0.5),
        "features": {name: round(rng.uniform(0, 30), 4) for name in FEATURES},
        "label": LABEL,
    }


def prepare(home: Path, loops: int) -> tuple[str, str, list[str]]:
    """A flow definition (TaskCount 1) on team default, `loops` open loops, a worker; returns (worker,
    secret, loop names)."""
    aws = local_session(home)
    aws.client("s3").create_bucket(Bucket="bench-portal")
    sm = aws.client("sagemaker")
    ui = sm.create_human_task_ui(HumanTaskUiName="bench-ui", UiTemplate={"Content": task_template()})
    flow = sm.create_flow_definition(
        FlowDefinitionName="bench-flow",
        RoleArn="arn:aws:iam::123456789012:role/bench",
        HumanLoopConfig={
            "WorkteamArn": team_arn("us-east-1", "default"),
            "HumanTaskUiArn": ui["HumanTaskUiArn"],
            "TaskCount": 1,
            "TaskTitle": "Review",
            "TaskDescription": "Benchmark",
        },
        OutputConfig={"S3OutputPath": "s3://bench-portal/out"},
    )["FlowDefinitionArn"]
    runtime, rng, names = HumanLoops.for_home(home), random.Random(7), []
    started = time.perf_counter()
    for n in range(loops):
        name = f"loop-{n:05d}"
        runtime.start(
            "us-east-1",
            {
                "HumanLoopName": name,
                "FlowDefinitionArn": flow,
                "HumanLoopInput": {"InputContent": json.dumps(review_input(n, rng))},
            },
        )
        names.append(name)
    print(f"started {loops} loops in {time.perf_counter() - started:.1f} s")
    secret = Workforce.for_home(home).add_worker("bench").secret
    return "bench", secret, names


def serve(home: Path) -> tuple[subprocess.Popen, str]:
    log = home / "serve.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "mlops"), "review", "serve", "--port", "0"],
            env={**os.environ, "MLOPS_HOME": str(home), "PYTHONUNBUFFERED": "1"},
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = re.search(r"http://127\.0\.0\.1:\d+", log.read_text())
        if found:
            return process, found.group(0)
        if process.poll() is not None:
            break
        time.sleep(0.1)
    process.kill()
    raise SystemExit(f"mlops review serve did not start: {log.read_text()[-1000:]}")


def signed_in(url: str, worker: str, secret: str) -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=url, follow_redirects=False, timeout=30)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    response = client.post("/login", data={"worker": worker, "secret": secret, "csrf_token": token})
    assert response.status_code == 303, response.text
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/tasks").text).group(1)
    return client, csrf


def cpu_ms(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def answer(client: httpx.Client, csrf: str, loop: str) -> None:
    content = {
        "label-positive": {"1": True},
        "label-negative": {"0": False},
        "agree": {"agree": True},
        "disagree": {"disagree": False},
        "reason": "",
    }
    response = client.post(f"/tasks/{loop}", data={"taskAnswers": json.dumps([content]), "csrf_token": csrf})
    assert response.status_code == 303, (response.status_code, response.text[:300])


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18] if len(values) >= 20 else max(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loops", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=100, help="queue pages and task pages per round, each")
    parser.add_argument("--answers", type=int, default=200, help="answers per round, sequential")
    parser.add_argument("--clients", type=int, default=4, help="clients answering at once in the last measurement")
    args = parser.parse_args()
    needed = args.rounds * (args.answers + args.requests) + args.answers + 100
    if args.loops < needed:
        raise SystemExit(f"--loops {args.loops} is too few for the answers asked: {needed} at least")
    with tempfile.TemporaryDirectory(prefix="bench-portal-") as tmp:
        home = Path(tmp) / "home"
        worker, secret, names = prepare(home, args.loops)
        process, url = serve(home)
        try:
            client, csrf = signed_in(url, worker, secret)
            rng = random.Random(11)
            open_loops = list(names)
            rng.shuffle(open_loops)
            for _ in range(20):  # warm-up: imports, caches, connections
                client.get(f"/tasks?page={rng.randint(1, 40)}")
                client.get(f"/tasks/{open_loops[-1]}")
            answer(client, csrf, open_loops.pop())
            rounds = []
            for _ in range(args.rounds):
                kinds: dict[str, list[float]] = {"queue page": [], "task page": [], "answer": []}
                before = cpu_ms(process.pid)
                started = time.perf_counter()
                for i in range(max(args.requests, args.answers)):
                    if i < args.requests:
                        kinds["queue page"].append(timed(lambda: client.get(f"/tasks?page={rng.randint(1, 40)}")))
                        loop = open_loops[rng.randrange(len(open_loops))]
                        kinds["task page"].append(timed(lambda loop=loop: client.get(f"/tasks/{loop}")))
                    if i < args.answers:
                        loop = open_loops.pop()
                        kinds["answer"].append(timed(lambda loop=loop: answer(client, csrf, loop)))
                wall = time.perf_counter() - started
                requests = sum(len(v) for v in kinds.values())
                rounds.append((kinds, (cpu_ms(process.pid) - before) / requests, wall))
            print(f"\n{args.loops} open loops, {args.rounds} rounds; ms per request (one client, keep-alive)")
            print(f"{'request':<12}{'p50 all':>9}{'p95 all':>9}{'p95 quiet':>11}{'p95 worst':>11}")
            for kind in ("queue page", "task page", "answer"):
                every = [v for kinds, _, _ in rounds for v in kinds[kind]]
                per_round = [p95(kinds[kind]) for kinds, _, _ in rounds]
                print(
                    f"{kind:<12}{statistics.median(every):>9.1f}{p95(every):>9.1f}{min(per_round):>11.1f}{max(per_round):>11.1f}"
                )
            rates = [len(kinds["answer"]) / (sum(kinds["answer"]) / 1000) for kinds, _, _ in rounds]
            print(f"answers/s, one client: median {statistics.median(rates):.0f} (best round {max(rates):.0f})")
            print(f"server CPU ms per request (all kinds): median {statistics.median(c for _, c, _ in rounds):.2f}")
            clients = [signed_in(url, worker, secret) for _ in range(args.clients)]
            share = [open_loops[i :: args.clients][: args.answers // args.clients] for i in range(args.clients)]
            errors: list[BaseException] = []

            def work(n: int) -> None:
                try:
                    for loop in share[n]:
                        answer(*clients[n], loop)
                except BaseException as e:  # reported below, after the threads end
                    errors.append(e)

            threads = [threading.Thread(target=work, args=(n,)) for n in range(args.clients)]
            started = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            if errors:
                raise errors[0]
            done = sum(len(s) for s in share)
            print(f"answers/s, {args.clients} clients at once: {done / (time.perf_counter() - started):.0f}")
        finally:
            process.terminate()
            process.wait(timeout=15)


if __name__ == "__main__":
    main()
