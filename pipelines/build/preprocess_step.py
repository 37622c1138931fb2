"""Preprocess: raw CSV (+ reviewed rows) -> train / validation / test / traffic channels."""

from __future__ import annotations

from sagemaker.processing import ProcessingInput, ProcessingOutput
from sagemaker.workflow.steps import ProcessingStep

from pipelines.build.jobs import container_path, job_code, processor
from pipelines.build.parameters import BuildParameters
from pipelines.build.settings import PipelineSettings

STEP_NAME = "PreprocessData"
CHANNELS = ("train", "validation", "test", "traffic")


def preprocess_step(settings: PipelineSettings, params: BuildParameters, session, role: str) -> ProcessingStep:
    step_args = processor("preprocess", settings, params, session, role).run(
        **job_code("preprocess.py"),
        inputs=[
            ProcessingInput(input_name="data", source=params.input_data, destination=container_path("input", "data")),
            ProcessingInput(
                input_name="human-labels", source=params.human_labels, destination=container_path("input", "labels")
            ),
        ],
        outputs=[
            ProcessingOutput(output_name=name, source=container_path(name)) for name in CHANNELS
        ],
        arguments=[
            "--input-data", container_path("input", "data"),
            "--human-labels", container_path("input", "labels"),
            *[arg for name in CHANNELS for arg in (f"--{name}-dir", container_path(name))],
        ],
    )  # fmt: skip
    return ProcessingStep(name=STEP_NAME, step_args=step_args)


def channel_uri(step: ProcessingStep, channel: str):
    return step.properties.ProcessingOutputConfig.Outputs[channel].S3Output.S3Uri
