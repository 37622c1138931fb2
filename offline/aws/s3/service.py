"""Local S3 over the object store: the operations boto3's client, resource and s3transfer use.

Buckets and objects are the files under `$MLOPS_HOME/s3/`, so local jobs and boto3 see the same data.
"""

from __future__ import annotations

import base64
import io
import json
import re
from typing import Any
from urllib.parse import quote, unquote
from xml.etree import ElementTree as ET

from offline.aws.constants import LOCAL_ACCOUNT_ID
from offline.aws.errors import ServiceError
from offline.aws.protocols import Context
from offline.aws.protocols.rest_xml import STATUS_KEY, RestXmlProtocol
from offline.aws.protocols.xml import to_bytes
from offline.aws.s3 import errors
from offline.aws.s3.backend import Md5CheckingReader, S3Backend
from offline.aws.service import Service, operation
from offline.aws.shapes import service_model
from offline.aws.wire import Headers, Response
from offline.store import ObjectInfo

NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/"
ROOT_NAMES = {
    "ListObjectsV2": "ListBucketResult",
    "ListObjects": "ListBucketResult",
    "ListBuckets": "ListAllMyBucketsResult",
    "CreateMultipartUpload": "InitiateMultipartUploadResult",
    "CompleteMultipartUpload": "CompleteMultipartUploadResult",
    "DeleteObjects": "DeleteResult",
}
_STORED_HEADERS = ("ContentEncoding", "ContentDisposition", "ContentLanguage", "CacheControl")
_RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")
_REGION_RE = re.compile(r"^(?:EU|[a-z]{2}(?:-[a-z]+)+-\d{1,2})$")  # a region name (or S3's legacy "EU")


