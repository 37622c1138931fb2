"""Train: the built-in XGBoost 3.0-5 algorithm with the seed notebook's hyperparameters.

The seed's `silent=0` is gone: the 3.0-5 image rejects it as an unknown hyperparameter, and
XGBoost 3 spells it `verbosity` (1 = warnings, as silent=0 printed them).
"""

from __future__ import annotations

from sagemaker.estimator import Estimator
from sagemaker.inputs import TrainingInput
from sagemaker.workflow.steps import TrainingStep

from pipelines.build.jobs import session_xgboost_image
from pipelines.build.parameters import BuildParameters
from pipelines.build.preprocess_step import channel_uri
from pipelines.build.settings import PipelineSettings

STEP_NAME = "TrainModel"


def train_step(settings: PipelineSettings, params: BuildParameters, session, role: str, preprocess) -> TrainingStep:
    estimator = Estimator(
        image_uri=session_xgboost_image(session),
        role=role,
        instance_count=1,
        instance_type=params.training_instance_type,
        output_path=f"s3://{session.default_bucket()}/{settings.base_job_prefix}/models",
        base_job_name=f"{settings.base_job_prefix}-train",
        sagemaker_session=session,
        tags=settings.project_tags or None,
    )
    estimator.set_hyperparameters(
        objective="binary:logistic",
        eval_metric="auc",
        num_round=params.num_round,
        max_depth=params.max_depth,
        eta=params.eta,
        gamma=4,
        min_child_weight=6,
        subsample=0.8,
        verbosity=1,
    )
    step_args = estimator.fit(
        inputs={
            channel: TrainingInput(s3_data=channel_uri(preprocess, channel), content_type="text/csv")
            for channel in ("train", "validation")
        }
    )
    return TrainingStep(name=STEP_NAME, step_args=step_args)
