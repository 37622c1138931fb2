"""`mlops template register`: make the product template a SageMaker Projects template of the account.

In order, each step idempotent (it looks first, and changes only what differs):
1. the template bucket `sagemaker-mlops-templates-<region>-<account>` (versioned, as CodePipeline's S3
   source needs; public access blocked; TLS only) holding `seed-code/<sha>/seed-code.zip` and
   `templates/<version>/product.yaml`, the product template with SeedCodeBucket/SeedCodeKey defaulting
   to that seed code, so a project needs no seed-code parameter, and `monitoring/code/<sha256>/…`, the
   scheduled jobs' code bundles the template's state machines name (CodeBucket defaults to the bucket);
2. the Service Catalog portfolio (found by its display name);
3. the product (found by its name), tagged `sagemaker:studio-visibility=true` so SageMaker Studio
   lists it; a template whose content changed becomes a new provisioning artifact (version), named by
   the template's hash, so re-registering the same template changes nothing;
4. the product's association with the portfolio;
5. the launch constraint: Service Catalog launches the product with the launch role (templates/launch-role.yaml);
6. the principals (the Studio users' execution roles) that may launch it.
Idempotency tokens are derived from the requests, so a retried create is the same create to AWS too.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from pipelines.template import cfn_yaml

STUDIO_VISIBILITY = {"Key": "sagemaker:studio-visibility", "Value": "true"}
LAUNCH_ROLE_NAME = "service-role/mlops-sagemaker-project-launch"
PORTFOLIO = "MLOps templates with drift monitoring and human review"
PRODUCT = "MLOps template with drift monitoring and human review"
OWNER = "ML platform team"
CREATED, UNCHANGED, UPDATED, UPLOADED = "created", "unchanged", "updated", "uploaded"


class RegisterError(ValueError):
    """Bad input (exit 2): an ARN or name that cannot work."""


class RegisterFailed(RuntimeError):
    """AWS refused a request (exit 1); what was done before it stays, and a re-run resumes."""


@dataclass(frozen=True)
class RegisterSettings:
    region: str
    account: str
    launch_role_arn: str
    principal_arns: tuple[str, ...]
    portfolio_name: str = PORTFOLIO
    product_name: str = PRODUCT
    owner: str = OWNER
    bucket: str | None = None

    def __post_init__(self) -> None:
        _check_role_arn(self.launch_role_arn, "--launch-role-arn")
        for arn in self.principal_arns:
            _check_role_arn(arn, "--principal-arn")
        for value, what in ((self.portfolio_name, "--portfolio-name"), (self.product_name, "--product-name")):
            if not value or len(value) > 100:
                raise RegisterError(f"{what} must have 1-100 characters")
        if self.bucket is not None:
            from processing.s3uri import validate_bucket_name

            try:
                validate_bucket_name(self.bucket)
            except ValueError as e:
                raise RegisterError(f"--bucket: {e}") from e

    @property
    def template_bucket(self) -> str:
        return self.bucket or f"sagemaker-mlops-templates-{self.region}-{self.account}"


@dataclass
class RegisterReport:
    portfolio_id: str = ""
    product_id: str = ""
    artifact_id: str = ""
    version: str = ""
    template_url: str = ""
    seed_code: str = ""
    changes: list[tuple[str, str, str]] = field(default_factory=list)  # (what, name, action)

    def add(self, what: str, name: str, action: str) -> None:
        self.changes.append((what, name, action))

    def as_dict(self) -> dict:
        return {
            "portfolio_id": self.portfolio_id,
            "product_id": self.product_id,
            "provisioning_artifact_id": self.artifact_id,
            "version": self.version,
            "template_url": self.template_url,
            "seed_code": self.seed_code,
            "changes": [{"what": w, "name": n, "action": a} for w, n, a in self.changes],
        }


def registered_template(product_yaml: str, bucket: str, seed_key: str) -> str:
    """The packaged product template with the seed code's and the jobs' code's location as defaults."""
    template = cfn_yaml.loads(product_yaml)
    parameters = template["Parameters"]
    parameters["SeedCodeBucket"]["Default"] = bucket
    parameters["SeedCodeKey"]["Default"] = seed_key
    parameters["CodeBucket"]["Default"] = bucket
    return cfn_yaml.dumps(template)


