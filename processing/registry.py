"""The Model Registry facts every part reads the same way: "latest approved" and drift-check baselines.

- Latest approved = ListModelPackages(ModelApprovalStatus="Approved", SortBy="CreationTime",
  SortOrder="Descending"). The API's default order is *ascending*, so `[0]` without it is the oldest
  approved package (the trap in AWS's own deploy seed code).
- Only "the list is empty" means nothing is approved yet (a first run). Every other answer
  (AccessDenied, throttling, a malformed group name) is an error and propagates as botocore's
  ClientError, so a caller never mistakes an outage for a first run.
- A package's baselines for a check live under DriftCheckBaselines.<ModelDataQuality|ModelQuality>.

Job code in containers (quality_check.py) uses this too, so it lives in `processing/`.
"""

from __future__ import annotations

from typing import Any

APPROVED = "Approved"
PENDING = "PendingManualApproval"
REJECTED = "Rejected"
APPROVAL_STATUSES = (APPROVED, REJECTED, PENDING)

DATA_QUALITY, MODEL_QUALITY = "data-quality", "model-quality"
# check kind -> the key of DriftCheckBaselines / ModelMetrics that holds its statistics and constraints
DRIFT_CHECK_KEYS = {DATA_QUALITY: "ModelDataQuality", MODEL_QUALITY: "ModelQuality"}
# QualityCheck steps name their kind DATA_QUALITY / MODEL_QUALITY (the SDK's CheckType)
CHECK_TYPES = {"DATA_QUALITY": DATA_QUALITY, "MODEL_QUALITY": MODEL_QUALITY}


def check_kind(name: str) -> str:
    """`data-quality` / `model-quality` from either spelling (a CLI kind or a QualityCheck CheckType)."""
    kind = CHECK_TYPES.get(name, name)
    if kind not in DRIFT_CHECK_KEYS:
        raise ValueError(f"unknown check kind {name!r}: expected one of {', '.join(DRIFT_CHECK_KEYS)}")
    return kind


def latest_approved_package(client: Any, group: str | None = None) -> str | None:
    """The ARN of the newest approved package (of `group`, else of any group), None when none is approved.

    Raises botocore's ClientError for anything but an empty answer.
    """
    params: dict[str, Any] = {
        "ModelApprovalStatus": APPROVED,
        "SortBy": "CreationTime",
        "SortOrder": "Descending",
        "MaxResults": 1,
    }
    if group:
        params["ModelPackageGroupName"] = group
    else:
        params["ModelPackageType"] = "Versioned"
    summaries = client.list_model_packages(**params).get("ModelPackageSummaryList", [])
    return summaries[0]["ModelPackageArn"] if summaries else None


def drift_check_baseline(package: dict, kind: str) -> dict[str, str] | None:
    """{"statistics": uri?, "constraints": uri} of a described package's drift-check baseline for `kind`.

    None when the package has no constraints for that check; statistics may be absent (model quality).
    """
    baseline = (package.get("DriftCheckBaselines") or {}).get(DRIFT_CHECK_KEYS[check_kind(kind)]) or {}
    constraints = (baseline.get("Constraints") or {}).get("S3Uri")
    if not constraints:
        return None
    found = {"constraints": constraints}
    statistics = (baseline.get("Statistics") or {}).get("S3Uri")
    if statistics:
        found["statistics"] = statistics
    return found
