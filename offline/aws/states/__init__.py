"""Local Step Functions (`stepfunctions` / SFN, JSON 1.0): state machines and executions run by
`offline.stepfunctions`, for boto3 clients and the Step Functions Data Science SDK's Workflow objects."""