def job_code(product_yaml: str) -> dict[str, bytes]:
    """Key -> bytes of every code bundle file the template's state machines name (`${CodeBucket}/monitoring/code/
    <sha256>/<file>`), built from this checkout (pipelines/deploy/code_bundle.py, the deploy's own bundles)."""
    import re

    from pipelines.deploy.code_bundle import analyzer_bundle, starter_bundle
    from pipelines.template.state_machine import CODE_PREFIX

    named = set(re.findall(r"\$\{CodeBucket\}/(" + re.escape(CODE_PREFIX) + r"/[0-9a-f]{64}/[\w.]+)", product_yaml))
    built = {}
    for bundle in (analyzer_bundle(), starter_bundle()):
        for name, uri in bundle.keys(f"s3://bucket/{CODE_PREFIX}").items():
            built[uri.removeprefix("s3://bucket/")] = bundle.sourcedir if name == "sourcedir.tar.gz" else bundle.runproc
    missing = sorted(named - set(built))
    if missing:
        raise RegisterError(
            f"the template names job code this checkout does not build ({', '.join(missing)}): package and "
            "register from the same checkout"
        )
    return {key: built[key] for key in sorted(named)}


def register(s3, servicecatalog, settings: RegisterSettings, product_yaml: str, seed_zip: bytes) -> RegisterReport:
    report = RegisterReport()
    code = job_code(product_yaml)  # before any request: a template naming code this checkout lacks is refused
    bucket = settings.template_bucket
    seed_key = f"seed-code/{hashlib.sha256(seed_zip).hexdigest()[:16]}/seed-code.zip"
    template = registered_template(product_yaml, bucket, seed_key).encode()
    report.version = "v-" + hashlib.sha256(template).hexdigest()[:12]
    template_key = f"templates/{report.version}/product.yaml"
    ensure_bucket(s3, bucket, settings.region, report)
    upload(s3, bucket, seed_key, seed_zip, "application/zip", report)
    for key, body in code.items():
        upload(s3, bucket, key, body, "application/octet-stream", report)
    upload(s3, bucket, template_key, template, "application/x-yaml", report)
    report.seed_code = f"s3://{bucket}/{seed_key}"
    report.template_url = f"https://{bucket}.s3.{settings.region}.amazonaws.com/{template_key}"
    report.portfolio_id = ensure_portfolio(servicecatalog, settings, report)
    report.product_id, report.artifact_id = ensure_product(servicecatalog, settings, report)
    ensure_association(servicecatalog, report.portfolio_id, report.product_id, report)
    ensure_launch_constraint(servicecatalog, settings, report)
    ensure_principals(servicecatalog, settings, report)
    return report


# ---------------------------------------------------------------- S3


def ensure_bucket(s3, bucket: str, region: str, report: RegisterReport) -> None:
    if _exists(lambda: s3.head_bucket(Bucket=bucket), ("404", "NoSuchBucket", "NotFound")):
        action = UNCHANGED
    else:
        request = {"Bucket": bucket}
        if region != "us-east-1":
            request["CreateBucketConfiguration"] = {"LocationConstraint": region}
        _call(s3.create_bucket, **request)
        action = CREATED
    versioning = _call(s3.get_bucket_versioning, Bucket=bucket) if action == UNCHANGED else {}
    if versioning.get("Status") != "Enabled":
        _call(s3.put_bucket_versioning, Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        action = UPDATED if action == UNCHANGED else action
    if action != UNCHANGED:
        _call(
            s3.put_public_access_block,
            Bucket=bucket,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        )
        _call(s3.put_bucket_policy, Bucket=bucket, Policy=json.dumps(_tls_only(bucket)))
    report.add("Bucket", bucket, action)


def upload(s3, bucket: str, key: str, body: bytes, content_type: str, report: RegisterReport) -> None:
    """PutObject unless the object is there with these bytes (its SHA-256 in the key, checked by size)."""
    head = _exists(lambda: s3.head_object(Bucket=bucket, Key=key), ("404", "NoSuchKey", "NotFound"), answer=True)
    if head and head.get("ContentLength") == len(body):
        report.add("Object", f"s3://{bucket}/{key}", UNCHANGED)
        return
    _call(s3.put_object, Bucket=bucket, Key=key, Body=body, ContentType=content_type)
    report.add("Object", f"s3://{bucket}/{key}", UPLOADED)


def _tls_only(bucket: str) -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }


