"""The model-build pipeline, as AWS's SageMaker Projects templates shape it: `get_pipeline(**kwargs)`.

    PreprocessData -> TrainModel -> EvaluateModel -> DataQualityBaseline ┐
                                                  -> ModelQualityBaseline ┴> CheckAucEvaluation
                                                        ├ AUC >= AucThreshold: RegisterModel (repack + register)
                                                        └ otherwise:           AucBelowThreshold (Fail)

`get-pipeline-definition` and `run-pipeline` drive it by module name (`-n pipelines.build.pipeline`).
"""

from __future__ import annotations

import hashlib

from sagemaker.workflow.pipeline import Pipeline
from sagemaker.workflow.pipeline_definition_config import PipelineDefinitionConfig

from offline.defaults import LOCAL_ROLE_ARN
from pipelines.build.baseline_steps import baseline_steps
from pipelines.build.evaluate_step import evaluate_step
from pipelines.build.parameters import build_parameters
from pipelines.build.preprocess_step import preprocess_step
from pipelines.build.register_steps import gate_step
from pipelines.build.settings import PipelineSettings, human_labels_uri, parse_settings
from pipelines.build.train_step import train_step
from processing.contract import load_contract

HUMAN_LABELS_README = (
    "Reviewed rows land here (label first, then the features, no header) and are added to the\n"
    "training split of the next build. This file keeps the prefix non-empty: SageMaker Processing\n"
    "fails on an input prefix that holds no object.\n"
)


def get_pipeline(sagemaker_session=None, **kwargs) -> Pipeline:
    """Build the pipeline. kwargs: see `PipelineSettings` (AWS's template names plus this template's)."""
    settings = parse_settings(kwargs)
    session = sagemaker_session or _session(settings)
    role = settings.role or (LOCAL_ROLE_ARN if settings.target == "local" else _execution_role(session))
    contract = load_contract()

    params = build_parameters(
        settings, _default_input_data(settings, session, contract), _human_labels_prefix(settings, session)
    )
    preprocess = preprocess_step(settings, params, session, role)
    train = train_step(settings, params, session, role, preprocess)
    evaluate = evaluate_step(settings, params, session, role, preprocess, train)
    data_quality, model_quality = baseline_steps(settings, params, session, role, evaluate, contract.decision_threshold)
    gate = gate_step(settings, params, session, role, train, evaluate, data_quality, model_quality)

    return Pipeline(
        name=settings.pipeline_name,
        parameters=params.as_list(),
        steps=[preprocess, train, evaluate, data_quality.step, model_quality.step, gate],
        sagemaker_session=session,
        pipeline_definition_config=PipelineDefinitionConfig(use_custom_job_prefix=False),
    )


def get_pipeline_custom_tags(new_tags: list[dict], region: str, sagemaker_project_arn: str | None = None) -> list:
    """Add the SageMaker project's own tags to the pipeline's (AWS's template hook, called by run-pipeline)."""
    if not sagemaker_project_arn:
        return new_tags
    import boto3

    response = boto3.client("sagemaker", region_name=region).list_tags(ResourceArn=sagemaker_project_arn)
    known = {t["Key"] for t in new_tags}
    return new_tags + [t for t in response.get("Tags", []) if t["Key"] not in known]


def _session(settings: PipelineSettings):
    from pipelines.sessions import pipeline_session

    return pipeline_session(settings.target, region=settings.region, default_bucket=settings.default_bucket)


def _execution_role(session) -> str:
    from sagemaker import get_execution_role

    return get_execution_role(session)


def _default_input_data(settings: PipelineSettings, session, contract) -> str:
    """InputDataUrl's default: `input_data_url` when given, else the contract's built-in dataset
    uploaded as a CSV; a contract with no built-in source defaults to the documented input prefix
    `s3://<bucket>/<pipeline>/data/input/`, so `--param InputDataUrl=...` at run time is enough (a run
    that overrides nothing and finds nothing there fails in PreprocessData, naming the prefix)."""
    from sagemaker.s3 import S3Uploader

    from processing.preprocess import BUILTIN_SOURCES, load_raw

    if settings.input_data_url:
        return settings.input_data_url
    if contract.source not in BUILTIN_SOURCES:
        return f"s3://{session.default_bucket()}/{settings.pipeline_name}/data/input/"
    body = load_raw(contract, None).to_csv(index=False)
    digest = hashlib.sha256(body.encode()).hexdigest()[:16]
    uri = f"s3://{session.default_bucket()}/{settings.pipeline_name}/data/{digest}/dataset.csv"
    return S3Uploader.upload_string_as_file_body(body, uri, sagemaker_session=session)


def _human_labels_prefix(settings: PipelineSettings, session) -> str:
    from sagemaker.s3 import S3Uploader

    prefix = human_labels_uri(session.default_bucket(), settings.pipeline_name)
    S3Uploader.upload_string_as_file_body(HUMAN_LABELS_README, f"{prefix}/README.txt", sagemaker_session=session)
    return prefix
