"""Deploying to AWS: the direct deploy, the Step Functions deploy workflow, IAM, the scheduled jobs."""
