"""Job entry that behaves as AWS's Model Monitor analyzer image (`sagemaker-model-monitor-analyzer`).

It reads the same environment variables the prebuilt container reads (FORMATS.md §2.1) and writes
the same files, so a QualityCheck step or a monitoring schedule can run this instead:

    dataset_source, dataset_format ({"csv": {"header": false}}, {"json": {"lines": true}},
    {"parquet": {}}, {"sagemakerCaptureJson": {...}}), output_path, analysis_type (DATA_QUALITY |
    MODEL_QUALITY), problem_type, inference_attribute, probability_attribute,
    probability_threshold_attribute, ground_truth_attribute, positive_label, baseline_statistics,
    baseline_constraints, publish_cloudwatch_metrics, start_time, end_time,
    categorical_drift_method

Each can also be given as an option (`--dataset-source …`); options win over the environment, and
the container paths are the defaults. Without baseline files it suggests a baseline
(statistics.json + constraints.json in output_path); with baseline_constraints it checks the data
against them and writes constraint_violations.json too. The exit message goes to
/opt/ml/output/message as Model Monitor's does (`Completed: Job completed successfully with no
violations.` / `CompletedWithViolations: Job completed successfully with N violations.`); bad
input writes `Failed: <reason>` there and exits with code 2.

The logic lives in processing/monitoring; this file only maps the contract onto it. It runs on the
XGBoost image (Python 3.10, no numba) as well as locally.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the `processing` package beside it importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from processing.monitoring.job import JobConfig, run_job
from processing.monitoring.kernels import choose_for_inputs

SETTINGS = (
    ("dataset_source", "/opt/ml/processing/input/baseline_dataset_input"),
    ("dataset_format", '{"csv": {"header": true}}'),
    ("output_path", "/opt/ml/processing/output"),
    ("analysis_type", "DATA_QUALITY"),
    ("problem_type", "BinaryClassification"),
    ("inference_attribute", None),
    ("probability_attribute", None),
    ("probability_threshold_attribute", None),
    ("ground_truth_attribute", None),
    ("positive_label", None),
    ("baseline_statistics", None),
    ("baseline_constraints", None),
    ("publish_cloudwatch_metrics", "Disabled"),
    ("start_time", None),
    ("end_time", None),
    ("categorical_drift_method", None),
    ("ground_truth_source", "/opt/ml/processing/input/ground_truth"),
    ("message_file", "/opt/ml/output/message"),
    ("metrics_path", "/opt/ml/output/metrics/cloudwatch"),
    ("sagemaker_endpoint_name", None),
    ("sagemaker_monitoring_schedule_name", None),
    # A scheduled execution (processing/monitoring/scheduled.py): window from the scheduled hour.
    ("scheduled_time", None),
    ("start_time_offset", None),
    ("end_time_offset", None),
    ("staging_path", None),
)


def parse_settings(argv: Sequence[str] | None = None, environ: dict | None = None) -> dict[str, str | None]:
    """Options first, then the environment variable of the same name, then the container default."""
    environ = os.environ if environ is None else environ
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for name, _ in SETTINGS:
        parser.add_argument("--" + name.replace("_", "-"), dest=name, default=None)
    options = vars(parser.parse_args(argv))
    return {name: options[name] or environ.get(name) or default for name, default in SETTINGS}


def main(argv: Sequence[str] | None = None) -> int:
    settings = parse_settings(argv)
    choose_for_inputs(settings.get("dataset_source"))
    if settings["scheduled_time"]:
        from processing.monitoring.scheduled import run_scheduled

        return run_scheduled(settings)
    return run_job(JobConfig.from_settings(settings))


if __name__ == "__main__":
    sys.exit(main())
