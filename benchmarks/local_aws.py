"""Latency of the local AWS services per boto3 call, in-process and over HTTP (what `mlops local serve`
answers), next to moto's figures for the same calls in the same run: in-process (`mock_aws`) and over
HTTP (moto's threaded server, the peer of `mlops local serve`). moto keeps state in memory; ours is
durable (SQLite with synchronous=FULL, fsynced files).

Every call runs once to warm up, then `--rounds` rounds interleave the four targets call by call, so a
busy minute on this shared machine hits them all alike. Printed per call: the median over all rounds,
the quietest round's median, and CPU ms per call (this process: client and server threads both).

    .venv/bin/python benchmarks/local_aws.py [--packages 50] [--rounds 5] [--mib 20]
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import boto3

from offline.aws import local_session
from offline.aws.routing import router
from offline.aws.server import LocalAWSServer
from offline.aws.wire import Headers, Request

PACKAGE = {
    "InferenceSpecification": {
        "Containers": [{"Image": "img", "ModelDataUrl": "s3://b/model.tar.gz"}],
        "SupportedContentTypes": ["text/csv"],
        "SupportedResponseMIMETypes": ["text/csv"],
    },
    "ModelMetrics": {"ModelQuality": {"Statistics": {"ContentType": "application/json", "S3Uri": "s3://b/e.json"}}},
}


def calls(session: boto3.Session, packages: int, big_file: Path, endpoint_url: str | None = None) -> dict:
    """The calls to time, on clients of `session` (set up: a group with `packages` packages, a bucket)."""
    kwargs = {"endpoint_url": endpoint_url} if endpoint_url else {}
    sm, s3, sts = (session.client(name, **kwargs) for name in ("sagemaker", "s3", "sts"))
    sm.create_model_package_group(ModelPackageGroupName="bench")
    s3.create_bucket(Bucket="bench-bucket")
    first = sm.create_model_package(ModelPackageGroupName="bench", **PACKAGE)["ModelPackageArn"]
    for _ in range(packages - 1):
        sm.create_model_package(ModelPackageGroupName="bench", **PACKAGE)
    mib = big_file.stat().st_size >> 20
    return {
        "sts GetCallerIdentity": (sts.get_caller_identity, 20),
        "sagemaker CreateModelPackage": (lambda: sm.create_model_package(ModelPackageGroupName="bench", **PACKAGE), 10),
        "sagemaker DescribeModelPackage": (lambda: sm.describe_model_package(ModelPackageName=first), 20),
        f"sagemaker ListModelPackages ({packages}+, newest 10)": (
            lambda: sm.list_model_packages(ModelPackageGroupName="bench", SortOrder="Descending"),
            20,
        ),
        "sagemaker UpdateModelPackage": (
            lambda: sm.update_model_package(ModelPackageArn=first, ModelApprovalStatus="Approved"),
            20,
        ),
        "s3 PutObject 1 KiB": (lambda: s3.put_object(Bucket="bench-bucket", Key="k", Body=b"x" * 1024), 20),
        "s3 GetObject 1 KiB": (lambda: s3.get_object(Bucket="bench-bucket", Key="k")["Body"].read(), 20),
        f"s3 upload_file {mib} MiB": (lambda: s3.upload_file(str(big_file), "bench-bucket", "big"), 2),
        f"s3 download_file {mib} MiB": (lambda: s3.download_file("bench-bucket", "big", str(big_file) + ".out"), 2),
    }


def timed(func: Callable[[], object], repeat: int) -> tuple[float, float]:
    """(median wall ms per call, CPU ms per call)."""
    samples = []
    cpu = time.process_time()
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), (time.process_time() - cpu) * 1000 / repeat


def routing_cost(repeat: int = 20_000) -> dict[str, float]:
    """Microseconds per routing decision (the HTTP path only; the in-process hook knows the service)."""
    auth = "AWS4-HMAC-SHA256 Credential=k/20250101/us-east-1/{}/aws4_request, SignedHeaders=host, Signature=0"
    requests = {
        "s3 GET object": Request("GET", "http://h/bkt/a/b.csv", Headers({"Authorization": auth.format("s3")})),
        "sagemaker X-Amz-Target": Request(
            "POST",
            "http://h/",
            Headers({"Authorization": auth.format("sagemaker"), "X-Amz-Target": "SageMaker.DescribeModelPackage"}),
        ),
        "sts form": Request(
            "POST",
            "http://h/",
            Headers(
                {
                    "Authorization": auth.format("sts"),
                    "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
                }
            ),
            io.BytesIO(b"Action=GetCallerIdentity&Version=2011-06-15"),
        ),
    }
    table = router()
    out = {}
    for name, request in requests.items():
        scope = request.signing_scope()[1]
        start = time.perf_counter()
        for _ in range(repeat):
            table.route(request, scope)
        out[name] = (time.perf_counter() - start) * 1e6 / repeat
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packages", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--mib", type=int, default=20)
    args = parser.parse_args()
    from moto import mock_aws
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's server logs every request

    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "big.bin"
        big.write_bytes(os.urandom(args.mib << 20))
        plain = boto3.Session(aws_access_key_id="x", aws_secret_access_key="y", region_name="us-east-1")
        ours = LocalAWSServer(Path(tmp) / "b").start()
        moto_server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        moto_server.start()
        host, port = moto_server.get_host_and_port()
        targets = {
            "local in-process": calls(local_session(Path(tmp) / "a"), args.packages, big),
            "local HTTP (serve)": calls(plain, args.packages, big, ours.endpoint_url),
            "moto HTTP server": calls(plain, args.packages, big, f"http://{host}:{port}"),
        }
        # moto's in-process mock answers every client while it is active (its hook runs before ours), so it
        # is active only around its own calls; start(reset=False) and stop(remove_data=False) keep its state between them.
        mock = mock_aws()
        mock.start()
        moto_session = boto3.Session(aws_access_key_id="t", aws_secret_access_key="t", region_name="us-east-1")
        targets["moto in-process"] = calls(moto_session, args.packages, big)
        mock.stop(remove_data=False)
        results: dict[str, dict[str, list[tuple[float, float]]]] = {t: {} for t in targets}
        try:
            for name in targets["local in-process"]:
                for round_ in range(args.rounds + 1):  # round 0 warms up
                    for label, target in targets.items():
                        func, repeat = target[name]
                        if label == "moto in-process":
                            mock.start(reset=False)
                        try:
                            figure = timed(func, 1 if round_ == 0 else repeat)
                        finally:
                            if label == "moto in-process":
                                mock.stop(remove_data=False)
                        if round_:
                            results[label].setdefault(name, []).append(figure)
        finally:
            moto_server.stop()
            ours.stop()
    names = list(targets["local in-process"])
    width = max(len(n) for n in names) + 2
    print(f"median ms per call over {args.rounds} rounds (quietest round's median; CPU ms per call)")
    print(f"{'':<{width}}" + "".join(f"{label:>30}" for label in targets))
    for name in names:
        cells = []
        for label in targets:
            rounds = results[label][name]
            walls = [wall for wall, _ in rounds]
            cpu = statistics.median(c for _, c in rounds)
            cells.append(f"{statistics.median(walls):.2f} ({min(walls):.2f}; {cpu:.2f})")
        print(f"{name:<{width}}" + "".join(f"{c:>30}" for c in cells))
    print()
    for name, micros in routing_cost().items():
        print(f"routing decision, {name}: {micros:.1f} µs")


if __name__ == "__main__":
    main()
