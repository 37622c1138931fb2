"""The local object store: S3 semantics on files, atomic writes, and no way out of the root."""

from __future__ import annotations

import os
import threading

import pytest

from offline.store import (
    InvalidBucketName,
    InvalidKey,
    InvalidS3Uri,
    KeyConflict,
    NoSuchObject,
    ObjectStore,
    parse_s3_uri,
)


@pytest.fixture
def store(tmp_path) -> ObjectStore:
    return ObjectStore(tmp_path / "s3")


def test_for_home_uses_mlops_home(tmp_path, monkeypatch):
    monkeypatch.setenv("MLOPS_HOME", str(tmp_path / "home"))
    store = ObjectStore.for_home()
    assert store.root == (tmp_path / "home" / "s3").resolve()
    assert ObjectStore.for_home(tmp_path / "other").root == (tmp_path / "other" / "s3").resolve()


def test_parse_s3_uri():
    assert parse_s3_uri("s3://bucket-1/a/b.csv") == ("bucket-1", "a/b.csv")
    assert parse_s3_uri("s3://bucket-1") == ("bucket-1", "")
    assert parse_s3_uri("s3://bucket-1/") == ("bucket-1", "")
    for bad in ("bucket/key", "https://bucket/key", "s3:///key", 42):
        with pytest.raises(InvalidS3Uri):
            parse_s3_uri(bad)


@pytest.mark.parametrize(
    ("bucket", "reason"),
    [
        ("ab", "between 3 and 63"),
        ("a" * 64, "between 3 and 63"),
        ("Upper-Case", "lowercase letters"),
        ("under_score", "lowercase letters"),
        ("-leading", "begin and end"),
        ("two..dots", "adjacent periods"),
        ("192.168.1.1", "IP address"),
        ("xn--reserved", "reserves"),
        ("bucket-s3alias", "reserves"),
    ],
)
def test_bucket_names_follow_s3_rules(store, bucket, reason):
    with pytest.raises(InvalidBucketName, match=reason):
        store.put_bytes(f"s3://{bucket}/k", b"x")


def test_put_get_head_exists_delete(store):
    info = store.put_bytes("s3://bkt/dir/a.txt", b"hello", content_type="text/plain", metadata={"k": "v"})
    assert info.etag == '"5d41402abc4b2a76b9719d911017c592"'  # MD5, as S3's ETag for single-part objects
    assert store.path("s3://bkt/dir/a.txt") == store.root / "bkt" / "dir" / "a.txt"
    assert store.get_bytes("s3://bkt/dir/a.txt") == b"hello"
    head = store.head("s3://bkt/dir/a.txt")
    assert (head.size, head.content_type, head.metadata) == (5, "text/plain", {"k": "v"})
    assert store.exists("s3://bkt/dir/a.txt") and store.exists("s3://bkt")
    assert store.delete("s3://bkt/dir/a.txt") is True
    assert not store.exists("s3://bkt/dir/a.txt")
    assert not (store.root / "bkt" / "dir").exists()  # empty folders are pruned
    assert store.delete("s3://bkt/dir/a.txt") is False
    with pytest.raises(NoSuchObject):
        store.get_bytes("s3://bkt/dir/a.txt")


def test_file_written_by_a_job_directly_gets_s3_metadata(store):
    path = store.path("s3://bkt/out/report.json")
    path.parent.mkdir(parents=True)
    path.write_bytes(b"{}")
    head = store.head("s3://bkt/out/report.json")
    assert head.etag == '"99914b932bd37a50b983c5e7c90ae93b"'
    assert head.content_type == "binary/octet-stream"
    store.put_bytes("s3://bkt/out/report.json", b"[]", content_type="application/json")
    path.write_bytes(b"{}")  # rewritten behind the store's back: the stale sidecar is ignored
    assert store.head("s3://bkt/out/report.json").etag == '"99914b932bd37a50b983c5e7c90ae93b"'


