"""The rule that starts the workflow: EventBridge's pattern matching and input transformer as the local trigger
applies them, and the trigger's behaviour when a group is not (or no longer) set up."""

from __future__ import annotations

import json
import logging

import pytest

from pipelines.deploy.workflow.trigger import (
    INPUT_PATHS,
    INPUT_TEMPLATE,
    event_pattern,
    matches,
    state_change_event,
    transform,
)

PACKAGE = {
    "ModelPackageGroupName": "G",
    "ModelPackageVersion": 3,
    "ModelPackageArn": "arn:aws:sagemaker:us-east-1:123456789012:model-package/g/3",
    "ModelApprovalStatus": "Approved",
    "CreationTime": 1.5,
    "ModelPackageStatus": "Completed",
}


def test_the_input_is_the_package_arn_version_and_group():
    event = state_change_event(PACKAGE, "us-east-1", "123456789012")
    assert matches(event_pattern("G"), event)
    assert json.loads(transform(event, INPUT_PATHS, INPUT_TEMPLATE)) == {
        "ModelPackageArn": PACKAGE["ModelPackageArn"],
        "ModelPackageVersion": 3,
        "ModelPackageGroupName": "G",
    }


@pytest.mark.parametrize(
    "change",
    [
        {"ModelApprovalStatus": "Rejected"},
        {"ModelApprovalStatus": "PendingManualApproval"},
        {"ModelPackageGroupName": "H"},
    ],
)
def test_other_groups_and_statuses_do_not_match(change):
    assert not matches(event_pattern("G"), state_change_event({**PACKAGE, **change}, "us-east-1", "123456789012"))


def test_placeholders_inside_strings_and_missing_paths_follow_eventbridge():
    event = {"detail": {"name": 'a "quoted" name', "n": 4}}
    paths = {"name": "$.detail.name", "n": "$.detail.n", "gone": "$.detail.missing"}
    text = transform(event, paths, '{"text": "<name> has <n> items", "raw": <name>, "count": <n>, "none": <gone>}')
    assert json.loads(text) == {
        "text": 'a "quoted" name has 4 items',
        "raw": 'a "quoted" name',
        "count": 4,
        "none": None,
    }
    assert transform(event, paths, "<name> is here") == '"a \\"quoted\\" name" is here'


def test_approving_a_package_of_a_group_not_set_up_starts_nothing(deploy_home, registry, model_tar):
    from offline.aws import local_session

    registry.register("v1", model_tar)
    registry.approve("v1")
    assert local_session(deploy_home).client("stepfunctions").list_state_machines()["stateMachines"] == []


def test_a_target_whose_state_machine_is_gone_logs_and_the_approval_stands(
    deploy_home, registry, local_target, model_tar, caplog
):
    from offline.aws import local_session

    local_session(deploy_home).client("stepfunctions").delete_state_machine(
        stateMachineArn=local_target.state_machine_arn
    )
    registry.register("v1", model_tar)
    with caplog.at_level(logging.WARNING, logger="offline.deploy.trigger"):
        registry.approve("v1")
    described = (
        local_session(deploy_home).client("sagemaker").describe_model_package(ModelPackageName=registry.versions["v1"])
    )
    assert described["ModelApprovalStatus"] == "Approved"
    assert "did not start its deploy" in caplog.text and "StateMachineDoesNotExist" in caplog.text


def test_approving_an_approved_package_again_starts_no_second_deploy(deploy_home, registry, local_target, model_tar):
    from offline.aws import local_session
    from tests.deploy.workflow.conftest import executions, wait_for

    registry.register("v1", model_tar)
    registry.approve("v1")
    wait_for(lambda: executions(deploy_home, local_target.state_machine_arn), 30, "the deploy")
    local_session(deploy_home).client("sagemaker").update_model_package(
        ModelPackageArn=registry.versions["v1"], ModelApprovalStatus="Approved", ApprovalDescription="still good"
    )
    assert len(executions(deploy_home, local_target.state_machine_arn)) == 1
