"""The deploy workflow: a Step Functions state machine that deploys an approved model package version to a
staging endpoint, smoke-tests it, waits for a production approval, deploys production, and sets up its
monitoring and human review. Built with the Step Functions Data Science SDK (`definition.py`); run by Step
Functions on AWS (`aws_setup.py`: the state machine, its roles and the EventBridge rule on registry approvals)
and by the offline interpreter locally (`offline/deploy`). docs/deploy-workflow.md describes it.
"""
