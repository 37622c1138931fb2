"""Keep what the SageMaker and Step Functions SDKs print out of this project's output.

The SDK prints `sagemaker.config INFO` lines on import (to stdout, so `get-pipeline-definition | jq`
broke), a v2-deprecation banner, `Uploaded None to s3://...` lines (one of its modules calls
`logging.basicConfig(level=INFO)` on import) and a UserWarning per PipelineSession step; importing
`stepfunctions` sets the *root* logger to ERROR, silencing everyone's logs. `quiet_sdk()` is called
by every entry point that creates sessions (the CLIs, `pipeline_session`), before the SDK is
imported; `import_stepfunctions()` imports the Step Functions SDK and restores the root level.
Code that imports this project as a library keeps its own logging untouched.
"""

from __future__ import annotations

import logging
import os
import warnings
from types import ModuleType

# The SDK's loggers keep WARNING and above: real problems still show.
_SDK_LOGGERS = (
    "sagemaker",
    "sagemaker.config",
    "sagemaker.telemetry",
    "sagemaker.deprecations",
    "sagemaker.image_uris",
    "sagemaker.workflow.utilities",  # "Popping out 'TrainingJobName'...": the service sets job names
    "sagemaker.workflow._utils",
    "stepfunctions",
)
_ERROR_ONLY = _SDK_LOGGERS[1:-1]  # expected notes (pipeline variables, popped job names), not problems
_done = False


def quiet_sdk() -> None:
    """Silence the SDKs' chatter in this process (idempotent; call before importing sagemaker)."""
    global _done
    if _done:
        return
    os.environ.setdefault("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
    root = logging.getLogger()
    if not root.handlers:
        # Ours first, so the SDK's import-time basicConfig(level=INFO) is a no-op.
        logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for name in _SDK_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR if name in _ERROR_ONLY else logging.WARNING)
    warnings.filterwarnings("ignore", message="Running within a PipelineSession")
    warnings.filterwarnings("ignore", message=".*SDK v2, which is on path of deprecation")
    warnings.filterwarnings("ignore", category=DeprecationWarning, module="sagemaker")
    warnings.filterwarnings("ignore", message="pkg_resources is deprecated as an API")  # stepfunctions' import
    _done = True


def import_stepfunctions() -> ModuleType:
    """`import stepfunctions` without its side effect on the root logger's level."""
    root = logging.getLogger()
    level = root.level
    import stepfunctions

    root.setLevel(level)
    logging.getLogger("stepfunctions").setLevel(logging.WARNING)
    return stepfunctions
