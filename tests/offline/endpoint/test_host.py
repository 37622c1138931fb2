"""The host's lifecycle: readiness, a clean stop under load with every record kept, what a crash leaves."""

from __future__ import annotations

import http.client
import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from offline.endpoint import start_endpoint
from offline.endpoint.capture import iter_capture_files
from offline.endpoint.host import HostError, read_state
from offline.store import TMP_PREFIX

from .conftest import Client, capture_root, records_by_inference_id


class Burst:
    """Clients on their own keep-alive connections, each request tagged with a unique InferenceId.

    The client threads assert nothing themselves: an answer other than 200, or any error other than a
    connection failing, is recorded and re-raised by `join()`, so it fails the test.
    """

    def __init__(self, url: str, endpoint: str, row: str, clients: int = 8):
        self.url, self.path, self.row = url, f"/endpoints/{endpoint}/invocations", row
        self.answered: dict[str, float] = {}  # InferenceId -> when its 200 arrived
        self.unanswered: set[str] = set()  # sent, but the connection failed before an answer
        self.unexpected: list[str] = []  # answers other than 200
        self.errors: list[BaseException] = []  # what ended a client thread
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(clients)]

    def start(self) -> Burst:
        for thread in self.threads:
            thread.start()
        return self

    def __enter__(self) -> Burst:
        return self.start()

    def __exit__(self, *exc) -> None:
        """Whatever happened, no client thread outlives the test (join() is what reports their failures)."""
        self.stop.set()
        for thread in self.threads:
            thread.join(15)

    def answered_before(self, moment: float) -> set[str]:
        with self.lock:
            return {i for i, when in self.answered.items() if when < moment}

    def wait_for_answers(self, count: int, older_than: float = 0.0, timeout: float = 30.0) -> None:
        """Poll until `count` requests were answered at least `older_than` seconds ago."""
        deadline = time.monotonic() + timeout
        while len(self.answered_before(time.monotonic() - older_than)) < count:
            self.check()
            if time.monotonic() > deadline:
                pytest.fail(f"only {len(self.answered)} answers within {timeout:g} s (waiting for {count})")
            time.sleep(0.05)

    def join(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(15)
        assert not [t for t in self.threads if t.is_alive()], "a client thread did not finish"
        self.check()

    def check(self) -> None:
        """Raise what went wrong in a client thread, in the test's own thread."""
        if self.errors:
            raise AssertionError(f"a client thread failed: {self.errors[0]!r}") from self.errors[0]
        assert not self.unexpected, f"answers other than 200: {self.unexpected[:5]}"

    def _run(self, worker: int) -> None:
        try:
            self._send_until_stopped(worker)
        except BaseException as e:  # handed to the test's thread by check()
            self.errors.append(e)

    def _send_until_stopped(self, worker: int) -> None:
        client, number = None, 0
        while not self.stop.is_set():
            number += 1
            inference_id = f"burst-{worker}-{number}"
            try:
                client = client or Client(self.url, timeout=5)
                status, _, body = client.post(self.path, self.row, **{"X-Amzn-SageMaker-Inference-Id": inference_id})
            except (OSError, http.client.HTTPException):
                with self.lock:
                    self.unanswered.add(inference_id)
                client = None
                time.sleep(0.01)
                continue
            with self.lock:
                if status == 200:
                    self.answered[inference_id] = time.monotonic()
                else:
                    self.unexpected.append(f"{inference_id}: {status} {body[:200]!r}")


def test_sigterm_during_a_burst_keeps_a_record_for_every_answered_request(model_tar, tmp_path, rows):
    home = tmp_path / "home"
    with start_endpoint(model_data=model_tar, endpoint_name="burst", workers=2, home=home) as endpoint:
        assert read_state("burst", home)["url"] == endpoint.url
        with Burst(endpoint.url, "burst", rows[0]) as burst:
            burst.wait_for_answers(200)  # the burst is in full swing
            started = time.monotonic()
            summary = endpoint.stop()
            stop_seconds = time.monotonic() - started
            burst.join()
    assert endpoint.process.returncode == 0
    assert stop_seconds < 5, f"stopping took {stop_seconds:.1f} s"
    records = records_by_inference_id(capture_root(home, "burst"))
    answered = set(burst.answered)
    assert len(answered) >= 200
    assert answered <= set(records), f"{len(answered - set(records))} answered requests have no record"
    # A record without an answer can only be a request the client saw fail as the connections closed.
    assert set(records) - answered <= burst.unanswered
    assert summary["captured"] == len(records) and summary["answered_ok"] == len(records)
    assert read_state("burst", home) is None  # the state file goes with the host


def test_a_killed_host_leaves_only_whole_records_and_loses_at_most_the_last_second(model_tar, tmp_path, rows):
    home = tmp_path / "home"
    settle = 1.5  # the flush interval (1 s) and a margin: requests answered this long ago must be on disk
    endpoint = start_endpoint(model_data=model_tar, endpoint_name="crash", workers=2, home=home)
    with endpoint, Burst(endpoint.url, "crash", rows[0], clients=4) as burst:
        burst.wait_for_answers(50, older_than=settle)
        endpoint.kill()  # SIGKILL to the host and its workers at once: nothing is flushed on the way out
        killed = time.monotonic()
        endpoint.process.wait(10)
        burst.join()
    root = capture_root(home, "crash")
    for path in iter_capture_files(root):
        raw = path.read_bytes()
        assert raw.endswith(b"\n"), path
        for line in raw.splitlines():
            json.loads(line)  # every line of every file parses
    assert not [p for p in root.rglob("*.jsonl") if p.name.startswith(TMP_PREFIX)]
    records = records_by_inference_id(root)
    settled = burst.answered_before(killed - settle)
    assert len(settled) >= 50
    assert settled <= set(records), f"{len(settled - set(records))} requests older than a flush were lost"
    assert read_state("crash", home) is None  # a dead host's state file is ignored and removed


def test_startup_failure_is_reported_with_the_handlers_reason(tmp_path):
    import tarfile

    archive = tmp_path / "model.tar.gz"
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "inference.py").write_text(
        "def model_fn(model_dir):\n    raise ValueError('no model here')\n\n\n"
        "def transform_fn(model, data, content_type, accept):\n    return data\n"
    )
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(tmp_path / "code", arcname="code")
    with pytest.raises(HostError, match="model_fn failed: ValueError: no model here"):
        start_endpoint(model_data=archive, endpoint_name="broken", workers=1, home=tmp_path / "home")


