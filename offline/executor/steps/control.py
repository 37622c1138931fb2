"""Condition and Fail steps: no job, just the definition's logic."""

from __future__ import annotations

from offline.executor.context import ExecutionContext, StepFailed
from offline.executor.definition import Step


def run_condition(ctx: ExecutionContext, step: Step, args: dict) -> dict:
    """All conditions must hold (SageMaker ANDs the list); Outcome picks IfSteps or ElseSteps."""
    outcome = all(ctx.resolver.condition(condition) for condition in step.arguments.get("Conditions", []))
    return {"Outcome": outcome}


def run_fail(ctx: ExecutionContext, step: Step, args: dict) -> dict:
    message = str(args.get("ErrorMessage") or "")
    raise StepFailed(message, {"ErrorMessage": message})
