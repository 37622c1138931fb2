"""Data-quality and model-quality baselines, from one of two engines chosen at build time.

- `managed`: QualityCheck steps, which always run AWS's Model Monitor analyzer image (accounts
  that still have Model Monitor; AWS closed it to new customers).
- `processing`: Processing steps running this project's analyzer (`processing/quality_check.py`),
  which writes the same statistics.json / constraints.json and applies the same skip-check /
  register-new-baseline / supplied-baseline rules.

Either way the caller gets the four URIs ModelMetrics and DriftCheckBaselines need.
"""

from __future__ import annotations

from dataclasses import dataclass

from sagemaker.model_monitor import DatasetFormat
from sagemaker.processing import ProcessingInput, ProcessingOutput
from sagemaker.workflow.check_job_config import CheckJobConfig
from sagemaker.workflow.execution_variables import ExecutionVariables
from sagemaker.workflow.functions import Join
from sagemaker.workflow.quality_check_step import (
    DataQualityCheckConfig,
    ModelQualityCheckConfig,
    QualityCheckStep,
)
from sagemaker.workflow.steps import ProcessingStep

from pipelines.build.evaluate_step import dataset_uri
from pipelines.build.jobs import container_path, job_code, processor
from pipelines.build.parameters import BuildParameters
from pipelines.build.settings import PipelineSettings

DATA_QUALITY_STEP = "DataQualityBaseline"
MODEL_QUALITY_STEP = "ModelQualityBaseline"
# The model-quality dataset evaluate writes: probability, then label; header-less, so _c0, _c1.
PROBABILITY_ATTRIBUTE = "_c0"
GROUND_TRUTH_ATTRIBUTE = "_c1"
# SageMaker Processing returns this file's first KB as the job's ExitMessage, on success too (AWS docs,
# byoc-metadata): a check whose violations do not stop the build says so there.
EXIT_MESSAGE = "/opt/ml/output/message"


@dataclass(frozen=True)
class Baseline:
    step: object
    calculated_statistics: object
    calculated_constraints: object
    drift_check_statistics: object
    drift_check_constraints: object


def baseline_steps(settings, params, session, role, evaluate, decision_threshold: float) -> tuple[Baseline, Baseline]:
    build = _managed if settings.baseline_engine == "managed" else _processing
    return (
        build("data-quality", settings, params, session, role, evaluate, decision_threshold),
        build("model-quality", settings, params, session, role, evaluate, decision_threshold),
    )


def _switches(kind: str, params: BuildParameters) -> dict:
    if kind == "data-quality":
        return {
            "skip_check": params.skip_data_quality_check,
            "register_new_baseline": params.register_new_data_quality_baseline,
            "supplied_baseline_statistics": params.data_quality_supplied_statistics,
            "supplied_baseline_constraints": params.data_quality_supplied_constraints,
            "fail_on_violation": params.data_quality_fail_on_violation,
        }
    return {
        "skip_check": params.skip_model_quality_check,
        "register_new_baseline": params.register_new_model_quality_baseline,
        "supplied_baseline_statistics": params.model_quality_supplied_statistics,
        "supplied_baseline_constraints": params.model_quality_supplied_constraints,
        "fail_on_violation": params.model_quality_fail_on_violation,
    }


def _output_prefix(settings: PipelineSettings, session, kind: str):
    return Join(
        on="/",
        values=[
            "s3:/",
            session.default_bucket(),
            settings.base_job_prefix,
            ExecutionVariables.PIPELINE_EXECUTION_ID,
            f"{kind}-baseline",
        ],
    )


