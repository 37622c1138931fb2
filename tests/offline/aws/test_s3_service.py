"""Local S3 through a real boto3 client: every operation, S3's error codes, multipart, and the SDK."""

from __future__ import annotations

import base64
import hashlib
import os

import pytest
from botocore.exceptions import ClientError

from offline.aws import local_session
from offline.store import ObjectStore


@pytest.fixture
def s3(aws):
    client = aws.client("s3")
    client.create_bucket(Bucket="bkt")
    return client


def code_and_message(excinfo) -> tuple[str, str]:
    err = excinfo.value.response["Error"]
    return err["Code"], err["Message"]


def test_buckets(aws, s3):
    assert s3.create_bucket(Bucket="second")["Location"] == "/second"
    s3.create_bucket(Bucket="bkt")  # us-east-1 answers 200 again, as S3 does
    s3.head_bucket(Bucket="bkt")
    assert s3.get_bucket_location(Bucket="bkt")["LocationConstraint"] is None
    eu = s3.create_bucket(Bucket="eu-bkt", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert eu["Location"] == "/eu-bkt"
    assert s3.get_bucket_location(Bucket="eu-bkt")["LocationConstraint"] == "eu-west-1"
    with pytest.raises(ClientError) as e:
        s3.create_bucket(Bucket="eu-bkt", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert code_and_message(e)[0] == "BucketAlreadyOwnedByYou"
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert names == ["bkt", "eu-bkt", "second"]
    with pytest.raises(ClientError) as e:
        s3.create_bucket(Bucket="third", CreateBucketConfiguration={"LocationConstraint": "../../etc"})
    assert code_and_message(e) == ("InvalidLocationConstraint", "The specified location-constraint is not valid")
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket="bkt", Key="k" * 2000, Body=b"x")  # longer than 1024 bytes: S3's own error
    assert code_and_message(e) == ("KeyTooLongError", "Your key is too long")
    assert (aws.home / "s3" / "second").is_dir()


def test_bucket_errors(s3):
    with pytest.raises(ClientError) as e:
        s3.head_bucket(Bucket="missing")
    assert code_and_message(e) == ("404", "Not Found")
    with pytest.raises(ClientError) as e:
        s3.head_bucket(Bucket="bkt", ExpectedBucketOwner="999999999999")
    assert code_and_message(e) == ("403", "Forbidden")
    s3.head_bucket(Bucket="bkt", ExpectedBucketOwner="123456789012")
    with pytest.raises(ClientError) as e:
        s3.create_bucket(Bucket="Bad_Name")
    code, message = code_and_message(e)
    assert code == "InvalidBucketName" and "lowercase letters" in message
    with pytest.raises(ClientError) as e:
        s3.list_objects_v2(Bucket="missing")
    assert code_and_message(e) == ("NoSuchBucket", "The specified bucket does not exist")
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket="missing", Key="k", Body=b"x")
    assert code_and_message(e)[0] == "NoSuchBucket"


def test_put_get_head_delete(aws, s3):
    body = b'{"a": 1}'
    put = s3.put_object(
        Bucket="bkt", Key="dir/a b+c.json", Body=body, ContentType="application/json", Metadata={"run": "7"}
    )
    assert put["ETag"] == '"' + hashlib.md5(body).hexdigest() + '"'
    got = s3.get_object(Bucket="bkt", Key="dir/a b+c.json")
    assert got["Body"].read() == b'{"a": 1}'
    assert (got["ContentType"], got["Metadata"], got["ContentLength"]) == ("application/json", {"run": "7"}, 8)
    head = s3.head_object(Bucket="bkt", Key="dir/a b+c.json")
    assert (head["ContentLength"], head["ETag"]) == (8, put["ETag"])
    # The object is the file in the local store, readable by local jobs.
    assert (aws.home / "s3" / "bkt" / "dir" / "a b+c.json").read_bytes() == b'{"a": 1}'
    assert s3.delete_object(Bucket="bkt", Key="dir/a b+c.json")["ResponseMetadata"]["HTTPStatusCode"] == 204
    s3.delete_object(Bucket="bkt", Key="dir/a b+c.json")  # deleting a missing key succeeds, as in S3
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket="bkt", Key="dir/a b+c.json")
    assert code_and_message(e) == ("NoSuchKey", "The specified key does not exist.")
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket="bkt", Key="dir/a b+c.json")
    assert code_and_message(e) == ("404", "Not Found")


