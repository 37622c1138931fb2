"""Framework "script mode" training, as the SageMaker training toolkit runs it.

The job's hyperparameters name the program (`sagemaker_program`) and its code bundle
(`sagemaker_submit_directory`, a sourcedir.tar.gz in S3). The bundle is unpacked into
`/opt/ml/code`; the program runs with `SM_HP_<NAME>` variables and `--name value` arguments for
the other hyperparameters (JSON-decoded, as the toolkit does), like `_repack_model.py` expects.

The code folder stays exactly as uploaded (the repack copies it into model.tar.gz); the program
runs from a shadow copy whose container paths point into the sandbox.
"""

from __future__ import annotations

import json
import shutil
import tarfile
from pathlib import Path

from offline.executor.context import ExecutionContext
from offline.executor.sandbox import CONTAINER_ROOT, Sandbox

TEXT_SUFFIXES = (".py", ".sh")


def train(
    ctx: ExecutionContext, sandbox: Sandbox, hyperparameters: dict[str, str], channels: dict[str, Path], timeout
) -> None:
    values = {key: _decode(value) for key, value in hyperparameters.items()}
    program = str(values["sagemaker_program"])
    code_dir = sandbox.local("/opt/ml/code")
    _unpack(ctx, str(values.get("sagemaker_submit_directory", "")), code_dir)
    if not (code_dir / program).is_file():
        raise ValueError(f"AlgorithmError: the code bundle has no {program}")
    sandbox.local("/opt/ml/model").mkdir(parents=True, exist_ok=True)
    shadow = _shadow_copy(sandbox, code_dir)

    user = {k: v for k, v in values.items() if not k.startswith("sagemaker_")}
    env = {f"SM_HP_{key.upper()}": _text(value) for key, value in user.items()}
    env.update({f"SM_CHANNEL_{name.upper()}": f"/opt/ml/input/data/{name}" for name in channels})
    env.update(
        SM_MODEL_DIR="/opt/ml/model",
        SM_OUTPUT_DATA_DIR="/opt/ml/output/data",
        SM_HPS=json.dumps(user),
        SM_CHANNELS=json.dumps(sorted(channels)),
        SM_MODULE_DIR=str(values.get("sagemaker_submit_directory", "")),
        SM_USER_ENTRY_POINT=program,
    )
    args = [part for key, value in user.items() for part in (f"--{key}", _text(value))]
    argv = ["/bin/sh" if program.endswith(".sh") else "python", program, *args]
    sandbox.run(argv, sandbox.environment({**ctx.job_env, **env}), cwd=shadow, timeout=timeout)


def _unpack(ctx: ExecutionContext, bundle_uri: str, code_dir: Path) -> None:
    if not bundle_uri.startswith("s3://"):
        raise ValueError(
            f"ClientError: sagemaker_submit_directory must be an s3:// sourcedir.tar.gz, not {bundle_uri!r}"
        )
    archive = code_dir.parent / "sourcedir.tar.gz"
    archive.parent.mkdir(parents=True, exist_ok=True)
    ctx.store.download(bundle_uri, archive)
    code_dir.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "r:gz") as tar:
        tar.extractall(code_dir, filter="data")
    archive.unlink()


def _shadow_copy(sandbox: Sandbox, code_dir: Path) -> Path:
    shadow = sandbox.root / ".program"
    shutil.copytree(code_dir, shadow)
    for path in shadow.rglob("*"):
        if path.is_file() and path.suffix in TEXT_SUFFIXES and CONTAINER_ROOT in path.read_text(errors="ignore"):
            sandbox.rewrite_script(path)
    return shadow


def _decode(value: str):
    try:
        return json.loads(value)
    except (json.JSONDecodeError, TypeError):
        return value


def _text(value) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value)