def _managed(kind, settings, params, session, role, evaluate, decision_threshold) -> Baseline:
    check_job = CheckJobConfig(
        role=role,
        instance_count=1,
        instance_type=params.baseline_instance_type,
        volume_size_in_gb=30,
        base_job_name=f"{settings.base_job_prefix}-{kind}-baseline",
        sagemaker_session=session,
        tags=settings.project_tags or None,
    )
    if kind == "data-quality":
        config = DataQualityCheckConfig(
            baseline_dataset=dataset_uri(evaluate, kind),
            dataset_format=DatasetFormat.csv(header=False),
            output_s3_uri=_output_prefix(settings, session, kind),
        )
    else:
        config = ModelQualityCheckConfig(
            baseline_dataset=dataset_uri(evaluate, kind),
            dataset_format=DatasetFormat.csv(header=False),
            output_s3_uri=_output_prefix(settings, session, kind),
            problem_type="BinaryClassification",
            probability_attribute=PROBABILITY_ATTRIBUTE,
            ground_truth_attribute=GROUND_TRUTH_ATTRIBUTE,
            probability_threshold_attribute=decision_threshold,
        )
    step = QualityCheckStep(
        name=DATA_QUALITY_STEP if kind == "data-quality" else MODEL_QUALITY_STEP,
        quality_check_config=config,
        check_job_config=check_job,
        model_package_group_name=settings.model_package_group_name,
        **_switches(kind, params),
    )
    props = step.properties
    return Baseline(
        step=step,
        calculated_statistics=props.CalculatedBaselineStatistics,
        calculated_constraints=props.CalculatedBaselineConstraints,
        drift_check_statistics=props.BaselineUsedForDriftCheckStatistics,
        drift_check_constraints=props.BaselineUsedForDriftCheckConstraints,
    )


def _processing(kind, settings, params, session, role, evaluate, decision_threshold) -> Baseline:
    switches = _switches(kind, params)
    outputs = {name: container_path("output", name) for name in ("calculated", "drift-check", "check")}
    dataset_dir = container_path("input", "baseline_dataset_input")
    arguments = [
        "--kind", kind,
        "--dataset", dataset_dir,
        "--dataset-format", '{"csv": {"header": false}}',
        "--skip-check", switches["skip_check"].to_string(),
        "--register-new-baseline", switches["register_new_baseline"].to_string(),
        "--fail-on-violation", switches["fail_on_violation"].to_string(),
        "--supplied-statistics", switches["supplied_baseline_statistics"],
        "--supplied-constraints", switches["supplied_baseline_constraints"],
        "--model-package-group", settings.model_package_group_name,
        "--calculated-dir", outputs["calculated"],
        "--drift-check-dir", outputs["drift-check"],
        "--check-dir", outputs["check"],
        "--message-file", EXIT_MESSAGE,
    ]  # fmt: skip
    if kind == "model-quality":
        arguments += [
            "--problem-type", "BinaryClassification",
            "--probability-attribute", PROBABILITY_ATTRIBUTE,
            "--ground-truth-attribute", GROUND_TRUTH_ATTRIBUTE,
            "--probability-threshold", str(decision_threshold),
        ]  # fmt: skip
    prefix = _output_prefix(settings, session, kind)
    step_args = processor(f"{kind}-baseline", settings, params, session, role, params.baseline_instance_type).run(
        **job_code("quality_check.py"),
        inputs=[ProcessingInput(input_name="dataset", source=dataset_uri(evaluate, kind), destination=dataset_dir)],
        outputs=[
            ProcessingOutput(output_name=name, source=path, destination=Join(on="/", values=[prefix, name]))
            for name, path in outputs.items()
        ],
        arguments=arguments,
    )
    step = ProcessingStep(name=DATA_QUALITY_STEP if kind == "data-quality" else MODEL_QUALITY_STEP, step_args=step_args)

    def file_uri(output: str, name: str):
        return Join(on="/", values=[step.properties.ProcessingOutputConfig.Outputs[output].S3Output.S3Uri, name])

    return Baseline(
        step=step,
        calculated_statistics=file_uri("calculated", "statistics.json"),
        calculated_constraints=file_uri("calculated", "constraints.json"),
        drift_check_statistics=file_uri("drift-check", "statistics.json"),
        drift_check_constraints=file_uri("drift-check", "constraints.json"),
    )
