"""`mlops local serve` as a user runs it: a real subprocess on a free port, unmodified boto3 clients that
know only AWS_ENDPOINT_URL, other mlops processes writing the same home meanwhile, and a clean stop."""

from __future__ import annotations

import http.client
import json
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from click.testing import CliRunner

from offline.aws import local_session
from pipelines.cli import main

GROUP = "ServeGroup"


class Serve:
    """A running `mlops local serve --port 0`, its URL parsed from what it prints."""

    def __init__(self, home: Path, *args: str):
        mlops = shutil.which("mlops", path=str(Path(sys.executable).parent))
        command = [mlops] if mlops else [sys.executable, "-c", "from pipelines.cli import main; main()"]
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(MLOPS_HOME=str(home), PYTHONUNBUFFERED="1")
        self.home = home
        self.process = subprocess.Popen(
            [*command, "local", "serve", "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.output = self.until(r"http://127\.0\.0\.1:\d+")
        self.url = re.search(r"http://127\.0\.0\.1:\d+", self.output).group(0)
        self.output += self.until(r"stops it")

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.put(line)
        self.lines.put("")

    def until(self, pattern: str, timeout: float = 60) -> str:
        seen = ""
        deadline = time.monotonic() + timeout
        while not re.search(pattern, seen):
            try:
                line = self.lines.get(timeout=max(deadline - time.monotonic(), 0.01))
            except queue.Empty:
                raise AssertionError(f"no {pattern!r} within {timeout} s; output: {seen!r}") from None
            if line == "":
                raise AssertionError(f"exited ({self.process.wait()}) before printing {pattern!r}: {seen!r}")
            seen += line
        return seen

    def stop(self, sig: int = signal.SIGTERM) -> tuple[int, str]:
        self.process.send_signal(sig)
        code = self.process.wait(timeout=30)
        rest = []
        while (line := self.lines.get(timeout=10)) != "":
            rest.append(line)
        return code, "".join(rest)

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])


@pytest.fixture
def serve(tmp_path):
    running = Serve(tmp_path / "home")
    yield running
    if running.process.poll() is None:
        running.process.kill()
        running.process.wait()