class S3Service(Service):
    name = "s3"

    def __init__(self, runtime):
        super().__init__(RestXmlProtocol(service_model(self.name), NAMESPACE, ROOT_NAMES))
        self.backend = S3Backend(runtime.store)

    def validate(self, op, params: dict) -> None:
        owner = params.get("ExpectedBucketOwner")
        if owner is not None and owner != _account():
            raise errors.AccessDenied("Access Denied")

    # -- buckets ---------------------------------------------------------------------------------------

    @operation("CreateBucket")
    def create_bucket(self, params: dict, ctx: Context) -> dict:
        config = params.get("CreateBucketConfiguration") or {}
        region = config.get("LocationConstraint") or "us-east-1"
        if not _REGION_RE.match(region):
            raise errors.InvalidLocationConstraint(
                "The specified location-constraint is not valid", LocationConstraint=region[:64]
            )
        self.backend.create_bucket(params["Bucket"], region)
        return {"Location": f"/{params['Bucket']}"}

    @operation("HeadBucket")
    def head_bucket(self, params: dict, ctx: Context) -> dict:
        info = self.backend.require_bucket(params["Bucket"])
        return {"BucketRegion": info.get("region", "us-east-1")}

    @operation("GetBucketLocation")
    def get_bucket_location(self, params: dict, ctx: Context) -> Response:
        region = self.backend.require_bucket(params["Bucket"]).get("region", "us-east-1")
        root = ET.Element("LocationConstraint", xmlns=NAMESPACE)
        root.text = None if region == "us-east-1" else region  # S3 answers empty for us-east-1
        data = to_bytes(root)
        headers = Headers({"Content-Type": "application/xml", "Content-Length": str(len(data))})
        return Response(200, headers, data)

    @operation("ListBuckets")
    def list_buckets(self, params: dict, ctx: Context) -> dict:
        buckets = self.backend.list_buckets(params.get("Prefix", ""))
        return {
            "Buckets": [{"Name": n, "CreationDate": created, "BucketRegion": region} for n, created, region in buckets],
            "Owner": {"DisplayName": "mlops-local", "ID": _account()},
        }

    @operation("DeleteBucket")
    def delete_bucket(self, params: dict, ctx: Context) -> dict:
        self.backend.delete_bucket(params["Bucket"])
        return {}

    # -- objects ---------------------------------------------------------------------------------------

    @operation("PutObject")
    def put_object(self, params: dict, ctx: Context) -> dict:
        body = params.get("Body") or _empty_body()
        if params.get("ContentMD5"):
            body = Md5CheckingReader(body, params["ContentMD5"])
        info = self.backend.put_object(params["Bucket"], params["Key"], body, **_stored_meta(params))
        return {"ETag": info.etag}

    @operation("GetObject")
    def get_object(self, params: dict, ctx: Context) -> dict:
        info = self.backend.head_object(params["Bucket"], params["Key"])
        _check_conditions(info, params)
        start, length, status = 0, info.size, 200
        if params.get("Range"):
            span = _parse_range(params["Range"], info.size)
            if span is not None:
                start, length, status = span[0], span[1] - span[0] + 1, 206
        result = _object_headers(info)
        result.update(
            Body=self.backend.open_range(info, start, length),
            ContentLength=length,
        )
        result[STATUS_KEY] = status
        if status == 206:
            result["ContentRange"] = f"bytes {start}-{start + length - 1}/{info.size}"
        return result

    @operation("HeadObject")
    def head_object(self, params: dict, ctx: Context) -> dict:
        info = self.backend.head_object(params["Bucket"], params["Key"])
        _check_conditions(info, params)
        result = _object_headers(info)
        result["ContentLength"] = info.size
        return result

    @operation("DeleteObject")
    def delete_object(self, params: dict, ctx: Context) -> dict:
        self.backend.delete_object(params["Bucket"], params["Key"])
        return {}

    @operation("DeleteObjects")
    def delete_objects(self, params: dict, ctx: Context) -> dict:
        request = params.get("Delete") or {}
        deleted, failed = [], []
        for item in request.get("Objects", []):
            try:
                self.backend.delete_object(params["Bucket"], item["Key"])
                deleted.append({"Key": item["Key"]})
            except ServiceError as e:
                if e.code == "NoSuchBucket":
                    raise
                failed.append({"Key": item["Key"], "Code": e.code, "Message": e.message})
        return {"Deleted": [] if request.get("Quiet") else deleted, "Errors": failed}

    @operation("CopyObject")
    def copy_object(self, params: dict, ctx: Context) -> dict:
        source_bucket, source_key = _copy_source(params["CopySource"])
        source = self.backend.head_object(source_bucket, source_key)
        if params.get("MetadataDirective", "COPY") == "REPLACE":
            meta = _stored_meta(params)
        else:
            meta = {"content_type": source.content_type, "metadata": source.metadata, "extra": source.extra}
        info = self.backend.copy_object(source, params["Bucket"], params["Key"], **meta)
        return {"CopyObjectResult": {"ETag": info.etag, "LastModified": info.last_modified}}

    @operation("ListObjectsV2")
    def list_objects_v2(self, params: dict, ctx: Context) -> dict:
        after = params.get("StartAfter", "")
        token = params.get("ContinuationToken")
        if token is not None:
            after = max(after, _decode_token(token))
        listing, result = self._list(params, after)
        result.update(KeyCount=len(listing.objects) + len(listing.common_prefixes))
        for name in ("ContinuationToken", "StartAfter"):
            if params.get(name) is not None:
                result[name] = params[name]
        if listing.truncated:
            result["NextContinuationToken"] = _encode_token(listing.last)
        if params.get("EncodingType") == "url" and "StartAfter" in result:
            result["StartAfter"] = _url(result["StartAfter"])
        return result

    @operation("ListObjects")
    def list_objects(self, params: dict, ctx: Context) -> dict:
        listing, result = self._list(params, params.get("Marker", ""))
        result["Marker"] = params.get("Marker", "")
        if listing.truncated and params.get("Delimiter"):
            result["NextMarker"] = listing.last
        if params.get("EncodingType") == "url":
            for name in ("Marker", "NextMarker"):
                if result.get(name):
                    result[name] = _url(result[name])
        return result

    def _list(self, params: dict, after: str):
        bucket, prefix, delimiter = params["Bucket"], params.get("Prefix", ""), params.get("Delimiter", "")
        max_keys = params.get("MaxKeys", 1000)
        if max_keys < 0:
            raise errors.InvalidArgument("maxKeys should be non-negative", ArgumentName="max-keys")
        listing = self.backend.list_objects(bucket, prefix, delimiter, min(max_keys, 1000), after)
        encode = _url if params.get("EncodingType") == "url" else (lambda s: s)
        result: dict[str, Any] = {
            "Name": bucket,
            "Prefix": encode(prefix),
            "MaxKeys": max_keys,
            "IsTruncated": listing.truncated,
            "Contents": [
                {
                    "Key": encode(o.key),
                    "LastModified": o.last_modified,
                    "ETag": o.etag,
                    "Size": o.size,
                    "StorageClass": "STANDARD",
                }
                for o in listing.objects
            ],
            "CommonPrefixes": [{"Prefix": encode(p)} for p in listing.common_prefixes],
        }
        if delimiter:
            result["Delimiter"] = encode(delimiter)
        if params.get("EncodingType"):
            result["EncodingType"] = params["EncodingType"]
        return listing, result

    # -- multipart -------------------------------------------------------------------------------------

    @operation("CreateMultipartUpload")
    def create_multipart_upload(self, params: dict, ctx: Context) -> dict:
        upload_id = self.backend.create_multipart_upload(params["Bucket"], params["Key"], **_stored_meta(params))
        return {"Bucket": params["Bucket"], "Key": params["Key"], "UploadId": upload_id}

    @operation("UploadPart")
    def upload_part(self, params: dict, ctx: Context) -> dict:
        body = params.get("Body") or _empty_body()
        if params.get("ContentMD5"):
            body = Md5CheckingReader(body, params["ContentMD5"])
        etag = self.backend.upload_part(params["Bucket"], params["Key"], params["UploadId"], params["PartNumber"], body)
        return {"ETag": etag}

    @operation("CompleteMultipartUpload")
    def complete_multipart_upload(self, params: dict, ctx: Context) -> dict:
        parts = [(p["PartNumber"], p["ETag"]) for p in (params.get("MultipartUpload") or {}).get("Parts", [])]
        info = self.backend.complete_multipart_upload(params["Bucket"], params["Key"], params["UploadId"], parts)
        return {
            "Location": f"/{info.bucket}/{quote(info.key)}",
            "Bucket": info.bucket,
            "Key": info.key,
            "ETag": info.etag,
        }

    @operation("AbortMultipartUpload")
    def abort_multipart_upload(self, params: dict, ctx: Context) -> dict:
        self.backend.abort_multipart_upload(params["Bucket"], params["Key"], params["UploadId"])
        return {}


