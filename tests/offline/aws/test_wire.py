"""Request bodies: botocore's aws-chunked framing and its trailing checksums."""

from __future__ import annotations

import io

import pytest
from botocore.httpchecksum import AwsChunkedWrapper, Crc32Checksum

from offline.aws.errors import ServiceError
from offline.aws.runtime import LocalAWS
from offline.aws.wire import AwsChunkedReader, Headers, Request, decoded_body


def chunked(data: bytes, chunk_size: int = 4) -> bytes:
    return AwsChunkedWrapper(
        io.BytesIO(data), checksum_cls=Crc32Checksum, checksum_name="x-amz-checksum-crc32", chunk_size=chunk_size
    ).read()


def test_decodes_chunks_and_checks_the_trailer():
    reader = AwsChunkedReader(io.BytesIO(chunked(b"hello world")), "x-amz-checksum-crc32")
    assert reader.read() == b"hello world"
    assert reader.trailers["x-amz-checksum-crc32"]


def test_a_wrong_checksum_raises_bad_digest():
    framed = chunked(b"hello world").replace(b"crc32:", b"crc32:AAAA")
    reader = AwsChunkedReader(io.BytesIO(framed), "x-amz-checksum-crc32")
    with pytest.raises(ServiceError) as e:
        reader.read()
    assert e.value.code == "BadDigest"


def test_truncated_body_is_an_error():
    with pytest.raises(ServiceError, match="ended in the middle"):
        AwsChunkedReader(io.BytesIO(b"a\r\nhel")).read()


def test_corrupted_upload_leaves_the_stored_object_intact(tmp_path):
    runtime = LocalAWS(tmp_path / "home")
    runtime.store.put_bytes("s3://bkt/obj", b"old")
    framed = chunked(b"new data").replace(b"crc32:", b"crc32:AAAA")
    headers = Headers(
        {
            "Content-Encoding": "aws-chunked",
            "X-Amz-Trailer": "x-amz-checksum-crc32",
            "X-Amz-Decoded-Content-Length": "8",
            "Content-Length": str(len(framed)),
        }
    )
    body, length = decoded_body(headers, io.BytesIO(framed), len(framed))
    response = runtime.handle(Request("PUT", "http://127.0.0.1/bkt/obj", headers, body, length), service="s3")
    assert response.status == 400 and b"<Code>BadDigest</Code>" in response.body
    assert runtime.store.get_bytes("s3://bkt/obj") == b"old"


def test_a_broken_stream_stays_broken():
    """After a framing error the reader never resynchronises on the body's data (it may look like frames)."""
    reader = AwsChunkedReader(io.BytesIO(b"1_0\r\n0123456789abcdef\r\n0\r\n\r\n"), framing="chunked")
    for _ in range(2):
        with pytest.raises(ServiceError) as e:
            reader.read(10)
        assert e.value.code == "InvalidRequest" and "chunk size line" in e.value.message


def test_signing_scope_reads_header_presigned_and_sigv4a_credentials():
    auth = "AWS4-HMAC-SHA256 Credential=AKID/20250101/eu-west-1/sagemaker/aws4_request, SignedHeaders=host"
    assert Request("GET", "http://h/", Headers({"Authorization": auth})).signing_scope() == ("eu-west-1", "sagemaker")
    url = "http://h/b/k?X-Amz-Credential=AKID%2F20250101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Signature=0"
    assert Request("GET", url, Headers()).signing_scope() == ("us-east-1", "s3")
    sigv4a = "AWS4-ECDSA-P256-SHA256 Credential=AKID/20250101/s3/aws4_request, SignedHeaders=host"
    assert Request("GET", "http://h/", Headers({"Authorization": sigv4a})).signing_scope() == (None, "s3")
    assert Request("GET", "http://h/", Headers({"Authorization": "AWS AKID:sig"})).signing_scope() == (None, None)
