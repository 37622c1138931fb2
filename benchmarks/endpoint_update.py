"""How long the local endpoint lifecycle takes: CreateEndpoint → InService (capture on), and an UpdateEndpoint to
a new model version under steady traffic (requests failed, time to InService, time until the new model answers).

Everything goes through boto3 as a deploy workflow's calls would: `sagemaker` in-process (`local_session`),
`sagemaker-runtime` over HTTP through a `LocalAWSServer` (what `mlops local serve` is) with retries off, so
every failed request counts. Each round: CreateEndpoint and poll DescribeEndpoint (every 20 ms) until
InService; start 2 traffic threads; UpdateEndpoint to the other version and poll until InService; keep the
traffic 1 s more; DeleteEndpoint. One warm-up round, then `--rounds` rounds.

Wall seconds are printed beside CPU seconds: the host's and its workers' CPU (from /proc, read when the
endpoint turns InService) and this process's (the boto3 clients, the local services and the proxy; during
the update also the traffic threads and the HTTP server that carries it). The machine is shared
and its speed swings 2x: before each round a fixed CPU loop is timed, and rounds where it ran within 15 % of
its fastest are "quiet"; medians are printed for the quiet rounds beside all rounds.

    .venv/bin/python benchmarks/endpoint_update.py [--rounds 6] [--workers 1]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import tarfile
import tempfile
import threading
import time
from pathlib import Path

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from offline.aws import local_session
from offline.aws.constants import DUMMY_ACCESS_KEY_ID, DUMMY_SECRET_ACCESS_KEY
from offline.aws.server import LocalAWSServer
from offline.endpoint.hosts import HostRegistry
from offline.store import ObjectStore

REPO = Path(__file__).resolve().parents[1]
IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:3.0-5"
NO_RETRIES = Config(retries={"total_max_attempts": 1})
POLL = 0.02
QUIET = 1.15  # a round is quiet when the CPU loop took at most this multiple of its fastest time
CAPTURE = {
    "EnableCapture": True,
    "InitialSamplingPercentage": 100,
    "DestinationS3Uri": "s3://bench/datacapture",
    "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
    "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"], "JsonContentTypes": ["application/json"]},
}


def build_models(directory: Path) -> tuple[Path, Path, str]:
    """Two model.tar.gz versions (100 and 10 boosting rounds) on the breast-cancer data, and one request row."""
    import numpy as np
    import xgboost as xgb
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer()
    features, label = data.data, 1 - data.target  # 1 = malignant
    params = {"max_depth": 5, "eta": 0.2, "objective": "binary:logistic", "nthread": 1, "verbosity": 0}
    archives = []
    for rounds in (100, 10):
        booster = xgb.train(params, xgb.DMatrix(features, label=label), num_boost_round=rounds)
        raw = bytes(booster.save_raw(raw_format="ubj"))
        archive = directory / f"model-{rounds}.tar.gz"
        with tarfile.open(archive, "w:gz") as tar:
            info = tarfile.TarInfo("xgboost-model")
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))
            tar.add(REPO / "inference" / "inference.py", arcname="code/inference.py")
            tar.add(REPO / "processing" / "data_contract.json", arcname="code/data_contract.json")
        archives.append(archive)
    row = ",".join(repr(float(x)) for x in np.asarray(features[0]))
    return archives[0], archives[1], row


def cpu_loop() -> float:
    """Seconds a fixed CPU-bound loop takes now: the machine's speed this minute."""
    started = time.perf_counter()
    total = 0
    for i in range(3_000_000):
        total += i * i
    return time.perf_counter() - started


