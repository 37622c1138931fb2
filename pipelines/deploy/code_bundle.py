"""A scheduled job's code as a FrameworkProcessor bundle, the kind the build pipeline's jobs run.

`sourcedir.tar.gz` holds the job's entry script at its root (`analyze.py` for the monitoring
analyzer, `start_human_loops.py` for the human-review post-processing job) and the `processing`
package beside it; `runproc.sh` (the SDK's framework entry script, text for text) unpacks it in
/opt/ml/processing/input/code/ and runs `python <entry script> "$@"` (the job's ContainerArguments).
Both are built byte for byte the same from the same sources, and their S3 keys hold a hash of their
bytes, so a deploy uploads only what changed and a schedule's job always runs the code the deploy shipped.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from pipelines.deploy.changes import UNCHANGED, UPLOADED, Change
from pipelines.deploy.errors import DeployFailed, DeployInputError, client_error_text, error_code
from pipelines.deploy.s3uri import join, parse_s3_uri

ANALYZER = "analyze.py"
STARTER = "start_human_loops.py"  # the human-loop starter (its command line: pipelines/deploy/review_schedule.py)
CODE_DIR = "/opt/ml/processing/input/code/"
ENTRYPOINT_DIR = "/opt/ml/processing/input/entrypoint"
CONTAINER_ENTRYPOINT = ["/bin/bash", f"{ENTRYPOINT_DIR}/runproc.sh"]

RUNPROC = """\
#!/bin/bash

cd /opt/ml/processing/input/code/
tar -xzf sourcedir.tar.gz

# Exit on any error. SageMaker uses error code to mark failed job.
set -e

if [[ -f 'requirements.txt' ]]; then
    # Optionally log into CodeArtifact
    if ! hash aws 2>/dev/null; then
        echo "AWS CLI is not installed. Skipping CodeArtifact login."
    else
        echo 'CodeArtifact repository not specified. Skipping login.'
    fi

    # Some py3 containers has typing, which may breaks pip install
    pip uninstall --yes typing

    python -m pip install -r requirements.txt
fi

python {entry_point} "$@"
"""


@dataclass(frozen=True)
class CodeBundle:
    sourcedir: bytes
    runproc: bytes

    def keys(self, prefix: str) -> dict[str, str]:
        """S3 URIs under prefix, each in a folder named by the SHA-256 of its bytes (as the SDK does)."""
        return {
            "sourcedir.tar.gz": join(prefix, hashlib.sha256(self.sourcedir).hexdigest(), "sourcedir.tar.gz"),
            "runproc.sh": join(prefix, hashlib.sha256(self.runproc).hexdigest(), "runproc.sh"),
        }


@dataclass(frozen=True)
class CodeLocation:
    sourcedir_uri: str
    runproc_uri: str


def analyzer_bundle() -> CodeBundle:
    """The bundle of processing/analyze.py and the processing package, from this checkout's sources."""
    return job_bundle(ANALYZER)


def starter_bundle() -> CodeBundle:
    """The bundle of processing/start_human_loops.py and the processing package."""
    return job_bundle(STARTER)


def job_bundle(entry_point: str) -> CodeBundle:
    """processing/<entry_point> at the bundle's root, the processing package beside it."""
    from pipelines.build.code_bundles import deterministic_tar

    package = processing_package()
    script = package / entry_point
    if not script.is_file():
        raise DeployInputError(
            f"processing/{entry_point} is not in this checkout, so the scheduled job that runs it cannot be "
            "shipped; update the checkout" + (", or deploy with --review none" if entry_point == STARTER else "")
        )
    files = {entry_point: script}
    files.update({f"processing/{p.relative_to(package).as_posix()}": p for p in package.rglob("*") if p.is_file()})
    return CodeBundle(sourcedir=deterministic_tar(files), runproc=RUNPROC.format(entry_point=entry_point).encode())


def processing_package() -> Path:
    """A clean, content-addressed copy of the `processing` package's sources (no caches)."""
    from pipelines.build.code_bundles import processing_bundle

    return processing_bundle() / "processing"


def upload_bundle(s3, bundle: CodeBundle, prefix: str) -> tuple[CodeLocation, list[Change]]:
    """Put the bundle under prefix unless an object with the same content-named key is there."""
    keys = bundle.keys(prefix)
    changes = []
    for name, body in (("sourcedir.tar.gz", bundle.sourcedir), ("runproc.sh", bundle.runproc)):
        bucket, key = parse_s3_uri(keys[name], "code location")
        if _exists(s3, bucket, key):
            changes.append(Change("Object", keys[name], UNCHANGED, "same content"))
            continue
        try:
            s3.put_object(Bucket=bucket, Key=key, Body=body)
        except Exception as e:
            if error_code(e):
                raise DeployFailed(f"cannot upload the analyzer code to {keys[name]}: {client_error_text(e)}") from None
            raise
        changes.append(Change("Object", keys[name], UPLOADED, f"{len(body)} bytes"))
    return CodeLocation(keys["sourcedir.tar.gz"], keys["runproc.sh"]), changes


def _exists(s3, bucket: str, key: str) -> bool:
    try:
        s3.head_object(Bucket=bucket, Key=key)
        return True
    except Exception as e:
        if error_code(e) in ("404", "NoSuchKey", "NotFound"):
            return False
        if error_code(e):
            raise DeployFailed(f"cannot check s3://{bucket}/{key}: {client_error_text(e)}") from None
        raise
