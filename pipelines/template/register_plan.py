"""`mlops template register --dry-run`: the registration's requests, validated by botocore, none sent.

The answers are those of an account where nothing is registered yet (no bucket, portfolio or product),
so the plan shows every create; without ARNs, the launch role and the principal are placeholders.
What the answers and placeholders assume is listed with the plan.
"""

from __future__ import annotations

from pipelines.template.dry_run import DRY_RUN_ACCOUNT, Error, Recorder
from pipelines.template.register import LAUNCH_ROLE_NAME, RegisterSettings, register

NOT_FOUND = {"HeadBucket": Error("404", 404), "HeadObject": Error("404", 404)}
EMPTY = {
    "ListPortfolios": {"PortfolioDetails": []},
    "SearchProductsAsAdmin": {"ProductViewDetails": []},
    "ListPortfoliosForProduct": {"PortfolioDetails": []},
    "ListConstraintsForPortfolio": {"ConstraintDetails": []},
    "ListPrincipalsForPortfolio": {"Principals": []},
}
CREATED = {
    "CreatePortfolio": {"PortfolioDetail": {"Id": "port-dryrun000000"}},
    "CreateProduct": {
        "ProductViewDetail": {"ProductViewSummary": {"ProductId": "prod-dryrun000000"}},
        "ProvisioningArtifactDetail": {"Id": "pa-dryrun000000"},
    },
}


def answer(service: str, operation: str, params: dict):
    if operation in NOT_FOUND:
        return NOT_FOUND[operation]
    return EMPTY.get(operation) or CREATED.get(operation) or {}


def plan(
    region: str,
    product_yaml: str,
    seed_zip: bytes,
    launch_role_arn: str | None,
    principal_arns: tuple[str, ...],
    **names,
) -> dict:
    account = DRY_RUN_ACCOUNT
    assumptions = [
        f"the account is {account} (nothing is sent, not even GetCallerIdentity)",
        "nothing is registered yet: no template bucket, portfolio or product exists, so every step creates",
    ]
    if not launch_role_arn:
        launch_role_arn = f"arn:aws:iam::{account}:role/{LAUNCH_ROLE_NAME}"
        assumptions.append(
            f"placeholder launch role {launch_role_arn} (templates/launch-role.yaml's role; pass --launch-role-arn)"
        )
    if not principal_arns:
        principal_arns = (f"arn:aws:iam::{account}:role/service-role/AmazonSageMaker-ExecutionRole-placeholder",)
        assumptions.append(
            f"placeholder principal {principal_arns[0]} (pass --principal-arn with your Studio users' execution role)"
        )
    settings = RegisterSettings(
        region=region, account=account, launch_role_arn=launch_role_arn, principal_arns=principal_arns, **names
    )
    recorder = Recorder(region, answer)
    report = register(recorder.client("s3"), recorder.client("servicecatalog"), settings, product_yaml, seed_zip)
    return {"region": region, "assumptions": assumptions, "requests": recorder.requests, "result": report.as_dict()}
