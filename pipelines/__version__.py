"""Metadata of the template's build package."""

__title__ = "sagemaker-mlops-drift-review"
__description__ = "SageMaker MLOps project template with drift monitoring and human review, runnable offline"
__version__ = "0.1.0"
__license__ = "Apache License 2.0"
