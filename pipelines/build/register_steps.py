"""The quality gate: register the model when test AUC >= AucThreshold, else fail with both figures.

The package's model.tar.gz must carry the inference handler. The SDK bundles `entry_point` /
`source_dir` into model.tar.gz (its runtime repack step, a small training job running the SDK's
`_repack_model.py`) only for the base `sagemaker.model.Model` class: a `FrameworkModel` such as
`XGBoostModel` calls `_upload_code(repack=self.enable_network_isolation())` and, without network
isolation, uploads the code separately (sourcedir.tar.gz referenced by SAGEMAKER_SUBMIT_DIRECTORY),
leaving model.tar.gz without it. So this uses `Model` with the XGBoost 3.0-5 image, whose container
serves the repacked `code/inference.py` through the framework-mode handler service.
"""

from __future__ import annotations

from sagemaker.drift_check_baselines import DriftCheckBaselines
from sagemaker.model import Model
from sagemaker.model_metrics import MetricsSource, ModelMetrics
from sagemaker.workflow.condition_step import ConditionStep
from sagemaker.workflow.conditions import ConditionGreaterThanOrEqualTo
from sagemaker.workflow.fail_step import FailStep
from sagemaker.workflow.functions import Join, JsonGet
from sagemaker.workflow.model_step import ModelStep

from pipelines.build.baseline_steps import Baseline
from pipelines.build.code_bundles import inference_archive
from pipelines.build.evaluate_step import AUC_PATH, REPORT, evaluation_json_uri
from pipelines.build.jobs import session_xgboost_image
from pipelines.build.parameters import BuildParameters
from pipelines.build.settings import PipelineSettings

CONDITION_STEP = "CheckAucEvaluation"
REGISTER_STEP = "RegisterModel"
FAIL_STEP = "AucBelowThreshold"
CONTENT_TYPES = ["text/csv", "application/json"]
JSON = "application/json"


def gate_step(
    settings: PipelineSettings,
    params: BuildParameters,
    session,
    role: str,
    train,
    evaluate,
    data_quality: Baseline,
    model_quality: Baseline,
) -> ConditionStep:
    auc = JsonGet(step_name=evaluate.name, property_file=REPORT, json_path=AUC_PATH)
    register = _register_step(settings, params, session, role, train, evaluate, data_quality, model_quality)
    fail = FailStep(
        name=FAIL_STEP,
        error_message=Join(on=" ", values=["Test AUC", auc, "is below the AucThreshold", params.auc_threshold]),
    )
    return ConditionStep(
        name=CONDITION_STEP,
        conditions=[ConditionGreaterThanOrEqualTo(left=auc, right=params.auc_threshold)],
        if_steps=[register],
        else_steps=[fail],
        depends_on=[data_quality.step, model_quality.step],
    )


def _register_step(settings, params, session, role, train, evaluate, data_quality, model_quality) -> ModelStep:
    model = Model(
        image_uri=session_xgboost_image(session),
        model_data=train.properties.ModelArtifacts.S3ModelArtifacts,
        entry_point="inference.py",
        source_dir=_upload_inference_code(settings, session),
        role=role,
        sagemaker_session=session,
    )
    register_args = model.register(
        content_types=CONTENT_TYPES,
        response_types=CONTENT_TYPES,
        inference_instances=["ml.t2.medium", "ml.m5.large", "ml.m5.xlarge"],
        transform_instances=["ml.m5.large"],
        model_package_group_name=settings.model_package_group_name,
        approval_status=params.model_approval_status,
        description="XGBoost breast-cancer classifier; uncertain predictions go to human review",
        model_metrics=ModelMetrics(
            model_statistics=MetricsSource(s3_uri=evaluation_json_uri(evaluate), content_type=JSON),
            model_constraints=MetricsSource(s3_uri=model_quality.calculated_constraints, content_type=JSON),
            model_data_statistics=MetricsSource(s3_uri=data_quality.calculated_statistics, content_type=JSON),
            model_data_constraints=MetricsSource(s3_uri=data_quality.calculated_constraints, content_type=JSON),
        ),
        drift_check_baselines=DriftCheckBaselines(
            model_statistics=MetricsSource(s3_uri=model_quality.drift_check_statistics, content_type=JSON),
            model_constraints=MetricsSource(s3_uri=model_quality.drift_check_constraints, content_type=JSON),
            model_data_statistics=MetricsSource(s3_uri=data_quality.drift_check_statistics, content_type=JSON),
            model_data_constraints=MetricsSource(s3_uri=data_quality.drift_check_constraints, content_type=JSON),
        ),
        customer_metadata_properties={"baseline_engine": settings.baseline_engine},
    )
    # A fixed output prefix; by default the repack job's would embed a timestamp in the definition.
    repacked = f"s3://{session.default_bucket()}/{settings.base_job_prefix}/repacked-models"
    return ModelStep(name=REGISTER_STEP, step_args=register_args, repack_model_step_settings={"output_path": repacked})


def _upload_inference_code(settings: PipelineSettings, session) -> str:
    """The handler as an S3 source_dir named by its content hash (a local folder would be uploaded
    under a timestamped job name, changing the definition on every build)."""
    import hashlib

    from sagemaker.s3 import S3Uploader

    archive = inference_archive()
    digest = hashlib.sha256(archive).hexdigest()
    uri = f"s3://{session.default_bucket()}/{settings.pipeline_name}/code/{digest}/inference/sourcedir.tar.gz"
    return S3Uploader.upload_bytes(archive, uri, sagemaker_session=session)
