"""`mlops template register`: Service Catalog through botocore's Stubber (moto's Service Catalog has no constraints,
associations or provisioning artifacts), S3 through moto; and the offline dry run."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.stub import ANY, Stubber
from click.testing import CliRunner
from moto import mock_aws

from pipelines.template import cfn_yaml
from pipelines.template.register import (
    PORTFOLIO,
    PRODUCT,
    STUDIO_VISIBILITY,
    RegisterError,
    RegisterFailed,
    RegisterSettings,
    register,
)
from tests.templates.conftest import REGION

ACCOUNT = "123456789012"
LAUNCH = f"arn:aws:iam::{ACCOUNT}:role/service-role/mlops-sagemaker-project-launch"
STUDIO = f"arn:aws:iam::{ACCOUNT}:role/service-role/AmazonSageMaker-ExecutionRole-1"
SETTINGS = RegisterSettings(region=REGION, account=ACCOUNT, launch_role_arn=LAUNCH, principal_arns=(STUDIO,))
BUCKET = f"sagemaker-mlops-templates-{REGION}-{ACCOUNT}"


@pytest.fixture
def s3(monkeypatch):
    """moto's S3. moto evaluates a bucket policy without its conditions, so the TLS-only Deny (aws:SecureTransport
    false) would refuse every request there: PutBucketPolicy is kept aside (`s3.policies`) and checked as written."""
    from botocore.awsrequest import AWSResponse

    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        client = boto3.client("s3", region_name=REGION)
        client.policies = {}

        def keep(params, **_kwargs):
            client.policies[params["Bucket"]] = json.loads(params["Policy"])

        def answer(model, **_kwargs):
            return (AWSResponse(None, 204, {}, None), {}) if model.name == "PutBucketPolicy" else None

        client.meta.events.register("before-parameter-build.s3.PutBucketPolicy", keep)
        client.meta.events.register("before-call.s3.PutBucketPolicy", answer)
        yield client


@pytest.fixture(scope="module")
def product_yaml(packaged) -> str:
    return packaged.path("product.yaml").read_text()


@pytest.fixture(scope="module")
def seed(packaged) -> bytes:
    return packaged.path("seed-code.zip").read_bytes()


def catalog():
    client = boto3.client("servicecatalog", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    return client, Stubber(client)


def first_registration(stub: Stubber) -> None:
    stub.add_response("list_portfolios", {"PortfolioDetails": []}, {})
    stub.add_response(
        "create_portfolio",
        {"PortfolioDetail": {"Id": "port-1"}},
        {"DisplayName": PORTFOLIO, "ProviderName": ANY, "Description": ANY, "IdempotencyToken": ANY},
    )
    stub.add_response(
        "search_products_as_admin", {"ProductViewDetails": []}, {"Filters": {"FullTextSearch": [PRODUCT]}}
    )
    stub.add_response(
        "create_product",
        {
            "ProductViewDetail": {"ProductViewSummary": {"ProductId": "prod-1"}},
            "ProvisioningArtifactDetail": {"Id": "pa-1"},
        },
        {
            "Name": PRODUCT,
            "Owner": ANY,
            "Description": ANY,
            "ProductType": "CLOUD_FORMATION_TEMPLATE",
            "Tags": [STUDIO_VISIBILITY],
            "ProvisioningArtifactParameters": ANY,
            "IdempotencyToken": ANY,
        },
    )
    stub.add_response("list_portfolios_for_product", {"PortfolioDetails": []}, {"ProductId": "prod-1"})
    stub.add_response("associate_product_with_portfolio", {}, {"ProductId": "prod-1", "PortfolioId": "port-1"})
    stub.add_response(
        "list_constraints_for_portfolio", {"ConstraintDetails": []}, {"PortfolioId": "port-1", "ProductId": "prod-1"}
    )
    stub.add_response(
        "create_constraint",
        {"ConstraintDetail": {"ConstraintId": "cons-1"}},
        {
            "PortfolioId": "port-1",
            "ProductId": "prod-1",
            "Type": "LAUNCH",
            "Parameters": json.dumps({"RoleArn": LAUNCH}),
            "Description": ANY,
            "IdempotencyToken": ANY,
        },
    )
    stub.add_response("list_principals_for_portfolio", {"Principals": []}, {"PortfolioId": "port-1"})
    stub.add_response(
        "associate_principal_with_portfolio",
        {},
        {"PortfolioId": "port-1", "PrincipalARN": STUDIO, "PrincipalType": "IAM"},
    )


def existing(stub: Stubber, version: str, tags: list[dict] | None = None) -> None:
    stub.add_response("list_portfolios", {"PortfolioDetails": [{"Id": "port-1", "DisplayName": PORTFOLIO}]}, {})
    stub.add_response(
        "search_products_as_admin",
        {"ProductViewDetails": [{"ProductViewSummary": {"Name": PRODUCT, "ProductId": "prod-1"}}]},
        {"Filters": {"FullTextSearch": [PRODUCT]}},
    )
    stub.add_response(
        "describe_product_as_admin", {"Tags": [STUDIO_VISIBILITY] if tags is None else tags}, {"Id": "prod-1"}
    )
    if tags is not None and STUDIO_VISIBILITY not in tags:
        stub.add_response("update_product", {}, {"Id": "prod-1", "AddTags": [STUDIO_VISIBILITY]})
    stub.add_response(
        "list_provisioning_artifacts",
        {"ProvisioningArtifactDetails": [{"Id": "pa-1", "Name": version}]},
        {"ProductId": "prod-1"},
    )


def registered_rest(stub: Stubber, role: str = LAUNCH) -> None:
    stub.add_response("list_portfolios_for_product", {"PortfolioDetails": [{"Id": "port-1"}]}, {"ProductId": "prod-1"})
    stub.add_response(
        "list_constraints_for_portfolio",
        {"ConstraintDetails": [{"ConstraintId": "cons-1", "Type": "LAUNCH"}]},
        {"PortfolioId": "port-1", "ProductId": "prod-1"},
    )
    stub.add_response("describe_constraint", {"ConstraintParameters": json.dumps({"RoleArn": role})}, {"Id": "cons-1"})


def test_first_registration_creates_everything(s3, product_yaml, seed):
    client, stub = catalog()
    first_registration(stub)
    with stub:
        report = register(s3, client, SETTINGS, product_yaml, seed)
        stub.assert_no_pending_responses()
    assert (report.portfolio_id, report.product_id, report.artifact_id) == ("port-1", "prod-1", "pa-1")
    # the bucket; seed code, the jobs' four code files (analyzer, starter: sourcedir and runproc), the template
    assert [c[2] for c in report.changes] == ["created", *["uploaded"] * 6, *["created"] * 5]
    assert s3.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Enabled", "CodePipeline's S3 source needs versions"
    assert all(s3.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"].values())
    (deny,) = s3.policies[BUCKET]["Statement"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    key = report.template_url.split(".amazonaws.com/", 1)[1]
    uploaded = cfn_yaml.loads(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read().decode())
    assert uploaded["Parameters"]["SeedCodeBucket"]["Default"] == BUCKET
    seed_key = uploaded["Parameters"]["SeedCodeKey"]["Default"]
    assert report.seed_code == f"s3://{BUCKET}/{seed_key}"
    assert s3.get_object(Bucket=BUCKET, Key=seed_key)["Body"].read() == seed
    assert uploaded["Parameters"]["CodeBucket"]["Default"] == BUCKET
    from pipelines.deploy.code_bundle import analyzer_bundle

    analyzer = analyzer_bundle()
    key = analyzer.keys(f"s3://{BUCKET}/monitoring/code")["sourcedir.tar.gz"].split(f"{BUCKET}/", 1)[1]
    assert f"${{CodeBucket}}/{key}" in product_yaml, "the processing engine's state machine names this bundle"
    assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == analyzer.sourcedir
    assert report.template_url.startswith(f"https://{BUCKET}.s3.{REGION}.amazonaws.com/templates/{report.version}/")


def test_registering_again_changes_nothing(s3, product_yaml, seed):
    client, stub = catalog()
    first_registration(stub)
    with stub:
        first = register(s3, client, SETTINGS, product_yaml, seed)
    client, stub = catalog()
    existing(stub, first.version)
    registered_rest(stub)
    stub.add_response(
        "list_principals_for_portfolio", {"Principals": [{"PrincipalARN": STUDIO}]}, {"PortfolioId": "port-1"}
    )
    with stub:
        again = register(s3, client, SETTINGS, product_yaml, seed)
        stub.assert_no_pending_responses()
    assert {c[2] for c in again.changes} == {"unchanged"}
    assert again.version == first.version


def test_a_changed_template_is_a_new_version_and_a_lost_tag_comes_back(s3, product_yaml, seed):
    client, stub = catalog()
    existing(stub, "v-older", tags=[])
    stub.add_response(
        "create_provisioning_artifact",
        {"ProvisioningArtifactDetail": {"Id": "pa-2"}},
        {"ProductId": "prod-1", "Parameters": ANY, "IdempotencyToken": ANY},
    )
    registered_rest(stub)
    stub.add_response(
        "list_principals_for_portfolio", {"Principals": [{"PrincipalARN": STUDIO}]}, {"PortfolioId": "port-1"}
    )
    with stub:
        report = register(s3, client, SETTINGS, product_yaml, seed)
        stub.assert_no_pending_responses()
    assert ("ProductTag", "sagemaker:studio-visibility", "updated") in report.changes
    assert ("ProvisioningArtifact", report.version, "created") in report.changes and report.artifact_id == "pa-2"


def test_another_launch_role_is_not_replaced_silently(s3, product_yaml, seed):
    client, stub = catalog()
    first_registration(stub)
    with stub:
        version = register(s3, client, SETTINGS, product_yaml, seed).version
    client, stub = catalog()
    existing(stub, version)
    registered_rest(stub, role=f"arn:aws:iam::{ACCOUNT}:role/other")
    with stub, pytest.raises(RegisterFailed, match="already has a launch constraint with role .*role/other; delete it"):
        register(s3, client, SETTINGS, product_yaml, seed)


def test_job_code_this_checkout_does_not_build_is_refused(s3, product_yaml, seed):
    """A template packaged from other sources names other bundles: registering it would schedule missing code."""
    key = next(line for line in product_yaml.split("${CodeBucket}/")[1:]).split("/")[2]
    other = product_yaml.replace(key, "0" * 64)
    client, stub = catalog()
    with stub, pytest.raises(RegisterError, match="package and register from the same checkout"):
        register(s3, client, SETTINGS, other, seed)
    assert s3.list_buckets()["Buckets"] == [], "refused before any request"


def test_a_refusal_stops_with_aws_words(s3, product_yaml, seed):
    client, stub = catalog()
    stub.add_response("list_portfolios", {"PortfolioDetails": []}, {})
    stub.add_client_error("create_portfolio", "AccessDeniedException", "not authorized to CreatePortfolio")
    with stub, pytest.raises(RegisterFailed, match="AccessDeniedException: not authorized to CreatePortfolio"):
        register(s3, client, SETTINGS, product_yaml, seed)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"launch_role_arn": "role/launch"}, "--launch-role-arn: 'role/launch' is not an IAM role ARN"),
        ({"principal_arns": ("arn:aws:iam::1:user/me",)}, "--principal-arn"),
        ({"bucket": "Bad_Bucket"}, "--bucket: Invalid bucket name"),
        ({"product_name": ""}, "--product-name must have 1-100 characters"),
    ],
)
def test_bad_settings_are_refused(change, message):
    values = {"region": REGION, "account": ACCOUNT, "launch_role_arn": LAUNCH, "principal_arns": (STUDIO,), **change}
    with pytest.raises(RegisterError, match=message):
        RegisterSettings(**values)


def offline(monkeypatch, tmp_path):
    """No credentials anywhere, and any request that were sent would go nowhere."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def test_the_dry_run_prints_the_studio_visible_product_offline(monkeypatch, tmp_path):
    from pipelines.cli import main

    offline(monkeypatch, tmp_path)
    result = CliRunner().invoke(main, ["template", "register", "--dry-run", "--region", REGION])
    assert result.exit_code == 0, result.output
    assert "none sent" in result.output and "placeholder launch role" in result.output
    assert "placeholder principal" in result.output
    line = next(line for line in result.output.splitlines() if line.startswith("servicecatalog CreateProduct "))
    assert json.loads(line.split(" ", 2)[2])["Tags"] == [{"Key": "sagemaker:studio-visibility", "Value": "true"}]
    result = CliRunner().invoke(main, ["template", "register", "--dry-run", "--region", REGION, "--json"])
    plan = json.loads(result.output)
    assert [
        r["operation"]
        for r in plan["requests"]
        if r["service"] == "servicecatalog" and r["operation"].startswith(("Create", "Associate"))
    ] == [
        "CreatePortfolio",
        "CreateProduct",
        "AssociateProductWithPortfolio",
        "CreateConstraint",
        "AssociatePrincipalWithPortfolio",
    ]
    assert not any(r["sent"] for r in plan["requests"])