def test_failed_write_leaves_the_old_object_intact(store):
    store.put_bytes("s3://bkt/model.tar.gz", b"old contents")

    def broken_upload():
        yield b"new cont"
        raise ConnectionError("client went away")

    with pytest.raises(ConnectionError):
        store.put_stream("s3://bkt/model.tar.gz", broken_upload())
    assert store.get_bytes("s3://bkt/model.tar.gz") == b"old contents"
    assert store.head("s3://bkt/model.tar.gz").etag == store.put_bytes("s3://bkt/x", b"old contents").etag
    leftovers = [p for p in (store.root / "bkt").iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_readers_see_whole_objects_while_a_writer_replaces_them(store):
    old, new = b"a" * 2_000_000, b"b" * 3_000_000
    store.put_bytes("s3://bkt/big", old)
    seen = []

    def read_many():
        for _ in range(20):
            seen.append(store.get_bytes("s3://bkt/big"))

    reader = threading.Thread(target=read_many)
    reader.start()
    for _ in range(5):
        store.put_bytes("s3://bkt/big", new)
        store.put_bytes("s3://bkt/big", old)
    reader.join()
    assert all(data in (old, new) for data in seen)


@pytest.mark.parametrize(
    "key",
    ["../escape", "a/../../escape", "a/./b", "a//b", "/abs", "dir/", ".~mlops-tmp-x", "a\x00b", "x" * 256],
)
def test_keys_that_cannot_map_to_a_file_or_escape_are_rejected(store, key, tmp_path):
    with pytest.raises(InvalidKey):
        store.put_bytes(f"s3://bkt/{key}", b"x")
    assert not (tmp_path / "escape").exists()


def test_symlink_inside_a_bucket_cannot_lead_outside(store, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (store.root / "bkt").mkdir(parents=True)
    os.symlink(outside, store.root / "bkt" / "link")
    with pytest.raises(InvalidKey, match="escapes"):
        store.put_bytes("s3://bkt/link/file", b"x")
    assert list(outside.iterdir()) == []


def test_key_and_folder_conflicts_are_clear(store):
    store.put_bytes("s3://bkt/a/b", b"x")
    with pytest.raises(KeyConflict, match="folder"):
        store.put_bytes("s3://bkt/a", b"y")
    with pytest.raises(KeyConflict):
        store.put_bytes("s3://bkt/a/b/c", b"z")
    assert store.get_bytes("s3://bkt/a/b") == b"x"


def test_list_is_a_recursive_string_prefix_in_s3_order(store):
    for key in ["data/train/b.csv", "data/train/a.csv", "data/train.csv", "data/test/x.csv", "other"]:
        store.put_bytes(f"s3://bkt/{key}", b"1")
    assert store.list("s3://bkt/data/train") == [
        "s3://bkt/data/train.csv",
        "s3://bkt/data/train/a.csv",
        "s3://bkt/data/train/b.csv",
    ]
    assert store.list("s3://bkt/data/train/") == ["s3://bkt/data/train/a.csv", "s3://bkt/data/train/b.csv"]
    assert len(store.list("s3://bkt")) == 5
    assert store.list("s3://bkt/nothing/here") == []
    assert store.list("s3://nobucket/x") == []


def test_put_dir_and_download_keep_the_relative_layout(store, tmp_path):
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_text("a")
    (src / "sub" / "b.txt").write_text("b")
    assert store.put_dir("s3://bkt/code/", src) == ["s3://bkt/code/a.txt", "s3://bkt/code/sub/b.txt"]

    dest = tmp_path / "dest"
    files = store.download("s3://bkt/code", dest)
    assert sorted(p.relative_to(dest).as_posix() for p in files) == ["a.txt", "sub/b.txt"]
    assert (dest / "sub" / "b.txt").read_text() == "b"


def test_download_of_one_object_to_a_file_or_into_a_directory(store, tmp_path):
    store.put_bytes("s3://bkt/model/model.tar.gz", b"tar")
    assert store.download("s3://bkt/model/model.tar.gz", tmp_path / "m.tgz") == [tmp_path / "m.tgz"]
    (tmp_path / "into").mkdir()
    assert store.download("s3://bkt/model/model.tar.gz", tmp_path / "into") == [tmp_path / "into" / "model.tar.gz"]
    assert (tmp_path / "into" / "model.tar.gz").read_bytes() == b"tar"
    assert store.download("s3://bkt/missing/", tmp_path / "none") == []