# ---------------------------------------------------------------- Service Catalog


def ensure_portfolio(sc, settings: RegisterSettings, report: RegisterReport) -> str:
    for page in _pages(sc.list_portfolios, "NextPageToken", "PageToken"):
        for portfolio in page.get("PortfolioDetails", []):
            if portfolio.get("DisplayName") == settings.portfolio_name:
                report.add("Portfolio", settings.portfolio_name, UNCHANGED)
                return portfolio["Id"]
    request = {
        "DisplayName": settings.portfolio_name,
        "ProviderName": settings.owner,
        "Description": "SageMaker Projects templates: model building, deployment with monitoring, human review",
    }
    created = _call(sc.create_portfolio, **request, IdempotencyToken=_token(request))
    report.add("Portfolio", settings.portfolio_name, CREATED)
    return created["PortfolioDetail"]["Id"]


def ensure_product(sc, settings: RegisterSettings, report: RegisterReport) -> tuple[str, str]:
    artifact = {
        "Name": report.version,
        "Description": "mlops template package (the template's SHA-256 names the version)",
        "Info": {"LoadTemplateFromURL": report.template_url},
        "Type": "CLOUD_FORMATION_TEMPLATE",
        "DisableTemplateValidation": False,
    }
    product_id = _find_product(sc, settings.product_name)
    if product_id is None:
        request = {
            "Name": settings.product_name,
            "Owner": settings.owner,
            "Description": "Build, deploy with data capture, monitor drift (managed or processing engine), review "
            "uncertain predictions (A2I or the portal), retrain on drift",
            "ProductType": "CLOUD_FORMATION_TEMPLATE",
            "Tags": [dict(STUDIO_VISIBILITY)],
            "ProvisioningArtifactParameters": artifact,
        }
        created = _call(sc.create_product, **request, IdempotencyToken=_token(request))
        report.add("Product", settings.product_name, CREATED)
        return created["ProductViewDetail"]["ProductViewSummary"]["ProductId"], created["ProvisioningArtifactDetail"][
            "Id"
        ]
    described = _call(sc.describe_product_as_admin, Id=product_id)
    if not any(
        t.get("Key") == STUDIO_VISIBILITY["Key"] and t.get("Value") == "true" for t in described.get("Tags", [])
    ):
        _call(sc.update_product, Id=product_id, AddTags=[dict(STUDIO_VISIBILITY)])
        report.add("ProductTag", STUDIO_VISIBILITY["Key"], UPDATED)
    artifacts = _call(sc.list_provisioning_artifacts, ProductId=product_id).get("ProvisioningArtifactDetails", [])
    for existing in artifacts:
        if existing.get("Name") == report.version:
            report.add("Product", settings.product_name, UNCHANGED)
            report.add("ProvisioningArtifact", report.version, UNCHANGED)
            return product_id, existing["Id"]
    request = {"ProductId": product_id, "Parameters": artifact}
    created = _call(sc.create_provisioning_artifact, **request, IdempotencyToken=_token(request))
    report.add("Product", settings.product_name, UNCHANGED)
    report.add("ProvisioningArtifact", report.version, CREATED)
    return product_id, created["ProvisioningArtifactDetail"]["Id"]


def ensure_association(sc, portfolio_id: str, product_id: str, report: RegisterReport) -> None:
    for page in _pages(
        lambda **kw: sc.list_portfolios_for_product(ProductId=product_id, **kw), "NextPageToken", "PageToken"
    ):
        if any(p.get("Id") == portfolio_id for p in page.get("PortfolioDetails", [])):
            report.add("PortfolioProductAssociation", f"{portfolio_id}/{product_id}", UNCHANGED)
            return
    _call(sc.associate_product_with_portfolio, ProductId=product_id, PortfolioId=portfolio_id)
    report.add("PortfolioProductAssociation", f"{portfolio_id}/{product_id}", CREATED)


