"""RegisterModel into a group another execution creates at the same moment."""

import pytest
from botocore.exceptions import ClientError

from offline.aws import local_session
from offline.executor.steps.register_model import ensure_group

GROUP = "RacedGroup"


def _client(home):
    return local_session(home=home, region="us-east-1").client("sagemaker")


def test_a_group_created_by_a_concurrent_execution_is_used(tmp_path):
    ours, theirs = _client(tmp_path), _client(tmp_path)

    def the_other_execution_wins(**_):  # between our describe (missing) and our create
        theirs.create_model_package_group(ModelPackageGroupName=GROUP)

    ours.meta.events.register_first("before-call.sagemaker.CreateModelPackageGroup", the_other_execution_wins)
    ensure_group(ours, GROUP)
    ours.meta.events.unregister("before-call.sagemaker.CreateModelPackageGroup", the_other_execution_wins)
    assert ours.describe_model_package_group(ModelPackageGroupName=GROUP)["ModelPackageGroupName"] == GROUP
    with pytest.raises(ClientError, match="already exists"):  # the service itself stays as strict as AWS
        ours.create_model_package_group(ModelPackageGroupName=GROUP)


def test_a_creation_that_fails_for_another_reason_still_fails(tmp_path):
    with pytest.raises(ClientError) as raised:
        ensure_group(_client(tmp_path), "not a valid name!")
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert "already exists" not in str(raised.value)
