"""The analyzer job: Model Monitor's container contract mapped onto this package's functions.

`JobConfig.from_settings` (job_config.py) reads the contract's settings (environment variables or
options, see processing/analyze.py); `run_job` runs a baseline or a check and writes the exit
message file. The check mode is checks/job.py, which needs only the config, not this module.
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path

from .api import suggest_baseline
from .checks.api import completion_message
from .checks.job import run_check
from .constraints import MonitoringConfig
from .errors import MonitorInputError
from .job_config import DATA_QUALITY, MODEL_QUALITY, JobConfig
from .model_quality import suggest_model_quality_baseline
from .outputs import write_text
from .readers import DatasetFormat

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2
__all__ = ["DATA_QUALITY", "EXIT_BAD_INPUT", "EXIT_FAILED", "EXIT_OK", "MODEL_QUALITY", "JobConfig", "run_job"]


def run_job(config: JobConfig) -> int:
    """Run the job; returns the process exit code (0 also when violations were found)."""
    try:
        message = _run(config)
    except MonitorInputError as e:
        _write_message(config, f"Failed: {e}")
        print(f"error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception as e:  # a bug: say so in the message file too, as a failed AWS job would
        _write_message(config, f"Failed: internal error ({type(e).__name__})")
        traceback.print_exc()
        return EXIT_FAILED
    _write_message(config, message)
    print(message)
    return EXIT_OK


def _run(config: JobConfig) -> str:
    if config.analysis_type not in (DATA_QUALITY, MODEL_QUALITY):
        raise MonitorInputError(
            f"analysis_type {config.analysis_type!r} is not supported; use DATA_QUALITY or MODEL_QUALITY"
        )
    if not config.dataset_source:
        raise MonitorInputError("dataset_source is not set")
    if not config.output_path:
        raise MonitorInputError("output_path is not set")
    if config.baseline_constraints:
        return run_check(config).message
    fmt = DatasetFormat.from_json(config.dataset_format)
    if config.analysis_type == MODEL_QUALITY:
        suggest_model_quality_baseline(
            config.dataset_source, fmt, config.output_path, config.model_quality_attributes()
        )
    else:
        method = config.categorical_drift_method or "LInfinity"
        suggest_baseline(
            config.dataset_source, fmt, config.output_path, MonitoringConfig(categorical_drift_method=method)
        )
    return completion_message(0)


def _write_message(config: JobConfig, message: str) -> None:
    if not config.message_file:
        return
    try:
        write_text(Path(config.message_file), message)
    except OSError as e:
        print(f"warning: cannot write the exit message to {config.message_file}: {e}", file=sys.stderr)
