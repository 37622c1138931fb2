"""Image URIs from the SageMaker SDK's bundled image table (no network), with the SDK kept quiet.

The one home of the XGBoost image version: the build pipeline's jobs, the registered model and the
deploy's monitoring jobs all run on it.
"""

from __future__ import annotations

XGBOOST_VERSION = "3.0-5"


def analyzer_image(region: str) -> str:
    """AWS's Model Monitor analyzer image (`sagemaker-model-monitor-analyzer`) for the region."""
    return _retrieve("model-monitor", region)


def xgboost_image(region: str) -> str:
    """The built-in XGBoost 3.0-5 image, which every job of this project runs on."""
    return _retrieve("xgboost", region, version=XGBOOST_VERSION)


def _retrieve(framework: str, region: str, **kwargs) -> str:
    from pipelines.quiet_sdk import quiet_sdk

    quiet_sdk()
    from sagemaker import image_uris

    try:
        return image_uris.retrieve(framework, region, **kwargs)
    except ValueError as e:
        from pipelines.deploy.errors import DeployInputError

        raise DeployInputError(f"no {framework} image for region {region!r}: {e}") from e
