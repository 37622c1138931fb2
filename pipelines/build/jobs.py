"""Job factories shared by the steps: every job runs on the built-in XGBoost 3.0-5 image.

Running the processing jobs on the training image gives all job code one runtime (Python 3.10,
pandas 2.2.3, numpy 2.1.0, xgboost 3.0.5), the one `.venv-image` reproduces for tests.
"""

from __future__ import annotations

from pathlib import Path

from sagemaker.workflow.pipeline_context import PipelineSession
from sagemaker.xgboost import XGBoostProcessor

from pipelines.build.code_bundles import processing_bundle
from pipelines.build.parameters import BuildParameters
from pipelines.build.settings import PipelineSettings
from pipelines.images import XGBOOST_VERSION, xgboost_image

CONTAINER = "/opt/ml/processing"


def session_xgboost_image(session: PipelineSession) -> str:
    """The XGBoost image of the session's region."""
    return xgboost_image(session.boto_region_name)


def processor(
    name: str,
    settings: PipelineSettings,
    params: BuildParameters,
    session: PipelineSession,
    role: str,
    instance_type=None,
) -> XGBoostProcessor:
    """A framework processor whose jobs run `processing/<job>.py` with the package beside it."""
    return XGBoostProcessor(
        framework_version=XGBOOST_VERSION,
        role=role,
        instance_type=instance_type or params.processing_instance_type,
        instance_count=params.processing_instance_count,
        base_job_name=f"{settings.base_job_prefix}-{name}",
        sagemaker_session=session,
        tags=settings.project_tags or None,
    )


def job_code(script: str) -> dict:
    """`run()` arguments that ship `processing/<script>` as the entry point plus the whole package."""
    bundle = processing_bundle() / "processing"
    entry = bundle / script
    if not entry.is_file():
        raise FileNotFoundError(f"no job script {entry}")
    return {"code": str(entry), "dependencies": [str(bundle)]}


def container_path(*parts: str) -> str:
    return str(Path(CONTAINER, *parts))