def test_objects_written_by_local_jobs_are_visible(aws, s3):
    store = ObjectStore(aws.home / "s3")
    store.put_bytes("s3://bkt/jobs/out.csv", b"1,2\n")
    assert s3.get_object(Bucket="bkt", Key="jobs/out.csv")["Body"].read() == b"1,2\n"


def test_ranged_and_conditional_gets(s3):
    s3.put_object(Bucket="bkt", Key="r", Body=b"0123456789")
    part = s3.get_object(Bucket="bkt", Key="r", Range="bytes=2-4")
    assert (part["Body"].read(), part["ContentRange"], part["ResponseMetadata"]["HTTPStatusCode"]) == (
        b"234",
        "bytes 2-4/10",
        206,
    )
    assert s3.get_object(Bucket="bkt", Key="r", Range="bytes=7-")["Body"].read() == b"789"
    assert s3.get_object(Bucket="bkt", Key="r", Range="bytes=-3")["Body"].read() == b"789"
    assert s3.get_object(Bucket="bkt", Key="r", Range="bytes=8-100")["Body"].read() == b"89"
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket="bkt", Key="r", Range="bytes=10-12")
    assert code_and_message(e) == ("InvalidRange", "The requested range is not satisfiable")
    etag = s3.head_object(Bucket="bkt", Key="r")["ETag"]
    assert s3.get_object(Bucket="bkt", Key="r", IfMatch=etag)["Body"].read() == b"0123456789"
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket="bkt", Key="r", IfMatch='"0000"')
    assert code_and_message(e)[0] == "PreconditionFailed"


def test_bad_content_md5_is_rejected_and_keeps_the_old_object(s3):
    s3.put_object(Bucket="bkt", Key="k", Body=b"old")
    wrong = base64.b64encode(hashlib.md5(b"something else").digest()).decode()
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket="bkt", Key="k", Body=b"new", ContentMD5=wrong)
    assert code_and_message(e) == ("BadDigest", "The Content-MD5 you specified did not match what we received.")
    assert s3.get_object(Bucket="bkt", Key="k")["Body"].read() == b"old"


@pytest.mark.parametrize("key", ["../escape", "a/../../escape", "a//b", "dir/"])
def test_keys_escaping_the_store_are_rejected(aws, s3, key):
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket="bkt", Key=key, Body=b"x")
    code, message = code_and_message(e)
    assert code == "InvalidArgument" and "Object key" in message
    assert not (aws.home / "s3" / "escape").exists() and not (aws.home / "escape").exists()


