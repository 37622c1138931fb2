"""Job code that runs inside SageMaker Processing containers and as local subprocesses.

Every module here must also run on the built-in XGBoost 3.0-5 image: Python 3.10, pandas 2.2.3,
numpy 2.1.0, no SageMaker SDK.
"""
