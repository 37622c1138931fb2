"""Human loops are durable and consistent: a crash or a failed write between output.json and the commit
never leaves a Completed loop without its output.json nor records half an answer; answers and starts racing
from several threads and processes neither lose nor duplicate anything."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from offline.aws import local_session
from offline.aws.a2i.errors import ConflictException
from offline.aws.a2i.loops import HumanLoops
from offline.aws.server import LocalAWSServer
from offline.state import StateDB
from tests.offline.aws.a2i_helpers import loop_input, make_flow


@pytest.fixture
def home(tmp_path):
    return tmp_path / "home"


@pytest.fixture
def flow(home):
    session = local_session(home)
    return make_flow(session.client("sagemaker"), session.client("s3"), task_count=2)


def _start(home, name: str, flow: str) -> None:
    local_session(home).client("sagemaker-a2i-runtime").start_human_loop(
        HumanLoopName=name, FlowDefinitionArn=flow, HumanLoopInput=loop_input(name=name)
    )


def _outputs(home) -> list:
    return sorted((home / "s3").rglob("output.json"))


def test_a_crash_after_writing_output_json_but_before_the_commit_loses_nothing_that_was_acknowledged(home, flow):
    _start(home, "crashy", flow)
    loops = HumanLoops.for_home(home)
    loops.answer("us-east-1", "crashy", "ana", {"n": 1})
    crash = textwrap.dedent(
        f"""
        import os
        from offline.store import ObjectStore
        from offline.aws.a2i.loops import HumanLoops
        real = ObjectStore.put_bytes
        def put_then_die(self, uri, data, **meta):
            real(self, uri, data, **meta)
            os._exit(3)  # the process dies between output.json and the commit
        ObjectStore.put_bytes = put_then_die
        HumanLoops.for_home({str(home)!r}).answer("us-east-1", "crashy", "ben", {{"n": 2}})
        """
    )
    result = subprocess.run([sys.executable, "-c", crash], cwd=os.getcwd(), capture_output=True, timeout=120)
    assert result.returncode == 3, result.stderr.decode()[-2000:]
    detail = loops.detail("us-east-1", "crashy")
    assert detail.info.status == "InProgress" and [a.worker_name for a in detail.answers] == ["ana"]
    done = loops.answer("us-east-1", "crashy", "ben", {"n": 2})  # answering again completes it
    assert done.status == "Completed"
    output = json.loads((home / "s3" / done.output_s3_uri[len("s3://") :]).read_bytes())
    assert [a["answerContent"] for a in output["humanAnswers"]] == [{"n": 1}, {"n": 2}]


def test_a_failed_output_write_records_no_answer(home, flow, monkeypatch):
    _start(home, "full-disk", flow)
    loops = HumanLoops.for_home(home)
    loops.answer("us-east-1", "full-disk", "ana", {"n": 1})

    def no_space(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(loops.store, "put_bytes", no_space)
    with pytest.raises(OSError, match="No space left"):
        loops.answer("us-east-1", "full-disk", "ben", {"n": 2})
    detail = loops.detail("us-east-1", "full-disk")
    assert detail.info.status == "InProgress" and len(detail.answers) == 1 and _outputs(home) == []


def test_a_commit_that_fails_after_output_json_was_written_removes_it(home, flow):
    _start(home, "no-commit", flow)
    loops = HumanLoops.for_home(home)
    loops.answer("us-east-1", "no-commit", "ana", {"n": 1})
    db = StateDB(home / "state.db")
    db.execute(
        "CREATE TRIGGER refuse_completion BEFORE UPDATE OF status ON a2i_human_loops WHEN NEW.status = 'Completed'"
        " BEGIN SELECT RAISE(ABORT, 'the disk went away'); END"
    )
    with pytest.raises(Exception, match="the disk went away"):
        loops.answer("us-east-1", "no-commit", "ben", {"n": 2})
    detail = loops.detail("us-east-1", "no-commit")
    assert detail.info.status == "InProgress" and len(detail.answers) == 1 and _outputs(home) == []
    db.execute("DROP TRIGGER refuse_completion")
    assert loops.answer("us-east-1", "no-commit", "ben", {"n": 2}).status == "Completed"
    assert len(_outputs(home)) == 1


def test_workers_racing_on_one_loop_give_exactly_task_count_answers(home, flow):
    _start(home, "race", flow)
    barrier = threading.Barrier(6)

    def answer(worker: str):
        barrier.wait()
        try:
            return HumanLoops.for_home(home).answer("us-east-1", "race", worker, {"by": worker}).status
        except ConflictException as e:
            return e.message

    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(answer, [f"w{i}" for i in range(6)]))
    assert sorted(r for r in results if r in ("InProgress", "Completed")) == ["Completed", "InProgress"]
    assert all("is Completed" in r for r in results if r not in ("InProgress", "Completed"))
    output = json.loads(_outputs(home)[0].read_bytes())
    assert len(output["humanAnswers"]) == 2 and len(_outputs(home)) == 1


def test_processes_starting_loops_at_once_over_http_lose_and_duplicate_nothing(home, flow):
    with LocalAWSServer(home) as server:
        script = textwrap.dedent(
            """
            import sys, boto3
            from botocore.config import Config
            url, flow, worker = sys.argv[1:4]
            a2i = boto3.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name="us-east-1").client(
                "sagemaker-a2i-runtime", endpoint_url=url, config=Config(retries={"max_attempts": 1}))
            for i in range(40):
                a2i.start_human_loop(HumanLoopName=f"p{worker}-{i}", FlowDefinitionArn=flow,
                                     HumanLoopInput={"InputContent": '{"i": %d}' % i})
                a2i.start_human_loop(HumanLoopName=f"shared-{i}", FlowDefinitionArn=flow,
                                     HumanLoopInput={"InputContent": '{"i": %d}' % i})
            """
        )
        procs = [
            subprocess.Popen([sys.executable, "-c", script, server.endpoint_url, flow, str(w)], stderr=subprocess.PIPE)
            for w in range(3)
        ]
        for proc in procs:
            _, err = proc.communicate(timeout=300)
            assert proc.returncode == 0, err.decode()[-2000:]
    names = [i.name for i in HumanLoops.for_home(home).loops()]
    assert len(names) == len(set(names)) == 3 * 40 + 40  # the shared names started once each
