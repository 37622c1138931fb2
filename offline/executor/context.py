"""What a step runner needs from the execution: resolved arguments, the store, names, sandboxes."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from offline.defaults import LOCAL_ACCOUNT_ID, LOCAL_REGION
from offline.executor.expressions import Resolver
from offline.executor.job_control import JobControl
from offline.executor.sandbox import Sandbox
from offline.store import ObjectStore


class StepFailed(RuntimeError):
    """The step failed; the message is its FailureReason. `properties` are kept for describe."""

    def __init__(self, reason: str, properties: dict | None = None):
        super().__init__(reason)
        self.properties = properties or {}


class StepStopped(Exception):
    """The execution was stopped while the step's job ran; `properties` are kept for describe."""

    def __init__(self, reason: str, properties: dict | None = None):
        super().__init__(reason)
        self.properties = properties or {}


@dataclass
class ExecutionContext:
    execution_id: str
    execution_arn: str
    pipeline_name: str
    home: Path
    store: ObjectStore
    resolver: Resolver
    job_env: dict[str, str] = field(default_factory=dict)
    sagemaker_client_factory: object = None
    jobs: JobControl | None = None
    attempts: dict[str, int] = field(default_factory=dict)  # step -> attempt, for retried executions

    def job_name(self, step_name: str) -> str:
        """`pipelines-<execution>-<step>-<hash>`, as SageMaker Pipelines names its jobs (≤ 63 chars).

        A retried step's job gets a new name, as on SageMaker."""
        attempt = self.attempts.get(step_name, 1)
        key = f"{self.execution_id}/{step_name}" + (f"/{attempt}" if attempt > 1 else "")
        digest = hashlib.sha256(key.encode()).hexdigest()[:10]
        stem = "".join(c if c.isalnum() else "-" for c in step_name)[:30].strip("-")
        return f"pipelines-{self.execution_id}-{stem}-{digest}"

    def job_arn(self, kind: str, job_name: str) -> str:
        return f"arn:aws:sagemaker:{LOCAL_REGION}:{LOCAL_ACCOUNT_ID}:{kind}/{job_name.lower()}"

    def sandbox(self, step_name: str) -> Sandbox:
        root = self.home / "jobs" / self.execution_id / step_name
        return Sandbox(root, self.log_path(step_name), self.jobs, self.job_name(step_name))

    def log_path(self, step_name: str) -> Path:
        return self.home / "logs" / "pipelines" / self.execution_id / f"{step_name}.log"

    def sagemaker(self):
        """A boto3 SageMaker client answered by the local services (model registry)."""
        return self.sagemaker_client_factory()
