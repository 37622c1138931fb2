"""The analyzer reads and writes local paths only, as a Processing container does.

SageMaker downloads a job's inputs to `/opt/ml/processing/…` and uploads its outputs from there;
the local runner and `mlops monitor` map `s3://` through the local object store before they call
this code, and the scheduled job (scheduled.py) stages its window from S3 itself. An `s3://` URI
that still reaches the job has no way to be read here: it is an error naming it, never a folder
guessed from the environment that would silently hold nothing.
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import MonitorInputError


def local_path(location: str | os.PathLike, what: str) -> Path:
    """The local path of a location the job reads or writes; `what` names it in the error."""
    text = os.fspath(location)
    if text.startswith("s3://"):
        raise MonitorInputError(
            f"{what} {text} is an S3 URI, and this job reads and writes local paths only: stage it "
            "locally first (SageMaker's ProcessingInputs do; `mlops monitor` maps s3:// through the local "
            "object store in $MLOPS_HOME)"
        )
    if "://" in text:
        raise MonitorInputError(f"{what} {text!r} has an unsupported URI scheme; give a local path")
    return Path(text)
