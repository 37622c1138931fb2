"""Packaging for the SageMaker MLOps template with drift monitoring and human review.

Exact, known-good versions live in constraints.txt; the ranges here say what the code needs.
"""

import os

from setuptools import find_packages, setup

here = os.path.abspath(os.path.dirname(__file__))
about: dict = {}
with open(os.path.join(here, "pipelines", "__version__.py")) as f:
    exec(f.read(), about)
with open(os.path.join(here, "README.md"), encoding="utf-8") as f:
    long_description = f.read()

required_packages = [
    # The SageMaker SDK v2 (not 3.x) and the Step Functions Data Science SDK.
    "sagemaker>=2.257,<2.258",
    "stepfunctions==2.3.0",
    # stepfunctions 2.3.0 imports pkg_resources, which setuptools 82 removed.
    "setuptools>=65,<82",
    "boto3>=1.42",
    # pandas >= 2.3 for the SDK; job code under processing/ also runs on the image's 2.2.3.
    "pandas>=2.3,<3",
    "numpy>=2.1,<3",
    "scikit-learn>=1.5",
    # The same XGBoost as the built-in 3.0-5 image, so model files move both ways. The CPU-only
    # wheel is the same library without the 470 MB CUDA collective-communication dependency.
    "xgboost-cpu==3.0.5",
    "sagemaker-inference==1.10.1",
    "click>=8.1",
    "rich>=13",
    "numba>=0.60",
    "pyarrow>=17",
    "starlette>=0.40",
    "uvicorn>=0.30",
    "httptools>=0.6",  # the endpoint host's HTTP parser (llhttp)
    "httpx>=0.27",
    "python-liquid>=2",
    "jsonpath-ng>=1.6",  # JSONPath of the local Step Functions interpreter (offline/stepfunctions)
    "argon2-cffi>=23.1",  # the reviewer portal's worker secrets, stored as argon2id hashes
    # The demo report's charts, drawn as inline SVG (Agg/SVG backends only; imported by the report code alone).
    "matplotlib>=3.9",
]

extras = {
    "test": [
        "pytest>=8",
        "pytest-timeout>=2.3",
        "hypothesis>=6",
        "moto[s3,sagemaker,stepfunctions,events]==5.2.5",
        "flask>=3",  # moto's threaded server: a CloudWatch endpoint for the deploy tests' job subprocess
        "flask-cors>=6",
        "parliament>=1.6",  # lints the deploy's generated IAM policies
        "statelint==3.1.0",  # lints the state machines the local Step Functions tests run (AWS's ASL rules)
        "cfn-lint==1.58.0",  # E3601: the deploy state machine's JSON inside a CloudFormation template
        "ruff>=0.6",
        "vermin>=1.6",
        "xxhash>=3",  # the C reference that tests/monitoring/test_xxhash64.py checks our XXH64 against
        "playwright>=1.49",  # browser tests of the reviewer portal, driving Debian's Chromium (never its own download)
    ],
}

setup(
    name=about["__title__"],
    version=about["__version__"],
    description=about["__description__"],
    long_description=long_description,
    long_description_content_type="text/markdown",
    license=about["__license__"],
    packages=find_packages(
        include=[
            "pipelines",
            "pipelines.*",
            "offline",
            "offline.*",
            "processing",
            "processing.*",
            "inference",
            "review",
            "review.*",
        ]
    ),
    package_data={
        "processing": ["data_contract.json"],
        "review.templates": ["*.liquid.html"],
        "review.portal": ["templates/*.html", "static/*"],
    },
    include_package_data=True,
    python_requires=">=3.10",
    install_requires=required_packages,
    extras_require=extras,
    entry_points={
        "console_scripts": [
            "get-pipeline-definition=pipelines.get_pipeline_definition:main",
            "run-pipeline=pipelines.run_pipeline:main",
            "mlops=pipelines.cli:main",
        ]
    },
    classifiers=[
        "Programming Language :: Python :: 3",
        "Programming Language :: Python :: 3.11",
        "License :: OSI Approved :: Apache Software License",
    ],
)
