"""A local interpreter of the Amazon States Language, for the state machines the Step Functions Data Science
SDK emits, and the store of their executions in the home's state DB.

Modules: `definition` (checks), `paths` and `intrinsics` (data flow), `choice`, `errors` (names and matching),
`tasks` (resources -> boto3 calls), `states` (the state types, Retry/Catch), `scope` (history events, stops),
`interpreter` (one execution), `store` (SQLite), `runner` (the background process), `clock`.
The AWS API over them is the local `states` service, `offline.aws.states`.
"""
