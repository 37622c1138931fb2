"""Local STS: the caller is the fixed local account."""

from __future__ import annotations


def test_get_caller_identity(aws):
    identity = aws.client("sts").get_caller_identity()
    assert identity["Account"] == "123456789012"
    assert identity["Arn"] == "arn:aws:iam::123456789012:user/mlops-local"
    assert identity["UserId"]


def test_regional_sts_endpoint_is_answered_too(aws):
    sts = aws.client("sts", region_name="eu-west-1")
    assert sts.get_caller_identity()["Account"] == "123456789012"
