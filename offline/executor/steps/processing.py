"""Processing steps as local subprocesses: inputs from the object store into the sandbox, the
container's entry point run with its paths remapped, outputs back to the store.

The entry point is the job's own (`ContainerEntrypoint` + `ContainerArguments`); for the SageMaker
Model Monitor analyzer image, which has no entry point in the request, this project's analyzer
runs instead with the same environment contract.
"""

from __future__ import annotations

import sys
from pathlib import Path

from offline.executor.context import ExecutionContext, StepFailed, StepStopped
from offline.executor.definition import Step
from offline.executor.sandbox import JobFailed, JobStopped, Sandbox

MODEL_MONITOR_IMAGE = "sagemaker-model-monitor-analyzer"
EXIT_MESSAGE = "/opt/ml/output/message"
MAX_EXIT_MESSAGE = 1024


def run_processing(ctx: ExecutionContext, step: Step, args: dict) -> dict:
    job_name = ctx.job_name(step.name)
    sandbox = ctx.sandbox(step.name)
    properties = describe(ctx, job_name, args)
    try:
        download_inputs(ctx, sandbox, args.get("ProcessingInputs", []))
        argv, cwd = command(sandbox, args.get("AppSpecification", {}))
        env = sandbox.environment({**ctx.job_env, **container_defaults(args), **args.get("Environment", {})})
        for output in _outputs(args):
            sandbox.local(output["S3Output"]["LocalPath"]).mkdir(parents=True, exist_ok=True)
        sandbox.run(argv, env, cwd=cwd, timeout=_max_runtime(args))
        upload_outputs(ctx, sandbox, _outputs(args))
    except (JobFailed, FileNotFoundError, ValueError) as e:
        failed = {"ProcessingJobStatus": "Failed", "FailureReason": str(e), "ExitMessage": exit_message(sandbox)}
        raise StepFailed(str(e), {**properties, **failed}) from e
    except JobStopped as e:
        raise StepStopped(str(e), {**properties, "ProcessingJobStatus": "Stopped"}) from e
    return {**properties, "ProcessingJobStatus": "Completed", "ExitMessage": exit_message(sandbox)}


def exit_message(sandbox: Sandbox) -> str:
    """What the container wrote to /opt/ml/output/message: its first KB is the job's ExitMessage (AWS docs,
    "Save and Access Metadata Information About Your Processing Job"); empty when it wrote none."""
    try:
        with open(sandbox.local(EXIT_MESSAGE), "rb") as f:
            return f.read(MAX_EXIT_MESSAGE).decode("utf-8", "replace")
    except (FileNotFoundError, NotADirectoryError):
        return ""


def describe(ctx: ExecutionContext, job_name: str, args: dict) -> dict:
    """DescribeProcessingJob's shape, which `Steps.<name>.<path>` reads."""
    return {
        **args,
        "ProcessingJobName": job_name,
        "ProcessingJobArn": ctx.job_arn("processing-job", job_name),
        "ProcessingJobStatus": "InProgress",
    }


def download_inputs(ctx: ExecutionContext, sandbox: Sandbox, inputs: list[dict]) -> None:
    for item in inputs:
        s3 = item.get("S3Input")
        if not s3:
            raise ValueError(f"input {item.get('InputName')}: only S3 inputs are supported locally")
        target = sandbox.local(s3["LocalPath"])
        target.mkdir(parents=True, exist_ok=True)
        if not ctx.store.download(s3["S3Uri"], target):
            # SageMaker fails a job whose S3 input matches no object; say so the same way.
            raise ValueError(
                f'ClientError: No S3 objects found under S3 URL "{s3["S3Uri"]}" given in input data source'
            )


def upload_outputs(ctx: ExecutionContext, sandbox: Sandbox, outputs: list[dict]) -> None:
    for item in outputs:
        s3 = item["S3Output"]
        source = sandbox.local(s3["LocalPath"])
        if source.is_dir():
            ctx.store.put_dir(s3["S3Uri"], source)


def command(sandbox: Sandbox, app: dict) -> tuple[list[str], Path | None]:
    """The job's command with container paths remapped; shell entry scripts rewritten in place."""
    image = app.get("ImageUri", "")
    if MODEL_MONITOR_IMAGE in image:
        return [sys.executable, "-m", "processing.analyze"], None
    entrypoint = list(app.get("ContainerEntrypoint") or [])
    if not entrypoint:
        raise ValueError(
            f"image {image} has no ContainerEntrypoint in the request; its default command is unknown locally"
        )
    argv = [sandbox.remap(str(part)) for part in entrypoint + list(app.get("ContainerArguments") or [])]
    for part in argv:
        path = Path(part)
        if path.suffix == ".sh" and path.is_file() and str(path).startswith(str(sandbox.root)):
            sandbox.rewrite_script(path)
    return argv, None


def container_defaults(args: dict) -> dict[str, str]:
    """Where the analyzer image writes its exit message and metrics: inside the sandbox, not /opt/ml."""
    if MODEL_MONITOR_IMAGE not in args.get("AppSpecification", {}).get("ImageUri", ""):
        return {}
    return {"message_file": "/opt/ml/output/message", "metrics_path": "/opt/ml/output/metrics/cloudwatch"}


def _outputs(args: dict) -> list[dict]:
    return list(args.get("ProcessingOutputConfig", {}).get("Outputs", []))


def _max_runtime(args: dict) -> float | None:
    seconds = args.get("StoppingCondition", {}).get("MaxRuntimeInSeconds")
    return float(seconds) if seconds else None
