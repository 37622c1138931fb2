"""Training steps: channels from the object store into the sandbox, a local stand-in for the
training image, and `/opt/ml/model` packed into model.tar.gz where SageMaker puts it:
`<S3OutputPath>/<TrainingJobName>/output/model.tar.gz`.

Two images are emulated: the built-in XGBoost algorithm (`xgboost_algorithm`), and framework
"script mode" jobs that name a `sagemaker_program` in their hyperparameters — which is how the
SDK's repack step runs its `_repack_model.py` (`script_mode`).
"""

from __future__ import annotations

import tarfile
from pathlib import Path

from offline.executor.context import ExecutionContext, StepFailed, StepStopped
from offline.executor.definition import Step
from offline.executor.sandbox import JobFailed, JobStopped, Sandbox
from offline.executor.steps import script_mode, xgboost_algorithm

XGBOOST_IMAGE = "sagemaker-xgboost"


def run_training(ctx: ExecutionContext, step: Step, args: dict) -> dict:
    job_name = ctx.job_name(step.name)
    sandbox = ctx.sandbox(step.name)
    hyperparameters = {k: str(v) for k, v in args.get("HyperParameters", {}).items()}
    image = args.get("AlgorithmSpecification", {}).get("TrainingImage", "")
    output_path = args.get("OutputDataConfig", {}).get("S3OutputPath", "").rstrip("/")
    artifact = f"{output_path}/{job_name}/output/model.tar.gz"
    properties = {
        **args,
        "TrainingJobName": job_name,
        "TrainingJobArn": ctx.job_arn("training-job", job_name),
        "TrainingJobStatus": "InProgress",
        "ModelArtifacts": {"S3ModelArtifacts": artifact},
    }
    try:
        channels = download_channels(ctx, sandbox, args.get("InputDataConfig", []))
        if "sagemaker_program" in hyperparameters:
            script_mode.train(ctx, sandbox, hyperparameters, channels, _max_runtime(args))
            metrics = []
        elif XGBOOST_IMAGE in image:
            metrics = xgboost_algorithm.train(sandbox, hyperparameters, channels)
        else:
            raise ValueError(f"ClientError: training image {image!r} is not emulated locally")
        ctx.store.put_file(artifact, pack_model(sandbox))
    except (JobFailed, xgboost_algorithm.AlgorithmError, FileNotFoundError, ValueError) as e:
        raise StepFailed(str(e), {**properties, "TrainingJobStatus": "Failed", "FailureReason": str(e)}) from e
    except JobStopped as e:
        raise StepStopped(str(e), {**properties, "TrainingJobStatus": "Stopped"}) from e
    return {**properties, "TrainingJobStatus": "Completed", "FinalMetricDataList": metrics}


def download_channels(ctx: ExecutionContext, sandbox: Sandbox, config: list[dict]) -> dict[str, Path]:
    channels = {}
    for channel in config:
        name = channel["ChannelName"]
        source = channel.get("DataSource", {}).get("S3DataSource", {})
        target = sandbox.local(f"/opt/ml/input/data/{name}")
        target.mkdir(parents=True, exist_ok=True)
        if not ctx.store.download(source.get("S3Uri", ""), target):
            raise ValueError(f"ClientError: no S3 objects found under {source.get('S3Uri')!r} for channel {name}")
        channels[name] = target
    return channels


def pack_model(sandbox: Sandbox) -> Path:
    """Tar `/opt/ml/model` as SageMaker does: the model files at the archive's root."""
    model_dir = sandbox.local("/opt/ml/model")
    if not model_dir.is_dir() or not any(model_dir.iterdir()):
        raise ValueError("AlgorithmError: the job wrote nothing to /opt/ml/model")
    archive = sandbox.local("/opt/ml/output/model.tar.gz")
    archive.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "w:gz") as tar:
        for path in sorted(model_dir.rglob("*")):
            tar.add(path, arcname=path.relative_to(model_dir).as_posix(), recursive=False)
    return archive


def _max_runtime(args: dict) -> float | None:
    seconds = args.get("StoppingCondition", {}).get("MaxRuntimeInSeconds")
    return float(seconds) if seconds else None
