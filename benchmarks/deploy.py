"""How long the deploy workflow takes offline: approval → an InService endpoint answering with capture on, and
an update to a new version under steady traffic (failed requests counted; retries off).

Each round sets a fresh model package group up for deployment (`offline.deploy.local.set_up`, what `mlops deploy
--local` does), then approves a package with UpdateModelPackage over boto3 (in-process, so the trigger starts
the execution here, as `mlops local serve` would) and measures, from that call:
  - execution: when ListExecutions shows it (the runner is a new process);
  - staging answers: the first InvokeEndpoint the staging endpoint answers (polled every 20 ms through
    sagemaker-runtime) — the endpoint InService, whatever the workflow's own 1 s polling sees;
  - gate: when the execution waits at the production gate (answered at once, as `mlops deploy --local` does);
  - production answers, and the execution SUCCEEDED (monitoring schedules set up).
Then a second version is approved while 2 threads call both endpoints without pause: every failed request is
counted (goal 0), with the same timings for the update. One warm-up round, then `--rounds` rounds; a fixed CPU
loop timed before each round marks the quiet ones (within 15 % of the fastest); medians for quiet | all rounds.
CPU seconds: the runner's (read at the gate and at the end from /proc) and this process's.

    .venv/bin/python benchmarks/deploy.py [--rounds 4]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from endpoint_update import NO_RETRIES, QUIET, Traffic, build_models, cpu_loop

from offline.aws import local_session
from offline.defaults import LOCAL_BUCKET
from offline.store import ObjectStore

IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:3.0-5"
POLL = 0.02


def register(home: Path, group: str, tag: str, archive: Path) -> str:
    store = ObjectStore.for_home(home)
    uri = f"s3://{LOCAL_BUCKET}/bench/{group}/{tag}/model.tar.gz"
    store.put_file(uri, archive)
    baselines = {}
    for key, path in (("ModelDataQuality", "dq"), ("ModelQuality", "mq")):
        parts = {}
        for part in ("Statistics", "Constraints") if key == "ModelDataQuality" else ("Constraints",):
            target = f"s3://{LOCAL_BUCKET}/bench/{group}/{tag}/{path}-{part.lower()}.json"
            store.put_bytes(target, b"{}")
            parts[part] = {"ContentType": "application/json", "S3Uri": target}
        baselines[key] = parts
    return (
        local_session(home)
        .client("sagemaker")
        .create_model_package(
            ModelPackageGroupName=group,
            ModelApprovalStatus="PendingManualApproval",
            InferenceSpecification={
                "Containers": [{"Image": IMAGE, "ModelDataUrl": uri}],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            },
            DriftCheckBaselines=baselines,
        )["ModelPackageArn"]
    )


def runner_cpu(home: Path, arn: str) -> float:
    from offline.aws.states.backend import StepFunctionsBackend

    execution = StepFunctionsBackend.for_home(home).store.execution(arn)
    try:
        fields = Path(f"/proc/{execution.runner_pid}/stat").read_text().rpartition(")")[2].split()
    except (OSError, TypeError):
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def deploy_version(home: Path, settings, package: str, row: str, runtime) -> dict:
    """Approve `package` and follow its execution; seconds from the approval."""
    from offline.aws.states.backend import StepFunctionsBackend
    from offline.deploy.local import GATE_POLL

    sm, sfn = local_session(home).client("sagemaker"), local_session(home).client("stepfunctions")
    backend = StepFunctionsBackend.for_home(home)
    before = {e["executionArn"] for e in sfn.list_executions(stateMachineArn=settings.state_machine_arn)["executions"]}
    cpu = time.process_time()
    started = time.monotonic()
    sm.update_model_package(ModelPackageArn=package, ModelApprovalStatus="Approved")
    marks, arn, gate_cpu = {}, None, float("nan")
    while "succeeded" not in marks:
        now = time.monotonic() - started
        if arn is None:
            fresh = [e for e in sfn.list_executions(stateMachineArn=settings.state_machine_arn)["executions"]
                     if e["executionArn"] not in before]  # fmt: skip
            if fresh:
                arn, marks["execution"] = fresh[0]["executionArn"], now
        if arn and "staging" not in marks and _serves(sm, runtime, settings.staging, package, row):
            marks["staging"] = now
        if arn and "gate" not in marks:
            gates = [t for t in backend.pending_tasks(arn) if t.state_name == "Approve production"]
            if gates:
                marks["gate"], gate_cpu = now, runner_cpu(home, arn)
                backend.send_task_success(gates[0].token, json.dumps({"approvedBy": "benchmark"}))
        if "gate" in marks and "production" not in marks and _serves(sm, runtime, settings.production, package, row):
            marks["production"] = now
        if arn and backend.describe_execution(arn)["status"] != "RUNNING":
            described = backend.describe_execution(arn)
            if described["status"] != "SUCCEEDED":
                raise RuntimeError(f"{arn}: {described['status']} {described.get('error')}: {described.get('cause')}")
            marks["succeeded"] = time.monotonic() - started
        if now > 300:
            raise RuntimeError(f"the deploy did not end in 300 s: {marks}")
        time.sleep(POLL if "staging" not in marks or "production" not in marks else GATE_POLL)
    marks["runner_cpu_at_gate"], marks["process_cpu"] = gate_cpu, time.process_time() - cpu
    return marks


def _serves(sm, runtime, endpoint: str, package: str, row: str) -> bool:
    """The endpoint answers, from the configuration of this package (not an older one still serving)."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        described = sm.describe_endpoint(EndpointName=endpoint)
        if described["EndpointStatus"] != "InService":
            return False
        config = sm.describe_endpoint_config(EndpointConfigName=described["EndpointConfigName"])
        model = sm.describe_model(ModelName=config["ProductionVariants"][0]["ModelName"])
        if (model.get("PrimaryContainer") or model["Containers"][0]).get("ModelPackageName") != package:
            return False
        return bool(runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=row)["Body"].read())
    except (ClientError, BotoCoreError):
        return False