def host_cpu(pid: int) -> float:
    """CPU seconds of a host and its workers so far."""
    tick = os.sysconf("SC_CLK_TCK")
    pids = [pid]
    with contextlib.suppress(OSError):
        pids += [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    total = 0
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


class Traffic:
    def __init__(self, client, endpoint: str, row: str, threads: int = 2):
        self.client, self.endpoint, self.row = client, endpoint, row
        self.answers: list[tuple[float, float, bytes]] = []  # (sent, latency, body)
        self.failures: list[str] = []
        self.stop_event = threading.Event()
        self.threads = [threading.Thread(target=self.run, daemon=True) for _ in range(threads)]
        for thread in self.threads:
            thread.start()

    def run(self) -> None:
        while not self.stop_event.is_set():
            sent = time.monotonic()
            try:
                body = self.client.invoke_endpoint(EndpointName=self.endpoint, ContentType="text/csv", Body=self.row)[
                    "Body"
                ].read()
                self.answers.append((sent, time.monotonic() - sent, body))
            except (ClientError, BotoCoreError) as e:
                self.failures.append(repr(e))

    def stop(self) -> None:
        self.stop_event.set()
        for thread in self.threads:
            thread.join(30)


def wait_in_service(sm, name: str) -> tuple[float, dict]:
    started = time.monotonic()
    while True:
        described = sm.describe_endpoint(EndpointName=name)
        if described["EndpointStatus"] not in ("Creating", "Updating"):
            return time.monotonic() - started, described
        time.sleep(POLL)


def one_round(home: Path, sm, runtime, registry: HostRegistry, index: int, row: str, workers: int) -> dict:
    name = f"bench-{index}"
    first, second = ("v1", "v2") if index % 2 == 0 else ("v2", "v1")
    cpu_before = time.process_time()
    started = time.monotonic()
    sm.create_endpoint(EndpointName=name, EndpointConfigName=first)
    create_wall, described = wait_in_service(sm, name)
    assert described["EndpointStatus"] == "InService", described.get("FailureReason")
    create_host_cpu = host_cpu(registry.serving("us-east-1", name).pid)
    create_process_cpu = time.process_time() - cpu_before
    first_answer = runtime.invoke_endpoint(EndpointName=name, ContentType="text/csv", Body=row)["Body"].read()
    first_answer_wall = time.monotonic() - started

    traffic = Traffic(runtime, name, row)
    time.sleep(1.0)
    cpu_before = time.process_time()
    update_started = time.monotonic()
    sm.update_endpoint(EndpointName=name, EndpointConfigName=second)
    update_wall, described = wait_in_service(sm, name)
    new_host = registry.serving("us-east-1", name)
    update_host_cpu = host_cpu(new_host.pid)
    update_process_cpu = time.process_time() - cpu_before
    time.sleep(1.0)
    traffic.stop()
    assert described["EndpointConfigName"] == second, described
    new_answers = [sent for sent, _, body in traffic.answers if body != first_answer and sent >= update_started]
    before = [lat for sent, lat, _ in traffic.answers if sent < update_started]
    during = [lat for sent, lat, _ in traffic.answers if update_started <= sent < update_started + update_wall + 1]
    sm.delete_endpoint(EndpointName=name)
    while True:
        try:
            sm.describe_endpoint(EndpointName=name)
        except ClientError:
            break
        time.sleep(POLL)
    return {
        "create_wall": create_wall,
        "create_host_cpu": create_host_cpu,
        "create_process_cpu": create_process_cpu,
        "first_answer_wall": first_answer_wall,
        "update_wall": update_wall,
        "update_host_cpu": update_host_cpu,
        "update_process_cpu": update_process_cpu,
        "new_model_after": (min(new_answers) - update_started) if new_answers else float("nan"),
        "requests": len(traffic.answers) + len(traffic.failures),
        "failed": len(traffic.failures),
        "p50_before_ms": 1000 * statistics.median(before) if before else float("nan"),
        "p99_during_ms": 1000 * sorted(during)[int(0.99 * (len(during) - 1))] if during else float("nan"),
        "failures": traffic.failures[:3],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--workers", type=int, default=1, help="InitialInstanceCount (one worker per instance)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-endpoint-") as scratch:
        scratch = Path(scratch)
        v1, v2, row = build_models(scratch)
        home = scratch / "home"
        store = ObjectStore.for_home(home)
        store.create_bucket("bench")
        session = local_session(home)
        sm = session.client("sagemaker", config=NO_RETRIES)
        for version, archive in (("v1", v1), ("v2", v2)):
            store.put_file(f"s3://bench/{version}/model.tar.gz", archive)
            sm.create_model(
                ModelName=version,
                PrimaryContainer={"Image": IMAGE, "ModelDataUrl": f"s3://bench/{version}/model.tar.gz"},
            )
            variant = {
                "VariantName": "AllTraffic",
                "ModelName": version,
                "InstanceType": "ml.m5.large",
                "InitialInstanceCount": args.workers,
            }
            sm.create_endpoint_config(
                EndpointConfigName=version, ProductionVariants=[variant], DataCaptureConfig=CAPTURE
            )
        registry = HostRegistry.for_home(home)
        with LocalAWSServer(home) as server:
            runtime = boto3.Session(
                aws_access_key_id=DUMMY_ACCESS_KEY_ID,
                aws_secret_access_key=DUMMY_SECRET_ACCESS_KEY,
                region_name="us-east-1",
            ).client("sagemaker-runtime", endpoint_url=server.endpoint_url, config=NO_RETRIES)
            try:
                one_round(home, sm, runtime, registry, 0, row, args.workers)  # warm-up: page cache, imports
                results, speeds = [], []
                for index in range(1, args.rounds + 1):
                    speeds.append(cpu_loop())
                    results.append(one_round(home, sm, runtime, registry, index, row, args.workers))
                    print(f"round {index}: cpu loop {speeds[-1]:.3f} s, " + _brief(results[-1]), flush=True)
            finally:
                registry.stop(registry.live(), "benchmark done")
    fastest = min(speeds)
    quiet = [r for r, s in zip(results, speeds, strict=True) if s <= QUIET * fastest]
    print(f"\n{len(quiet)} quiet rounds of {len(results)}; medians (quiet | all):")
    for key, unit in (
        ("create_wall", "s"),
        ("create_host_cpu", "s"),
        ("create_process_cpu", "s"),
        ("first_answer_wall", "s"),
        ("update_wall", "s"),
        ("update_host_cpu", "s"),
        ("update_process_cpu", "s"),
        ("new_model_after", "s"),
        ("p50_before_ms", "ms"),
        ("p99_during_ms", "ms"),
        ("requests", ""),
    ):
        print(
            f"  {key:<20} {statistics.median(r[key] for r in quiet):8.3f} | {statistics.median(r[key] for r in results):8.3f} {unit}"
        )
    failed = sum(r["failed"] for r in results)
    print(f"  failed requests during updates: {failed} of {sum(r['requests'] for r in results)} (goal 0)")
    worst = max(r["create_wall"] for r in results)
    print(f"  CreateEndpoint -> InService: worst {worst:.2f} s (goal <= 3 s)")


def _brief(result: dict) -> str:
    return (
        f"create {result['create_wall']:.2f} s wall / {result['create_host_cpu']:.2f} s host CPU, "
        f"update {result['update_wall']:.2f} s wall / {result['update_host_cpu']:.2f} s host CPU, "
        f"new model answers after {result['new_model_after']:.2f} s, "
        f"{result['failed']} of {result['requests']} requests failed {result['failures'] or ''}"
    )


if __name__ == "__main__":
    main()
