"""Evaluate: test metrics as a PropertyFile for the quality gate, plus the baseline datasets."""

from __future__ import annotations

from sagemaker.processing import ProcessingInput, ProcessingOutput
from sagemaker.workflow.functions import Join
from sagemaker.workflow.properties import PropertyFile
from sagemaker.workflow.steps import ProcessingStep

from pipelines.build.jobs import container_path, job_code, processor
from pipelines.build.parameters import BuildParameters
from pipelines.build.preprocess_step import channel_uri
from pipelines.build.settings import PipelineSettings

STEP_NAME = "EvaluateModel"
REPORT = PropertyFile(name="EvaluationReport", output_name="evaluation", path="evaluation.json")
AUC_PATH = "binary_classification_metrics.auc.value"
OUTPUTS = {
    "evaluation": container_path("evaluation"),
    "data-quality-dataset": container_path("baselines", "data-quality"),
    "model-quality-dataset": container_path("baselines", "model-quality"),
}


def evaluate_step(settings: PipelineSettings, params: BuildParameters, session, role: str, preprocess, train):
    step_args = processor("evaluate", settings, params, session, role).run(
        **job_code("evaluate.py"),
        inputs=[
            ProcessingInput(
                input_name="model",
                source=train.properties.ModelArtifacts.S3ModelArtifacts,
                destination=container_path("model"),
            ),
            *[
                ProcessingInput(input_name=name, source=channel_uri(preprocess, name), destination=container_path(name))
                for name in ("test", "train")
            ],
        ],
        outputs=[ProcessingOutput(output_name=name, source=path) for name, path in OUTPUTS.items()],
        arguments=[
            "--model", container_path("model"),
            "--test", container_path("test"),
            "--train", container_path("train"),
            "--evaluation-dir", OUTPUTS["evaluation"],
            "--data-quality-dir", OUTPUTS["data-quality-dataset"],
            "--model-quality-dir", OUTPUTS["model-quality-dataset"],
        ],
    )  # fmt: skip
    return ProcessingStep(name=STEP_NAME, step_args=step_args, property_files=[REPORT])


def output_uri(step: ProcessingStep, name: str):
    return step.properties.ProcessingOutputConfig.Outputs[name].S3Output.S3Uri


def evaluation_json_uri(step: ProcessingStep):
    return Join(on="/", values=[output_uri(step, "evaluation"), "evaluation.json"])


def dataset_uri(step: ProcessingStep, kind: str):
    return Join(on="/", values=[output_uri(step, f"{kind}-dataset"), "dataset.csv"])