def one_round(home: Path, index: int, v1: Path, v2: Path, row: str) -> dict:
    from offline.deploy.local import local_settings, set_up

    group = f"bench{index}"
    local_session(home).client("sagemaker").create_model_package_group(ModelPackageGroupName=group)
    settings = local_settings(group, review=False)
    set_up(settings, home)
    runtime = local_session(home).client("sagemaker-runtime", config=NO_RETRIES)
    first = deploy_version(home, settings, register(home, group, "v1", v1), row, runtime)
    traffic = Traffic(runtime, settings.staging, row, threads=1)
    traffic_prod = Traffic(runtime, settings.production, row, threads=1)
    try:
        second = deploy_version(home, settings, register(home, group, "v2", v2), row, runtime)
    finally:
        traffic.stop()
        traffic_prod.stop()
    sm = local_session(home).client("sagemaker")
    for endpoint in (settings.staging, settings.production):
        sm.delete_endpoint(EndpointName=endpoint)
    answered = len(traffic.answers) + len(traffic_prod.answers)
    return {
        **{f"create_{k}": v for k, v in first.items()},
        **{f"update_{k}": v for k, v in second.items()},
        "requests": answered + len(traffic.failures) + len(traffic_prod.failures),
        "failed": len(traffic.failures) + len(traffic_prod.failures),
        "failures": (traffic.failures + traffic_prod.failures)[:3],
    }


def main() -> None:
    from offline.endpoint.hosts import HostRegistry

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-deploy-") as scratch:
        scratch = Path(scratch)
        v1, v2, row = build_models(scratch)
        home = scratch / "home"
        os.environ["MLOPS_HOME"] = str(home)
        ObjectStore.for_home(home).create_bucket(LOCAL_BUCKET)
        registry = HostRegistry.for_home(home)
        try:
            one_round(home, 0, v1, v2, row)  # warm-up: page cache, imports
            results, speeds = [], []
            for index in range(1, args.rounds + 1):
                speeds.append(cpu_loop())
                results.append(one_round(home, index, v1, v2, row))
                r = results[-1]
                print(
                    f"round {index}: cpu loop {speeds[-1]:.3f} s; approval -> staging answers {r['create_staging']:.2f} s, "
                    f"production {r['create_production']:.2f} s, SUCCEEDED {r['create_succeeded']:.2f} s; update: staging "
                    f"{r['update_staging']:.2f} s, production {r['update_production']:.2f} s; "
                    f"{r['failed']} of {r['requests']} requests failed {r['failures'] or ''}",
                    flush=True,
                )
        finally:
            registry.stop(registry.live(), "benchmark done")
            with contextlib.suppress(Exception):
                _stop_runners(home)
    fastest = min(speeds)
    quiet = [r for r, s in zip(results, speeds, strict=True) if s <= QUIET * fastest]
    print(f"\n{len(quiet)} quiet rounds of {len(results)}; medians (quiet | all), seconds from the approval:")
    for key in (
        "create_execution", "create_staging", "create_gate", "create_production", "create_succeeded",
        "create_runner_cpu_at_gate", "create_process_cpu",
        "update_execution", "update_staging", "update_gate", "update_production", "update_succeeded",
        "update_runner_cpu_at_gate", "update_process_cpu", "requests",
    ):  # fmt: skip
        print(
            f"  {key:<28} {statistics.median(r[key] for r in quiet):8.3f} | {statistics.median(r[key] for r in results):8.3f}"
        )
    print(
        f"  failed requests during updates: {sum(r['failed'] for r in results)} of {sum(r['requests'] for r in results)} (goal 0)"
    )
    worst = max(r["create_staging"] for r in results)
    print(f"  approval -> staging endpoint answering: worst {worst:.2f} s (goal <= 3 s)")


def _stop_runners(home: Path) -> None:
    from offline.aws.states.backend import StepFunctionsBackend

    backend = StepFunctionsBackend.for_home(home)
    for row in backend.store.db.query("SELECT arn FROM sfn_executions WHERE status = 'RUNNING'"):
        backend.stop_execution({"executionArn": row["arn"], "cause": "benchmark done"})


if __name__ == "__main__":
    main()
