"""Fixed identity of the local runtime: the account, default region and dummy credentials."""

from __future__ import annotations

from offline.defaults import LOCAL_ACCOUNT_ID, LOCAL_REGION

DEFAULT_REGION = LOCAL_REGION
LOCAL_USER_ARN = f"arn:aws:iam::{LOCAL_ACCOUNT_ID}:user/mlops-local"
LOCAL_USER_ID = "AIDAMLOPSLOCALUSER01"

# botocore refuses to sign without credentials; local clients get these (as moto's get "testing").
DUMMY_ACCESS_KEY_ID = "mlops-local"
DUMMY_SECRET_ACCESS_KEY = "mlops-local"
