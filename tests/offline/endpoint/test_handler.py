"""The handler contract of sagemaker-inference's Transformer, applied to a handler from the artifact."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest

from offline.endpoint.artifact import ArtifactError, extract_archive, locate_archive
from offline.endpoint.handler import HandlerLoadError, load_handler


@pytest.fixture(autouse=True)
def isolated_imports():
    """A handler is imported as its container imports it (its folder on sys.path, its module under its
    own name); undo that here, so `inference` means this repository's package again for other tests."""
    path, modules = list(sys.path), set(sys.modules)
    yield
    sys.path[:] = path
    for name in set(sys.modules) - modules:
        del sys.modules[name]


def write_handler(model_dir: Path, source: str, name: str = "inference.py") -> Path:
    code = model_dir / "code"
    code.mkdir(parents=True, exist_ok=True)
    (code / name).write_text(textwrap.dedent(source))
    return code / name


STEPS = """
    from sagemaker_inference.errors import GenericInferenceToolkitError

    def model_fn(model_dir):
        return {"dir": model_dir}

    def input_fn(body, content_type):
        if body == "teapot":
            raise GenericInferenceToolkitError(418, "I am a teapot")
        if body == "boom":
            raise RuntimeError("exploded")
        return body, content_type

    def predict_fn(data, model, context):  # a trailing context argument is allowed
        assert context is None
        return data

    def output_fn(prediction, accept):
        body, content_type = prediction
        if accept == "text/plain":
            return f"{type(body).__name__}:{body}"
        return f"{type(body).__name__}:{body}|{accept}", "application/x-seen"
"""


def test_steps_are_called_as_the_transformer_calls_them(tmp_path, monkeypatch):
    write_handler(tmp_path, STEPS, "custom_name.py")
    handler = load_handler(tmp_path, {"SAGEMAKER_PROGRAM": "custom_name.py"})
    assert Path(handler.module.__file__).resolve() == (tmp_path / "code" / "custom_name.py").resolve()
    # text/csv and application/json bodies arrive decoded; a missing or */* Accept becomes the default.
    answer = handler.invoke(b"1,2", "text/csv", None)
    assert (answer.status, answer.body, answer.content_type) == (200, b"str:1,2|application/json", "application/x-seen")
    answer = handler.invoke(b"1,2", "text/csv; charset=utf-8", "*/*")
    assert answer.body == b"bytes:b'1,2'|application/json"  # only the exact types are decoded, as the toolkit does
    answer = handler.invoke(b"x", "text/csv", "text/plain")
    assert (answer.body, answer.content_type) == (b"str:x", "text/plain")  # no tuple: the Accept type is used


def test_default_accept_comes_from_the_environment(tmp_path):
    write_handler(tmp_path, STEPS)
    handler = load_handler(tmp_path, {"SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT": "text/csv"})
    assert handler.invoke(b"x", "text/csv", None).body == b"str:x|text/csv"


def test_toolkit_errors_keep_their_status_and_others_are_500(tmp_path):
    write_handler(tmp_path, STEPS)
    handler = load_handler(tmp_path, {})
    teapot = handler.invoke(b"teapot", "text/csv", None)
    assert teapot.status == 418
    assert json.loads(teapot.body) == {"code": 418, "type": "GenericInferenceToolkitError", "message": "I am a teapot"}
    boom = handler.invoke(b"boom", "text/csv", None)
    assert boom.status == 500 and json.loads(boom.body)["message"] == "RuntimeError: exploded"
    undecodable = handler.invoke(b"\xff", "text/csv", None)
    assert undecodable.status == 400 and "not UTF-8" in json.loads(undecodable.body)["message"]


def test_transform_fn_alone_is_enough(tmp_path):
    write_handler(
        tmp_path,
        """
        def model_fn(model_dir):
            return "model"

        def transform_fn(model, data, content_type, accept):
            return f"{model}:{data}", "text/plain"
        """,
    )
    assert load_handler(tmp_path, {}).invoke(b"x", "text/csv", None).body == b"model:x"


@pytest.mark.parametrize(
    ("source", "environment", "words"),
    [
        ("def model_fn(d):\n    return 1\n", {}, "lacks input_fn, predict_fn, output_fn"),
        (
            "def model_fn(d): return 1\ndef transform_fn(m, d, c, a): return d\ndef input_fn(b, c): return b\n",
            {},
            "Cannot use transform_fn",
        ),
        ("def transform_fn(m, d, c, a): return d\n", {}, "no model_fn"),
        ("import not_a_module_anywhere\n", {}, "importing inference.py failed"),
        (
            "def model_fn(d):\n    raise OSError('disk')\ndef transform_fn(m, d, c, a): return d\n",
            {},
            "model_fn failed",
        ),
        ("", {"SAGEMAKER_PROGRAM": "missing.py"}, "no handler 'missing.py'"),
        ("", {"SAGEMAKER_SUBMIT_DIRECTORY": "s3://bucket/sourcedir.tar.gz"}, "source archive"),
        ("", {"SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/code"}, "outside /opt/ml/model"),
        ("", {"SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/../../etc"}, "escapes the model directory"),
    ],
)
def test_handlers_that_cannot_serve_are_refused_with_the_reason(tmp_path, source, environment, words):
    write_handler(tmp_path, source)
    with pytest.raises(HandlerLoadError, match=words):
        load_handler(tmp_path, environment)


def test_submit_directory_maps_into_the_extracted_model(tmp_path):
    write_handler(tmp_path / "nested", STEPS)  # code/ one level down, named by the environment
    environment = {"SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/nested/code"}
    assert load_handler(tmp_path, environment).invoke(b"x", "text/csv", "text/plain").body == b"str:x"


def test_archives_are_checked_and_extracted_safely(tmp_path, model_tar):
    model_dir = extract_archive(locate_archive(str(model_tar)), tmp_path / "model")
    assert {p.name for p in model_dir.iterdir()} == {"xgboost-model", "code"}
    with pytest.raises(ArtifactError, match="is not a file"):
        locate_archive(str(tmp_path / "missing.tar.gz"))
    with pytest.raises(ArtifactError, match="not in the local object store"):
        locate_archive("s3://sagemaker-us-east-1-123456789012/nothing/model.tar.gz", tmp_path / "home")
    not_a_tar = tmp_path / "bad.tar.gz"
    not_a_tar.write_bytes(b"plain text")
    with pytest.raises(ArtifactError, match="cannot extract"):
        extract_archive(not_a_tar, tmp_path / "bad")


def test_an_archive_without_code_is_refused(tmp_path):
    import tarfile

    (tmp_path / "xgboost-model").write_text("{}")
    archive = tmp_path / "model.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(tmp_path / "xgboost-model", arcname="xgboost-model")
    with pytest.raises(ArtifactError, match="no code/ folder"):
        extract_archive(archive, tmp_path / "out")


def test_an_archive_escaping_its_folder_is_refused(tmp_path):
    import io
    import tarfile

    archive = tmp_path / "evil.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        info = tarfile.TarInfo("../escaped.txt")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    with pytest.raises(ArtifactError, match="cannot extract"):
        extract_archive(archive, tmp_path / "out")
    assert not (tmp_path / "escaped.txt").exists()