@pytest.fixture
def aws_env(serve, monkeypatch, tmp_path):
    """What a user exports: the one URL, dummy keys and a region; nothing else about AWS."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    exports = dict(re.findall(r"^export (\w+)=(\S+)$", serve.output, re.MULTILINE))
    assert set(exports) == {"AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION"}
    assert exports["AWS_ENDPOINT_URL"] == serve.url
    for name, value in exports.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    return exports


def client(name: str):
    return boto3.Session().client(name, config=Config(retries={"max_attempts": 1}))


def test_prints_its_url_and_what_to_export(serve):
    assert (
        f"Serving s3, sagemaker, sagemaker-a2i-runtime, sagemaker-runtime, scheduler, stepfunctions, sts on {serve.url} "
        f"(MLOPS_HOME={serve.home})" in serve.output
    )
    assert f"export AWS_ENDPOINT_URL={serve.url}\n" in serve.output


def test_boto3_with_only_aws_endpoint_url_reaches_every_service(serve, aws_env):
    s3 = client("s3")
    s3.create_bucket(Bucket="sagemaker")  # a bucket named like another service
    keys = ["human-loops/l-1", "endpoints/e/invocations", "2015-03-31/functions", "?Action=GetCallerIdentity"]
    for key in keys:
        s3.put_object(Bucket="sagemaker", Key=key, Body=key.encode())
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket="sagemaker")["Contents"]]
    assert sorted(listed) == sorted(keys)
    assert s3.get_object(Bucket="sagemaker", Key="human-loops/l-1")["Body"].read() == b"human-loops/l-1"
    assert (
        serve.home / "s3" / "sagemaker" / "endpoints" / "e" / "invocations"
    ).read_bytes() == b"endpoints/e/invocations"

    sm = client("sagemaker")
    sm.create_model_package_group(ModelPackageGroupName=GROUP)
    arn = sm.create_model_package(ModelPackageGroupName=GROUP, ModelApprovalStatus="Approved", **_inference())[
        "ModelPackageArn"
    ]
    groups = sm.list_model_package_groups()["ModelPackageGroupSummaryList"]
    assert [g["ModelPackageGroupName"] for g in groups] == [GROUP]
    assert sm.describe_model_package(ModelPackageName=arn)["ModelApprovalStatus"] == "Approved"
    assert client("sts").get_caller_identity()["Account"] == "123456789012"


def _inference() -> dict:
    image = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:3.0-5"
    return {
        "InferenceSpecification": {
            "Containers": [{"Image": image, "ModelDataUrl": "s3://bkt/model.tar.gz"}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        }
    }


def test_unknown_services_and_unsigned_requests_get_a_clear_error(serve, aws_env):
    with pytest.raises(ClientError) as e:
        client("dynamodb").list_tables()
    assert e.value.response["Error"] == {
        "Code": "NotImplemented",
        "Message": "ListTables (dynamodb) is not implemented by the local runtime",
    }
    conn = http.client.HTTPConnection("127.0.0.1", serve.port, timeout=10)
    conn.request("POST", "/", body=b'{"MaxResults": 1}', headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    error = json.loads(response.read())
    assert (response.status, error["__type"]) == (403, "MissingAuthenticationToken")
    assert error["Message"].startswith("POST / is not signed, so the local server cannot tell which service")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_it_cleanly(serve, sig):
    idle = http.client.HTTPConnection("127.0.0.1", serve.port, timeout=10)
    idle.request("GET", "/")  # unsigned ListBuckets: S3 answers anonymous requests
    assert idle.getresponse().read().startswith(b"<?xml")
    code, rest = serve.stop(sig)  # the idle keep-alive connection does not hold the stop
    assert code == 0
    assert "Stopped." in rest and "Traceback" not in serve.output + rest
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", serve.port), timeout=2)
    assert _processes_with_home(serve.home) == []


def _processes_with_home(home: Path) -> list[int]:
    """Processes (of this user) whose environment names this MLOPS_HOME."""
    found = []
    needle = f"MLOPS_HOME={home}".encode()
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def test_serves_the_home_other_commands_write_meanwhile(serve, aws_env):
    """Another process writes objects and registry rows while the server runs; both see each other's."""
    script = """
import json, sys
from offline.aws import local_session
from offline.store import ObjectStore
home, group, inference = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
ObjectStore.for_home(home).put_bytes("s3://shared/from-store.txt", b"written by the object store")
sm = local_session(home).client("sagemaker")
sm.create_model_package_group(ModelPackageGroupName=group)
print(sm.create_model_package(ModelPackageGroupName=group, **inference)["ModelPackageArn"])
print(ObjectStore.for_home(home).get_bytes("s3://shared/from-server.txt").decode())
"""
    s3, sm = client("s3"), client("sagemaker")
    s3.create_bucket(Bucket="shared")
    s3.put_object(Bucket="shared", Key="from-server.txt", Body=b"written through the server")
    env = {**os.environ, "MLOPS_HOME": str(serve.home)}
    out = subprocess.run(
        [sys.executable, "-c", script, str(serve.home), GROUP, json.dumps(_inference())],
        env=env,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    arn, seen = out.stdout.split("\n")[:2]
    assert seen == "written through the server"
    assert s3.get_object(Bucket="shared", Key="from-store.txt")["Body"].read() == b"written by the object store"
    assert sm.describe_model_package(ModelPackageName=arn)["ModelApprovalStatus"] == "PendingManualApproval"

    approve = subprocess.run(
        [sys.executable, "-c", "from pipelines.cli import main; main()", "registry", "approve", arn],
        env=env,
        capture_output=True,
        text=True,
    )
    assert approve.returncode == 0, approve.stderr
    assert sm.describe_model_package(ModelPackageName=arn)["ModelApprovalStatus"] == "Approved"
    assert local_session(serve.home).client("sagemaker").describe_model_package(ModelPackageName=arn)


def test_many_clients_at_once_while_another_process_writes(serve, aws_env):
    s3 = client("s3")
    s3.create_bucket(Bucket="busy")
    writer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys\nfrom offline.store import ObjectStore\nstore = ObjectStore.for_home(sys.argv[1])\n"
            "for i in range(200): store.put_bytes(f's3://busy/store/{i}', str(i).encode())",
            str(serve.home),
        ]
    )
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            c = client("s3")
            for i in range(20):
                c.put_object(Bucket="busy", Key=f"server/{n}/{i}", Body=b"x" * i)
                assert c.get_object(Bucket="busy", Key=f"server/{n}/{i}")["Body"].read() == b"x" * i
        except BaseException as e:  # re-raised by the main thread below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert writer.wait(60) == 0
    if errors:
        raise errors[0]
    keys = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket="busy") for o in page["Contents"]]
    assert len([k for k in keys if k.startswith("store/")]) == 200
    assert len([k for k in keys if k.startswith("server/")]) == 80


# -- bad options: exit 2 with a message, nothing served -------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--port", "-1"], "Invalid value for '--port': -1 is not in the range 0<=x<=65535"),
        (["--port", "70000"], "Invalid value for '--port': 70000 is not in the range 0<=x<=65535"),
        (["--port", "http"], "Invalid value for '--port': 'http' is not a valid integer"),
        (["--host", "not-an-address"], "Invalid value for '--host': 'not-an-address' is not an IP address"),
        (["--host", "256.1.1.1"], "'256.1.1.1' is not an IP address"),
        (["--host", "192.0.2.1"], "192.0.2.1 is not an address of this machine"),
    ],
)
def test_bad_options_exit_2(tmp_path, monkeypatch, args, message):
    monkeypatch.setenv("MLOPS_HOME", str(tmp_path / "home"))
    result = CliRunner().invoke(main, ["local", "serve", *args])
    assert result.exit_code == 2, result.output
    assert message in result.output


def test_a_port_in_use_exits_2(tmp_path, monkeypatch):
    monkeypatch.setenv("MLOPS_HOME", str(tmp_path / "home"))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(main, ["local", "serve", "--port", str(port)])
    assert result.exit_code == 2
    assert f"port {port} is in use on 127.0.0.1; choose another, or --port 0 for a free one" in result.output


def test_end_children_ends_what_the_process_started(tmp_path):
    script = """
import json, subprocess, sys
from offline.aws.serve import end_children
sleepers = [subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]) for _ in range(2)]
stubborn = subprocess.Popen([sys.executable, "-c", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print(1, flush=True); time.sleep(60)"], stdout=subprocess.PIPE)
stubborn.stdout.readline()  # its SIGTERM handler is in place
ended = end_children(timeout=1)
print(json.dumps({"ended": sorted(ended), "started": sorted(p.pid for p in [*sleepers, stubborn])}))
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["ended"] == result["started"]
    for pid in result["started"]:
        assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split(")")[1][:3]