def test_one_name_one_host(model_tar, host, host_home):
    with pytest.raises(HostError, match="already being served"):
        start_endpoint(model_data=model_tar, endpoint_name=host.name, workers=1, home=host_home)


def test_a_crashed_worker_is_replaced(model_tar, tmp_path, rows):
    home = tmp_path / "home"
    with start_endpoint(model_data=model_tar, endpoint_name="respawn", workers=1, home=home) as endpoint:
        client = Client(endpoint.url)
        assert client.post("/invocations", rows[0])[0] == 200
        (worker,) = Path(f"/proc/{endpoint.pid}/task/{endpoint.pid}/children").read_text().split()
        os.kill(int(worker), signal.SIGKILL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if Client(endpoint.url, timeout=2).post("/invocations", rows[0])[0] == 200:
                    break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("no worker answered after the crash")
    assert endpoint.summary["worker_restarts"] == 1


def test_a_port_in_use_fails_before_any_model_loads(model_tar, host, tmp_path):
    port = int(host.url.rsplit(":", 1)[1])
    started = time.monotonic()
    with pytest.raises(HostError, match=f"cannot listen on 127.0.0.1:{port}"):
        start_endpoint(model_data=model_tar, endpoint_name="second", port=port, workers=1, home=tmp_path)
    assert time.monotonic() - started < 10