def ensure_launch_constraint(sc, settings: RegisterSettings, report: RegisterReport) -> None:
    constraints = []
    for page in _pages(
        lambda **kw: sc.list_constraints_for_portfolio(
            PortfolioId=report.portfolio_id, ProductId=report.product_id, **kw
        ),
        "NextPageToken",
        "PageToken",
    ):
        constraints += [c for c in page.get("ConstraintDetails", []) if c.get("Type") == "LAUNCH"]
    for constraint in constraints:
        described = _call(sc.describe_constraint, Id=constraint["ConstraintId"])
        parameters = json.loads(described.get("ConstraintParameters") or "{}")
        if parameters.get("RoleArn") == settings.launch_role_arn:
            report.add("LaunchConstraint", settings.launch_role_arn, UNCHANGED)
            return
        raise RegisterFailed(
            f"the product already has a launch constraint with role {parameters.get('RoleArn') or parameters}; "
            f"delete it (aws servicecatalog delete-constraint --id {constraint['ConstraintId']}) to use "
            f"{settings.launch_role_arn}"
        )
    request = {
        "PortfolioId": report.portfolio_id,
        "ProductId": report.product_id,
        "Type": "LAUNCH",
        "Parameters": json.dumps({"RoleArn": settings.launch_role_arn}),
        "Description": "Launch the SageMaker project template with its launch role",
    }
    _call(sc.create_constraint, **request, IdempotencyToken=_token(request))
    report.add("LaunchConstraint", settings.launch_role_arn, CREATED)


def ensure_principals(sc, settings: RegisterSettings, report: RegisterReport) -> None:
    present = set()
    for page in _pages(
        lambda **kw: sc.list_principals_for_portfolio(PortfolioId=report.portfolio_id, **kw),
        "NextPageToken",
        "PageToken",
    ):
        present |= {p.get("PrincipalARN") for p in page.get("Principals", [])}
    for arn in settings.principal_arns:
        if arn in present:
            report.add("PrincipalAssociation", arn, UNCHANGED)
            continue
        _call(
            sc.associate_principal_with_portfolio,
            PortfolioId=report.portfolio_id,
            PrincipalARN=arn,
            PrincipalType="IAM",
        )
        report.add("PrincipalAssociation", arn, CREATED)


def _find_product(sc, name: str) -> str | None:
    for page in _pages(
        lambda **kw: sc.search_products_as_admin(Filters={"FullTextSearch": [name]}, **kw), "NextPageToken", "PageToken"
    ):
        for product in page.get("ProductViewDetails", []):
            summary = product.get("ProductViewSummary", {})
            if summary.get("Name") == name:
                return summary["ProductId"]
    return None


# ---------------------------------------------------------------- helpers


def _pages(operation, token_out: str, token_in: str):
    token = None
    while True:
        page = _call(operation, **({token_in: token} if token else {}))
        yield page
        token = page.get(token_out)
        if not token:
            return


def _token(request: dict) -> str:
    """The same request gives the same token (1-128 characters, [a-zA-Z0-9_-])."""
    return hashlib.sha256(json.dumps(request, sort_keys=True).encode()).hexdigest()[:64]


def _call(operation, **kwargs):
    from botocore.exceptions import ClientError, ParamValidationError

    try:
        return operation(**kwargs)
    except ParamValidationError as e:
        raise RegisterError(str(e)) from e
    except ClientError as e:
        error = e.response.get("Error", {})
        name = getattr(operation, "__name__", "request")
        raise RegisterFailed(f"{name} refused: {error.get('Code')}: {error.get('Message')}") from e


def _exists(call, not_found: tuple[str, ...], answer: bool = False):
    from botocore.exceptions import ClientError

    try:
        result = call()
    except ClientError as e:
        if e.response.get("Error", {}).get("Code") in not_found:
            return None if answer else False
        raise RegisterFailed(f"{e.operation_name} refused: {e.response.get('Error', {}).get('Code')}") from e
    return result if answer else True


def _check_role_arn(arn: str, what: str) -> None:
    import re

    if not re.fullmatch(r"arn:aws[a-z\-]*:iam::[0-9]{12}:role/[\w+=,.@/\-]{1,512}", arn or ""):
        raise RegisterError(f"{what}: {arn!r} is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)")