def _empty_body() -> io.BytesIO:
    return io.BytesIO()


def _account() -> str:
    return LOCAL_ACCOUNT_ID


def _stored_meta(params: dict) -> dict:
    return {
        "content_type": params.get("ContentType"),
        "metadata": params.get("Metadata") or {},
        "extra": {name: params[name] for name in _STORED_HEADERS if params.get(name)},
    }


def _object_headers(info: ObjectInfo) -> dict:
    result: dict[str, Any] = {
        "ETag": info.etag,
        "LastModified": info.last_modified,
        "ContentType": info.content_type,
        "AcceptRanges": "bytes",
        "Metadata": info.metadata,
    }
    result.update(info.extra)
    return result


def _check_conditions(info: ObjectInfo, params: dict) -> None:
    """If-Match / If-None-Match / If-(Un)Modified-Since, as S3 evaluates them (s3transfer sends If-Match)."""
    if params.get("IfMatch") is not None and params["IfMatch"].strip('"') not in ("*", info.etag.strip('"')):
        raise errors.PreconditionFailed(
            "At least one of the pre-conditions you specified did not hold", Condition="If-Match"
        )
    if params.get("IfUnmodifiedSince") is not None and info.last_modified > params["IfUnmodifiedSince"].timestamp():
        raise errors.PreconditionFailed(
            "At least one of the pre-conditions you specified did not hold", Condition="If-Unmodified-Since"
        )
    if params.get("IfNoneMatch") is not None and params["IfNoneMatch"].strip('"') in ("*", info.etag.strip('"')):
        raise errors.NotModified("Not Modified")
    if params.get("IfModifiedSince") is not None and int(info.last_modified) <= params["IfModifiedSince"].timestamp():
        raise errors.NotModified("Not Modified")


def _parse_range(header: str, size: int) -> tuple[int, int] | None:
    """(first, last) byte of a single `bytes=` range; None means serve the whole object (as S3 does)."""
    match = _RANGE_RE.match(header.strip())
    if not match or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if first == "":  # suffix: the last N bytes
        count = int(last)
        if count == 0:
            raise errors.InvalidRange("The requested range is not satisfiable", ActualObjectSize=str(size))
        return max(size - count, 0), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or (last and int(last) < start):
        raise errors.InvalidRange(
            "The requested range is not satisfiable", RangeRequested=header, ActualObjectSize=str(size)
        )
    return start, end


def _copy_source(value: str) -> tuple[str, str]:
    source = unquote(value.split("?", 1)[0]).lstrip("/")
    bucket, _, key = source.partition("/")
    if not bucket or not key:
        raise errors.InvalidArgument("Copy Source must mention the source bucket and key: sourcebucket/sourcekey")
    return bucket, key


def _encode_token(last: str | None) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": last}).encode()).decode()


def _decode_token(token: str) -> str:
    try:
        return json.loads(base64.urlsafe_b64decode(token.encode()))["after"]
    except (ValueError, KeyError, TypeError):
        raise errors.InvalidArgument(
            "The continuation token provided is incorrect", ArgumentName="continuation-token"
        ) from None


def _url(value: str) -> str:
    return quote(value, safe="/")
