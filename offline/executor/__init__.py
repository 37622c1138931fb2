"""Runs a SageMaker Pipeline definition (the JSON `pipeline.definition()` produces) on this machine.

`definition` parses and checks the JSON, `expressions` resolves its `Get` / `Std:Join` /
`Std:JsonGet` values, `engine` schedules the steps as their dependencies complete, `steps/` runs
each step type (jobs as local subprocesses in a `sandbox` that maps the container paths), and
`executions` records every execution and step in the state DB. `job_control` and `watchdog` make
sure no job outlives its step or its runner, `stop_request` turns signals and
`mlops pipeline stop` into StopPipelineExecution, `offline.process_identity` tells a live runner from a
dead one, and `numba_cache` keeps the jobs' compiled kernels across sandboxes.
"""