def test_the_dry_run_uses_the_arns_given(monkeypatch, tmp_path):
    from pipelines.cli import main

    offline(monkeypatch, tmp_path)
    arguments = ["template", "register", "--dry-run", "--region", REGION, "--json"]
    result = CliRunner().invoke(main, [*arguments, "--launch-role-arn", LAUNCH, "--principal-arn", STUDIO])
    plan = json.loads(result.output)
    assert not [a for a in plan["assumptions"] if "placeholder" in a]
    principal = next(r for r in plan["requests"] if r["operation"] == "AssociatePrincipalWithPortfolio")
    assert principal["params"]["PrincipalARN"] == STUDIO


def test_a_real_registration_needs_a_principal_and_credentials(monkeypatch, tmp_path):
    from pipelines.cli import main

    offline(monkeypatch, tmp_path)
    result = CliRunner().invoke(main, ["template", "register", "--region", REGION])
    assert result.exit_code == 2 and "--principal-arn: name at least one role" in result.output
    result = CliRunner().invoke(main, ["template", "register", "--region", REGION, "--principal-arn", STUDIO])
    assert result.exit_code == 2 and "no AWS credentials" in result.output
    result = CliRunner().invoke(
        main, ["template", "register", "--region", REGION, "--principal-arn", "nope", "--dry-run"]
    )
    assert result.exit_code == 2 and "--principal-arn: 'nope' is not an IAM role ARN" in result.output
