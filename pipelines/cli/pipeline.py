"""`mlops pipeline run|list|describe|stop|retry`: the build pipeline's definition, executed on this machine.

The process running `run` (or `retry`) is the execution's runner: Ctrl-C or SIGTERM stops the
execution as StopPipelineExecution does (its jobs end, it reads Stopped), and `stop` asks the same
from another shell. An execution whose runner died reads Failed, and `retry` runs it again.
"""

from __future__ import annotations

import contextlib
import gc
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import click

from pipelines.cli import exit_codes


@click.group("pipeline")
def group() -> None:
    """Run the build pipeline's definition locally and inspect executions."""


@group.command("run")
@click.option("--local", "local", is_flag=True, help="Run on this machine (the only target of this command).")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE", help="Override a pipeline parameter.")
@click.option(
    "--definition",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A definition JSON file (e.g. from get-pipeline-definition or DescribePipeline) instead of building one.",
)
@click.option("--module-name", "-n", default="pipelines.build.pipeline", show_default=True, help="Pipeline module.")
@click.option("--kwargs", "kwargs_text", default=None, help="JSON object of get_pipeline keyword arguments.")
@click.option("--name", default=None, help="Pipeline name to record (default: the pipeline's own).")
@click.option("--json", "as_json", is_flag=True, help="Print the finished execution as JSON.")
def run(local, params, definition, module_name, kwargs_text, name, as_json) -> None:
    """Execute the pipeline definition JSON locally; exits 0 only when the execution Succeeded.

    Ctrl-C (or SIGTERM) stops the execution: its jobs end and it reads Stopped; a second Ctrl-C ends
    them without grace.
    """
    if not local:
        raise click.UsageError("only --local runs here; run-pipeline creates and runs the pipeline on AWS")
    overrides = _parse_params(params)
    from offline.executor.definition import DefinitionError, load_definition
    from offline.executor.engine import PipelineExecution
    from offline.executor.progress import LiveProgress
    from offline.executor.stop_request import StopRequest

    # A Ctrl-C while the definition is built stops the execution as soon as it exists (a second one aborts).
    with StopRequest() as stop_request:
        try:
            if definition is not None:
                raw, pipeline_name = load_definition(definition), name or definition.stem
            else:
                with _long_lived_objects():
                    raw, pipeline_name = _build(module_name, kwargs_text)
                pipeline_name = name or pipeline_name
            progress = LiveProgress(f"pipeline {pipeline_name}")
            execution = PipelineExecution(raw, pipeline_name, overrides, listener=progress, stop_request=stop_request)
        except (DefinitionError, ValueError) as e:
            raise click.UsageError(str(e)) from None
        _execute(execution, progress, as_json)


@group.command("retry")
@click.argument("execution")
@click.option("--json", "as_json", is_flag=True, help="Print the finished execution as JSON.")
def retry(execution, as_json) -> None:
    """Run a Failed or Stopped EXECUTION again, as RetryPipelineExecution does.

    Same id and ARN, same definition and parameters; its succeeded steps are kept, the others run.
    Exits 0 only when the execution Succeeded.
    """
    from offline.executor.definition import DefinitionError
    from offline.executor.engine import PipelineExecution
    from offline.executor.executions import ExecutionStateError
    from offline.executor.progress import LiveProgress
    from offline.executor.stop_request import StopRequest

    with StopRequest() as stop_request:
        try:
            progress = LiveProgress(f"retry of {execution}")
            runner = PipelineExecution.retry(execution, listener=progress, stop_request=stop_request)
        except LookupError as e:
            raise click.BadParameter(str(e), param_hint="EXECUTION") from None
        except (ExecutionStateError, DefinitionError) as e:
            raise click.UsageError(str(e)) from None
        _execute(runner, progress, as_json)


@group.command("stop")
@click.argument("execution")
@click.option("--wait/--no-wait", default=True, show_default=True, help="Wait until the execution has stopped.")
@click.option("--timeout", default=60.0, show_default=True, type=click.FloatRange(0), help="Seconds to wait.")
def stop(execution, wait, timeout) -> None:
    """Stop an Executing EXECUTION, as StopPipelineExecution does: its runner ends the jobs.

    The execution reads Stopping, then Stopped. Exits 0 once it is Stopped (at once with --no-wait).
    """
    from offline.executor.executions import ACTIVE, ExecutionStateError

    store = _store()
    try:
        record = store.request_stop(execution)
    except LookupError as e:
        raise click.BadParameter(str(e), param_hint="EXECUTION") from None
    except ExecutionStateError as e:
        raise click.UsageError(str(e)) from None
    click.echo(f"execution {record.execution_id}: {record.status}")
    if not wait:
        return
    deadline = time.monotonic() + timeout
    while record.status in ACTIVE and time.monotonic() < deadline:
        time.sleep(0.2)
        record = store.get(record.execution_id)
    click.echo(f"execution {record.execution_id}: {record.status}" + _reason(record))
    sys.exit(exit_codes.SUCCESS if record.status == "Stopped" else exit_codes.FAILURE)


