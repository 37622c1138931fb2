"""Schedule and run a definition's steps, two at a time, as their dependencies complete.

A step waits for the steps it names in DependsOn, the steps whose properties it reads, and, inside
a condition's branch, the condition. After a failure no new step starts; running ones finish.
The execution fails with a Fail step's message, or SageMaker's "Step failure" wording otherwise.

A stop request (Ctrl-C, SIGTERM, `mlops pipeline stop`) starts no new step and stops the running
jobs; the execution ends Stopped. A retry (`PipelineExecution.retry`) runs a Failed or Stopped
execution again under the same id, keeping the properties of its succeeded steps.
"""

from __future__ import annotations

import json
import os
import traceback
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import datetime, timezone
from pathlib import Path

from offline.defaults import LOCAL_REGION
from offline.executor import expressions, numba_cache
from offline.executor.context import ExecutionContext, StepFailed, StepStopped
from offline.executor.definition import Definition, Step, load_definition
from offline.executor.executions import ExecutionRecord, ExecutionStore
from offline.executor.expressions import ExpressionError, Resolver
from offline.executor.job_control import JobControl
from offline.executor.steps.control import run_condition, run_fail
from offline.executor.steps.processing import run_processing
from offline.executor.steps.quality_check import run_quality_check
from offline.executor.steps.register_model import run_register_model
from offline.executor.steps.training import run_training
from offline.executor.stop_request import StopRequest
from offline.home import mlops_home
from offline.state import StateDB
from offline.store import ObjectStore

RUNNERS: dict[str, Callable] = {
    "Processing": run_processing,
    "Training": run_training,
    "QualityCheck": run_quality_check,
    "RegisterModel": run_register_model,
    "Condition": run_condition,
    "Fail": run_fail,
}
STEP_FAILURE = "Step failure: One or multiple steps failed."
MAX_PARALLEL_STEPS = 2  # one per core
WAKE_SECONDS = 0.25  # how often the scheduler looks for a stop request while steps run


class Listener:
    """Progress callbacks; the CLI's live display implements them."""

    def step_started(self, step: Step) -> None: ...

    def step_finished(self, step: Step, status: str, reason: str | None) -> None: ...

    def stopping(self) -> None: ...