def test_list_objects_v2_prefix_delimiter_and_pagination(s3):
    keys = ["a/1.csv", "a/2.csv", "a/b/3.csv", "c/4.csv", "top.txt", "odd key+x.txt"]
    for key in keys:
        s3.put_object(Bucket="bkt", Key=key, Body=b"x")
    everything = s3.list_objects_v2(Bucket="bkt")
    assert [o["Key"] for o in everything["Contents"]] == sorted(keys)
    assert everything["KeyCount"] == 6 and everything["IsTruncated"] is False

    folders = s3.list_objects_v2(Bucket="bkt", Delimiter="/")
    assert [p["Prefix"] for p in folders["CommonPrefixes"]] == ["a/", "c/"]
    assert [o["Key"] for o in folders["Contents"]] == ["odd key+x.txt", "top.txt"]

    under_a = s3.list_objects_v2(Bucket="bkt", Prefix="a/", Delimiter="/")
    assert [o["Key"] for o in under_a["Contents"]] == ["a/1.csv", "a/2.csv"]
    assert [p["Prefix"] for p in under_a["CommonPrefixes"]] == ["a/b/"]

    first = s3.list_objects_v2(Bucket="bkt", MaxKeys=2)
    assert first["IsTruncated"] is True and len(first["Contents"]) == 2
    second = s3.list_objects_v2(Bucket="bkt", MaxKeys=2, ContinuationToken=first["NextContinuationToken"])
    assert [o["Key"] for o in second["Contents"]] == sorted(keys)[2:4]

    pages = s3.get_paginator("list_objects_v2").paginate(Bucket="bkt", Delimiter="/", PaginationConfig={"PageSize": 1})
    items = [p["Prefix"] for page in pages for p in page.get("CommonPrefixes", [])]
    assert items == ["a/", "c/"]
    assert s3.list_objects_v2(Bucket="bkt", StartAfter="c/4.csv")["KeyCount"] == 2
    with pytest.raises(ClientError) as e:
        s3.list_objects_v2(Bucket="bkt", ContinuationToken="not-a-token")
    assert code_and_message(e) == ("InvalidArgument", "The continuation token provided is incorrect")


def test_list_objects_v1_and_resource_collections(aws, s3):
    for key in ["p/1", "p/2", "q/3"]:
        s3.put_object(Bucket="bkt", Key=key, Body=b"x")
    listed = s3.list_objects(Bucket="bkt", Prefix="p/")
    assert [o["Key"] for o in listed["Contents"]] == ["p/1", "p/2"]
    bucket = aws.resource("s3").Bucket("bkt")
    assert [o.key for o in bucket.objects.filter(Prefix="q/")] == ["q/3"]
    assert bucket.creation_date is not None


def test_copy_and_batch_delete(s3):
    s3.put_object(Bucket="bkt", Key="src/a.txt", Body=b"data", ContentType="text/plain", Metadata={"m": "1"})
    copied = s3.copy_object(Bucket="bkt", Key="dst/a.txt", CopySource={"Bucket": "bkt", "Key": "src/a.txt"})
    assert copied["CopyObjectResult"]["ETag"] == s3.head_object(Bucket="bkt", Key="src/a.txt")["ETag"]
    head = s3.head_object(Bucket="bkt", Key="dst/a.txt")
    assert (head["ContentType"], head["Metadata"]) == ("text/plain", {"m": "1"})
    s3.copy_object(
        Bucket="bkt",
        Key="dst/b.txt",
        CopySource="bkt/src/a.txt",
        MetadataDirective="REPLACE",
        ContentType="application/octet-stream",
    )
    assert s3.head_object(Bucket="bkt", Key="dst/b.txt")["Metadata"] == {}
    with pytest.raises(ClientError) as e:
        s3.copy_object(Bucket="bkt", Key="x", CopySource="bkt/missing")
    assert code_and_message(e)[0] == "NoSuchKey"
    deleted = s3.delete_objects(Bucket="bkt", Delete={"Objects": [{"Key": "dst/a.txt"}, {"Key": "dst/b.txt"}]})
    assert sorted(d["Key"] for d in deleted["Deleted"]) == ["dst/a.txt", "dst/b.txt"]
    assert s3.list_objects_v2(Bucket="bkt", Prefix="dst/")["KeyCount"] == 0