@group.command("list")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000))
@click.option("--json", "as_json", is_flag=True)
def list_executions(limit, as_json) -> None:
    """Local executions, newest first."""
    store = _store()
    records = store.list(limit)
    if as_json:
        click.echo(json.dumps([_as_dict(r, None) for r in records], indent=2, default=str))
        return
    if not records:
        click.echo("no executions yet: run `mlops pipeline run --local`")
        return
    click.echo(f"{'EXECUTION':<14}{'PIPELINE':<24}{'STATUS':<11}{'STARTED':<26}FAILURE")
    for r in records:
        click.echo(
            f"{r.execution_id:<14}{r.pipeline_name[:23]:<24}{r.status:<11}{r.created_at:<26}{r.failure_reason or ''}"
        )


@group.command("describe")
@click.argument("execution")
@click.option("--json", "as_json", is_flag=True)
def describe(execution, as_json) -> None:
    """One execution (its id, a unique id prefix or its ARN) with its steps."""
    store = _store()
    try:
        record = store.get(execution)
    except LookupError as e:
        raise click.BadParameter(str(e), param_hint="EXECUTION") from None
    steps = store.steps(record.execution_id)
    if as_json:
        click.echo(json.dumps(_as_dict(record, steps), indent=2, default=str))
    else:
        _summary(record, steps)


@contextlib.contextmanager
def _long_lived_objects() -> Iterator[None]:
    """No garbage collection while the SageMaker SDK loads and builds the definition, then freeze it all.

    The SDK's import allocates about a million objects that live as long as the process; the
    collector scanned them over and over (1.2 s of CPU per build) and once more at exit (1 s).
    Frozen objects are never scanned again; what the execution allocates later is collected as usual.
    """
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()


def _execute(execution, progress, as_json: bool) -> None:
    """Run (or retry) in this process, print the outcome and exit: 0 Succeeded, 128 + N when stopped by
    signal N (as a shell reports it), 1 otherwise."""
    from offline.executor.executions import ExecutionStateError

    try:
        with progress:
            record = execution.run()
    except ExecutionStateError as e:  # a retry another process started first
        raise click.UsageError(str(e)) from None
    steps = execution.executions.steps(record.execution_id)
    if as_json:
        click.echo(json.dumps(_as_dict(record, steps), indent=2, default=str))
    else:
        _summary(record, steps)
    signum = execution.stop_request.signum
    if record.status == "Succeeded":
        sys.exit(exit_codes.SUCCESS)
    sys.exit(128 + signum if record.status == "Stopped" and signum else exit_codes.FAILURE)


def _reason(record) -> str:
    return f": {record.failure_reason}" if record.failure_reason else ""


def _build(module_name: str, kwargs_text: str | None):
    from offline.executor.definition import load_definition
    from pipelines._utils import CliError, get_pipeline_driver, parse_struct

    try:
        kwargs = {"target": "local", **parse_struct(kwargs_text, "--kwargs", dict)}
    except CliError as e:
        raise click.UsageError(str(e)) from None
    if kwargs["target"] != "local":
        raise click.UsageError("--kwargs target must be 'local' for a local run")
    pipeline = get_pipeline_driver(module_name, kwargs)
    return load_definition(pipeline.definition()), pipeline.name


def _parse_params(params: tuple[str, ...]) -> dict[str, str]:
    overrides = {}
    for item in params:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r} is not NAME=VALUE", param_hint="--param")
        overrides[key.strip()] = value
    return overrides


def _store():
    from offline.executor.executions import ExecutionStore
    from offline.state import StateDB

    return ExecutionStore(StateDB.for_home())


def _summary(record, steps) -> None:
    click.echo(f"execution {record.execution_id} ({record.pipeline_name}): {record.status}")
    click.echo(f"  arn: {record.execution_arn}")
    if record.failure_reason:
        click.echo(f"  failure: {record.failure_reason}")
    for step in steps:
        line = f"  {step['step_name']:<34}{step['step_type']:<15}{step['status']:<10}"
        if step["attempt_count"] > 1:
            line += f" (attempt {step['attempt_count']})"
        if step["failure_reason"]:
            line += f" {step['failure_reason']}"
        click.echo(line.rstrip())
        arn = step["metadata"].get("ModelPackageArn")
        if arn:
            click.echo(f"    registered {arn}")
        # A quality check whose violations did not stop the build (FailOnViolation false) records them.
        message = step["metadata"].get("ExitMessage") or ""
        if message.startswith("CompletedWithViolations"):
            click.echo(f"    {message}")
        if step["metadata"].get("ViolationReport"):
            click.echo(f"    violation report {step['metadata']['ViolationReport']}")


def _as_dict(record, steps) -> dict:
    out = {
        "PipelineExecutionArn": record.execution_arn,
        "PipelineExecutionId": record.execution_id,
        "PipelineName": record.pipeline_name,
        "PipelineExecutionStatus": record.status,
        "FailureReason": record.failure_reason,
        "CreationTime": record.created_at,
        "LastModifiedTime": record.last_modified_at,
        "EndTime": record.ended_at,
        "Parameters": record.parameters,
    }
    if steps is not None:
        out["Steps"] = [
            {
                "StepName": s["step_name"],
                "StepType": s["step_type"],
                "StepStatus": s["status"],
                "StartTime": s["started_at"],
                "EndTime": s["ended_at"],
                "FailureReason": s["failure_reason"],
                "AttemptCount": s["attempt_count"],
                "Metadata": s["metadata"],
                "LogPath": s["log_path"],
            }
            for s in steps
        ]
    return out
