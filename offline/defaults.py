"""Names every local component agrees on: the local account, region and default bucket.

The bucket follows the SageMaker SDK's default-bucket naming (sagemaker-<region>-<account>), so a
definition built offline names the same kind of bucket it would name on AWS.
"""

LOCAL_ACCOUNT_ID = "123456789012"
LOCAL_REGION = "us-east-1"
LOCAL_BUCKET = f"sagemaker-{LOCAL_REGION}-{LOCAL_ACCOUNT_ID}"
LOCAL_ROLE_ARN = f"arn:aws:iam::{LOCAL_ACCOUNT_ID}:role/mlops-local-execution-role"
