"""Approving a package of a group set up for deployment starts a deploy execution, as the EventBridge rule does
on AWS: the local SageMaker service calls `start_deploy` when UpdateModelPackage (or `mlops registry approve`,
which sends it) moves a package to Approved, in the process that answers that request (in-process clients or
`mlops local serve`). The execution runs in the background (`offline.stepfunctions.runner`); its runner's pid
is in the state DB.

The approval itself never fails because of the deploy: a target whose state machine is gone, or a start the
states service refuses, is logged (and the approval stays recorded), as a rule whose target fails does not
undo the event on AWS.
"""

from __future__ import annotations

import logging

from offline.aws.constants import LOCAL_ACCOUNT_ID
from offline.aws.errors import ServiceError
from offline.deploy.targets import TargetStore
from pipelines.deploy.workflow.trigger import matches, state_change_event, transform

log = logging.getLogger(__name__)


def start_deploy(runtime, region: str, package: dict) -> str | None:
    """Start the deploy of `package` if its group is set up for deployment; the execution's ARN, else None."""
    group = package.get("ModelPackageGroupName")
    if not group:
        return None
    target = TargetStore(runtime.db).get(region, group)
    if target is None:
        return None
    event = state_change_event(package, region, LOCAL_ACCOUNT_ID)
    if not matches(target.event_pattern, event):
        return None
    from offline.aws.states.backend import StepFunctionsBackend

    text = transform(event, target.input_paths, target.input_template)
    try:
        started = StepFunctionsBackend(runtime.db, runtime.home).start_execution(
            {"stateMachineArn": target.state_machine_arn, "input": text}
        )
    except ServiceError as e:
        log.warning(
            "approving %s did not start its deploy: %s (%s). Set the group up again with mlops deploy --local",
            package.get("ModelPackageArn"),
            e.message,
            e.code,
        )
        return None
    log.info("approving %s started deploy execution %s", package.get("ModelPackageArn"), started["executionArn"])
    return started["executionArn"]