class PipelineExecution:
    def __init__(
        self,
        definition: Definition,
        pipeline_name: str,
        parameters: dict[str, object] | None = None,
        home: str | os.PathLike | None = None,
        listener: Listener | None = None,
        stop_request: StopRequest | None = None,
    ):
        self.definition = definition
        self.pipeline_name = pipeline_name
        self.home = mlops_home(home)
        self.values = definition.parameter_values(parameters or {})
        self.listener = listener or Listener()
        self.store = ObjectStore.for_home(self.home)
        self.executions = ExecutionStore(StateDB.for_home(self.home))
        self.properties: dict[str, dict] = {}
        self.status: dict[str, str] = {}
        self.stop_request = stop_request or StopRequest()
        self._property_files: dict[tuple[str, str], object] = {}
        self._retry_of: ExecutionRecord | None = None
        self._attempts: dict[str, int] = {}

    @classmethod
    def retry(
        cls,
        execution: str,
        home: str | os.PathLike | None = None,
        listener: Listener | None = None,
        stop_request: StopRequest | None = None,
    ) -> PipelineExecution:
        """RetryPipelineExecution: the same execution (id, ARN, definition, parameters) run again.

        Raises LookupError for an unknown execution, ExecutionStateError unless it is Failed or Stopped.
        """
        executions = ExecutionStore(StateDB.for_home(mlops_home(home)))
        record = executions.check_retryable(execution)
        definition = load_definition(executions.definition(record.execution_id))
        self = cls(definition, record.pipeline_name, record.parameters, home, listener, stop_request)
        self._retry_of = record
        return self

    def run(self) -> ExecutionRecord:
        from offline.aws.server import LocalAWSServer

        # Jobs are subprocesses: they reach the local S3, STS and registry over HTTP on 127.0.0.1.
        with self.stop_request, LocalAWSServer(self.home) as aws, JobControl() as jobs:
            return self._run(aws.client_env(LOCAL_REGION), jobs)

    def _run(self, aws_env: dict[str, str], jobs: JobControl) -> ExecutionRecord:
        record = self._begin()
        self.stop_request.watch(record.execution_id, lambda: self.executions.status(record.execution_id))
        started = record.created_at if self._retry_of else datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        resolver = Resolver(
            parameters=self.values,
            execution={
                "PipelineExecutionId": record.execution_id,
                "PipelineExecutionArn": record.execution_arn,
                "PipelineName": self.pipeline_name,
                "PipelineArn": record.execution_arn.split("/execution/")[0],
                "StartDateTime": started,
                "CurrentDateTime": started,
            },
            step_properties=self._step_properties,
            property_file=self._property_file,
        )
        context = ExecutionContext(
            execution_id=record.execution_id,
            execution_arn=record.execution_arn,
            pipeline_name=self.pipeline_name,
            home=self.home,
            store=self.store,
            resolver=resolver,
            job_env={**_job_environment(self.home), **aws_env},
            sagemaker_client_factory=self._sagemaker_client,
            jobs=jobs,
            attempts=self._attempts,
        )
        try:
            failure, stopped = self._schedule(context, jobs)
        except BaseException as e:  # a bug in the runner must not leave the execution Executing
            self.executions.finish(record.execution_id, "Failed", f"InternalError: {type(e).__name__}: {e}")
            raise
        if stopped:
            self.executions.finish(record.execution_id, "Stopped")
        else:
            self.executions.finish(record.execution_id, "Failed" if failure else "Succeeded", failure)
        return self.executions.get(record.execution_id)

    def _begin(self) -> ExecutionRecord:
        """A new execution, or the retried one with its succeeded steps' properties loaded."""
        if self._retry_of is None:
            return self.executions.start(self.pipeline_name, self.values, self.definition.raw)
        record = self.executions.restart(self._retry_of.execution_id)
        for step in self.executions.steps(record.execution_id):
            if step["status"] == "Succeeded":
                self.properties[step["step_name"]] = step["metadata"]
                self.status[step["step_name"]] = "Succeeded"
            else:
                self._attempts[step["step_name"]] = step["attempt_count"] + 1
        return record

    def _schedule(self, context: ExecutionContext, jobs: JobControl) -> tuple[str | None, bool]:
        """Run the steps; returns the failure reason (or None) and whether the execution was stopped."""
        dependencies = {name: self._dependencies(step) for name, step in self.definition.steps.items()}
        pending = {name: step for name, step in self.definition.steps.items() if name not in self.status}
        running: dict[Future, Step] = {}
        failure: str | None = None
        stopping = killed = False
        with ThreadPoolExecutor(max_workers=MAX_PARALLEL_STEPS, thread_name_prefix="step") as pool:
            while True:
                if not stopping and self.stop_request.requested():
                    stopping = True
                    self.executions.stopping(context.execution_id)
                    self.listener.stopping()
                    jobs.stop()
                if stopping and not killed and self.stop_request.now.is_set():
                    killed = True
                    jobs.kill()
                for name, step in list(pending.items()):
                    state = self._readiness(step, dependencies[name])
                    if state == "skip":
                        del pending[name]
                    elif state == "ready" and failure is None and not stopping:
                        del pending[name]
                        self.status[name] = "Executing"
                        self.listener.step_started(step)
                        running[pool.submit(self._run_step, context, step)] = step
                if not running:
                    break
                done, _ = wait(running, timeout=WAKE_SECONDS, return_when=FIRST_COMPLETED)
                for future in done:
                    step = running.pop(future)
                    status, reason = future.result()
                    self.status[step.name] = status
                    self.listener.step_finished(step, status, reason)
                    if status == "Failed" and failure is None:
                        failure = reason if step.type == "Fail" else STEP_FAILURE
        return failure, stopping

    def _readiness(self, step: Step, needs: set[str]) -> str:
        if any(self.status.get(dep) in ("Failed", "Skipped") for dep in needs):
            self.status[step.name] = "Skipped"
            return "skip"
        if step.branch_of:
            condition, branch = step.branch_of
            if self.status.get(condition) == "Succeeded" and self.properties[condition]["Outcome"] is not branch:
                self.status[step.name] = "Skipped"
                return "skip"
        return "ready" if all(self.status.get(dep) == "Succeeded" for dep in needs) else "wait"

    def _dependencies(self, step: Step) -> set[str]:
        needs = set(step.depends_on)
        fields = {k: v for k, v in step.raw.items() if k not in ("Name", "Type", "DependsOn")}
        if step.type == "Condition":  # its branches' steps are scheduled on their own
            fields["Arguments"] = {"Conditions": step.arguments.get("Conditions", [])}
        needs.update(expressions.references(fields))
        if step.branch_of:
            needs.add(step.branch_of[0])
        unknown = needs - set(self.definition.steps)
        if unknown:
            raise ExpressionError(f"step {step.name} refers to unknown step(s): {', '.join(sorted(unknown))}")
        needs.discard(step.name)
        return needs

    def _run_step(self, context: ExecutionContext, step: Step) -> tuple[str, str | None]:
        log_path = context.log_path(step.name)
        attempt = self._attempts.get(step.name, 1)
        self.executions.step_started(context.execution_id, step.name, step.type, str(log_path), attempt)
        try:
            arguments = {} if step.type == "Condition" else context.resolver.resolve(step.arguments)
            self.properties[step.name] = RUNNERS[step.type](context, step, arguments)
            status, reason = "Succeeded", None
        except StepFailed as e:
            self.properties[step.name] = e.properties
            status, reason = "Failed", str(e)
        except StepStopped as e:
            self.properties[step.name] = e.properties
            status, reason = "Stopped", None
        except ExpressionError as e:
            status, reason = "Failed", f"ClientError: {e}"
        except Exception as e:  # a bug here must fail the step visibly, not hang the execution
            log_path.parent.mkdir(parents=True, exist_ok=True)
            with open(log_path, "a", encoding="utf-8") as log:
                log.write(traceback.format_exc())
            status, reason = "Failed", f"InternalError: {type(e).__name__}: {e}"
        self.executions.step_finished(
            context.execution_id, step.name, status, self.properties.get(step.name, {}), reason
        )
        return status, reason

    def _step_properties(self, step_name: str) -> dict:
        if step_name not in self.properties:
            raise ExpressionError(f"step {step_name} has not run")
        return self.properties[step_name]

    def _property_file(self, step_name: str, file_name: str) -> object:
        key = (step_name, file_name)
        if key not in self._property_files:
            step = self.definition.steps.get(step_name)
            spec = next(
                (f for f in (step.property_files if step else []) if f.get("PropertyFileName") == file_name), None
            )
            if spec is None:
                raise ExpressionError(f"step {step_name} has no property file {file_name!r}")
            outputs = self._step_properties(step_name).get("ProcessingOutputConfig", {}).get("Outputs", [])
            output = next((o for o in outputs if o.get("OutputName") == spec["OutputName"]), None)
            if output is None:
                raise ExpressionError(f"step {step_name} has no output {spec['OutputName']!r}")
            uri = output["S3Output"]["S3Uri"].rstrip("/") + "/" + spec["FilePath"]
            try:
                self._property_files[key] = json.loads(self.store.get_bytes(uri))
            except (FileNotFoundError, json.JSONDecodeError) as e:
                raise ExpressionError(f"property file {file_name} ({uri}) is missing or not JSON: {e}") from None
        return self._property_files[key]

    def _sagemaker_client(self):
        from offline.aws import local_session

        return local_session(home=self.home, region=LOCAL_REGION).client("sagemaker")


def _job_environment(home: Path) -> dict[str, str]:
    """What every job subprocess gets: the local home, local AWS settings (dummy credentials) and
    numba's per-user kernel cache (see numba_cache)."""
    return {
        **numba_cache.job_environment(),
        "MLOPS_HOME": str(home),
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": LOCAL_REGION,
        "AWS_REGION": LOCAL_REGION,
    }
