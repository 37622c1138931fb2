"""Latency of the local AWS services per boto3 call, in-process and over HTTP, next to moto's in-process
figures for the same calls in the same run (moto keeps state in memory; ours is durable: SQLite + files).

    .venv/bin/python benchmarks/local_aws.py [--packages 50]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import boto3

from offline.aws import local_session
from offline.aws.server import LocalAWSServer

PACKAGE = {
    "InferenceSpecification": {
        "Containers": [{"Image": "img", "ModelDataUrl": "s3://b/model.tar.gz"}],
        "SupportedContentTypes": ["text/csv"],
        "SupportedResponseMIMETypes": ["text/csv"],
    },
    "ModelMetrics": {"ModelQuality": {"Statistics": {"ContentType": "application/json", "S3Uri": "s3://b/e.json"}}},
}


def timed(func: Callable[[], object], repeat: int) -> float:
    """Median milliseconds per call."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def scenario(session: boto3.Session, packages: int, big_file: Path, endpoint_url: str | None = None) -> dict:
    kwargs = {"endpoint_url": endpoint_url} if endpoint_url else {}
    sm, s3, sts = (session.client(name, **kwargs) for name in ("sagemaker", "s3", "sts"))
    sm.create_model_package_group(ModelPackageGroupName="bench")
    s3.create_bucket(Bucket="bench-bucket")
    first = sm.create_model_package(ModelPackageGroupName="bench", **PACKAGE)["ModelPackageArn"]
    figures = {
        "sts GetCallerIdentity": timed(sts.get_caller_identity, 20),
        "sagemaker CreateModelPackage": timed(
            lambda: sm.create_model_package(ModelPackageGroupName="bench", **PACKAGE), packages
        ),
        "sagemaker DescribeModelPackage": timed(lambda: sm.describe_model_package(ModelPackageName=first), 20),
        f"sagemaker ListModelPackages ({packages}, newest 10)": timed(
            lambda: sm.list_model_packages(ModelPackageGroupName="bench", SortOrder="Descending"), 20
        ),
        "sagemaker UpdateModelPackage": timed(
            lambda: sm.update_model_package(ModelPackageArn=first, ModelApprovalStatus="Approved"), 20
        ),
        "s3 PutObject 1 KiB": timed(lambda: s3.put_object(Bucket="bench-bucket", Key="k", Body=b"x" * 1024), 20),
        "s3 GetObject 1 KiB": timed(lambda: s3.get_object(Bucket="bench-bucket", Key="k")["Body"].read(), 20),
        f"s3 upload_file {big_file.stat().st_size >> 20} MiB": timed(
            lambda: s3.upload_file(str(big_file), "bench-bucket", "big"), 3
        ),
        f"s3 download_file {big_file.stat().st_size >> 20} MiB": timed(
            lambda: s3.download_file("bench-bucket", "big", str(big_file) + ".out"), 3
        ),
    }
    return figures


def moto_session():
    from moto import mock_aws

    mock = mock_aws()
    mock.start()
    return mock, boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packages", type=int, default=50)
    parser.add_argument("--mib", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "big.bin"
        big.write_bytes(os.urandom(args.mib << 20))
        columns = {"local in-process": scenario(local_session(Path(tmp) / "a"), args.packages, big)}
        with LocalAWSServer(Path(tmp) / "b") as server:
            plain = boto3.Session(aws_access_key_id="x", aws_secret_access_key="y", region_name="us-east-1")
            columns["local HTTP server"] = scenario(plain, args.packages, big, server.endpoint_url)
        mock, session = moto_session()
        try:
            columns["moto in-process (peer)"] = scenario(session, args.packages, big)
        finally:
            mock.stop()
    names = list(next(iter(columns.values())))
    width = max(len(n) for n in names) + 2
    print(f"{'median ms per call':<{width}}" + "".join(f"{c:>24}" for c in columns))
    for name in names:
        print(f"{name:<{width}}" + "".join(f"{columns[c][name]:>24.2f}" for c in columns))


if __name__ == "__main__":
    main()