def test_multipart_upload_api(aws, s3):
    part1, part2 = os.urandom(5 * 1024 * 1024), b"tail"
    upload = s3.create_multipart_upload(Bucket="bkt", Key="mp/obj", ContentType="application/x-tar")
    uid = upload["UploadId"]
    e1 = s3.upload_part(Bucket="bkt", Key="mp/obj", UploadId=uid, PartNumber=1, Body=part1)["ETag"]
    e2 = s3.upload_part(Bucket="bkt", Key="mp/obj", UploadId=uid, PartNumber=2, Body=part2)["ETag"]
    assert not (aws.home / "s3" / "bkt" / "mp" / "obj").exists()  # nothing visible before completion
    with pytest.raises(ClientError) as e:
        s3.complete_multipart_upload(
            Bucket="bkt", Key="mp/obj", UploadId=uid, MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": '"bad"'}]}
        )
    assert code_and_message(e)[0] == "InvalidPart"
    done = s3.complete_multipart_upload(
        Bucket="bkt",
        Key="mp/obj",
        UploadId=uid,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]},
    )
    expected = hashlib.md5(hashlib.md5(part1).digest() + hashlib.md5(part2).digest()).hexdigest()
    assert done["ETag"] == f'"{expected}-2"'
    got = s3.get_object(Bucket="bkt", Key="mp/obj")
    assert got["ContentType"] == "application/x-tar" and got["Body"].read() == part1 + part2

    aborted = s3.create_multipart_upload(Bucket="bkt", Key="mp/gone")["UploadId"]
    s3.upload_part(Bucket="bkt", Key="mp/gone", UploadId=aborted, PartNumber=1, Body=b"x")
    s3.abort_multipart_upload(Bucket="bkt", Key="mp/gone", UploadId=aborted)
    with pytest.raises(ClientError) as e:
        s3.upload_part(Bucket="bkt", Key="mp/gone", UploadId=aborted, PartNumber=2, Body=b"x")
    assert code_and_message(e)[0] == "NoSuchUpload"
    assert list((aws.home / "s3" / ".uploads").iterdir()) == []


def test_upload_file_and_download_file_of_a_big_file_use_multipart(aws, s3, tmp_path):
    src = tmp_path / "big.bin"
    src.write_bytes(os.urandom(17 * 1024 * 1024))
    s3.upload_file(str(src), "bkt", "big/file.bin")
    etag = s3.head_object(Bucket="bkt", Key="big/file.bin")["ETag"]
    assert etag.endswith('-3"')  # s3transfer sent three 8 MiB parts
    dest = tmp_path / "copy.bin"
    s3.download_file("bkt", "big/file.bin", str(dest))
    assert hashlib.sha256(dest.read_bytes()).digest() == hashlib.sha256(src.read_bytes()).digest()


def test_unimplemented_operations_name_themselves(s3):
    with pytest.raises(ClientError) as e:
        s3.get_bucket_tagging(Bucket="bkt")
    assert code_and_message(e) == ("NotImplemented", "GetBucketTagging (s3) is not implemented by the local runtime")


def test_sagemaker_sdk_session_uses_the_local_store(tmp_path, monkeypatch):
    monkeypatch.setenv("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
    import sagemaker
    from sagemaker.s3 import S3Downloader, S3Uploader

    home = tmp_path / "home"
    boto_session = local_session(home)
    session = sagemaker.session.Session(boto_session=boto_session, default_bucket="sdk-bucket")
    assert session.default_bucket() == "sdk-bucket"
    src = tmp_path / "upload"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_text("a")
    (src / "sub" / "b.txt").write_text("b")
    assert session.upload_data(str(src), key_prefix="data") == "s3://sdk-bucket/data"
    uri = S3Uploader.upload_string_as_file_body("body", "s3://sdk-bucket/strings/x.txt", sagemaker_session=session)
    assert S3Downloader.read_file(uri, sagemaker_session=session) == "body"
    store = ObjectStore(home / "s3")
    assert store.list("s3://sdk-bucket") == [
        "s3://sdk-bucket/data/a.txt",
        "s3://sdk-bucket/data/sub/b.txt",
        "s3://sdk-bucket/strings/x.txt",
    ]
    # Without a bucket the SDK derives sagemaker-<region>-<account> from STS and creates it locally.
    default = sagemaker.session.Session(boto_session=boto_session)
    assert default.default_bucket() == "sagemaker-us-east-1-123456789012"
    assert store.bucket_exists("sagemaker-us-east-1-123456789012")
