"""The inference handler from the model artifact, called the way the XGBoost image calls it.

The built-in XGBoost 3.0-5 image serves a user script through Multi Model Server and
sagemaker-inference's Transformer. This module reproduces that contract without MMS:
- the script is `code/<SAGEMAKER_PROGRAM>` from the extracted model.tar.gz (not this repository's copy),
  imported with its folder on sys.path, and `model_fn(model_dir)` runs once per worker;
- per request: an Accept that is missing or `*/*` becomes SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT
  (default application/json); a body whose Content-Type is exactly text/csv or application/json is
  decoded as UTF-8; then `transform_fn`, or input_fn → predict_fn → output_fn; a function may take one
  extra trailing `context` argument (it gets None here);
- output may be `(body, content_type)`, otherwise the Accept type is the response's content type;
- a `BaseInferenceToolkitError` answers with its `status_code` and message; any other exception is a 500.

Two deliberate differences, so bad input never gets an opaque answer: errors come back as MMS-style JSON
`{"code", "type", "message"}` without the toolkit's traceback (that goes to the worker's log), and a
text/csv or application/json body that is not UTF-8 is a 400 rather than the toolkit's 500.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import os
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

PROGRAM_ENV = "SAGEMAKER_PROGRAM"
SUBMIT_DIRECTORY_ENV = "SAGEMAKER_SUBMIT_DIRECTORY"
DEFAULT_ACCEPT_ENV = "SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT"
CONTAINER_MODEL_DIR = "/opt/ml/model"
_UTF8_TYPES = ("application/json", "text/csv")  # sagemaker_inference.content_types.UTF8_TYPES
_ANY = "*/*"


class HandlerLoadError(RuntimeError):
    """The model artifact's handler cannot be found, imported or initialised."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    content_type: str


class ContainerHandler:
    """The user module plus its loaded model; `invoke` answers one request as the container would."""

    def __init__(self, module: ModuleType, model_dir: str, default_accept: str = "application/json"):
        self.module = module
        self.default_accept = default_accept
        self._toolkit_error = _toolkit_error_class()
        model_fn = getattr(module, "model_fn", None)
        if model_fn is None:
            raise HandlerLoadError(f"{module.__file__} defines no model_fn(model_dir)")
        transform_fn = getattr(module, "transform_fn", None)
        steps = [getattr(module, name, None) for name in ("input_fn", "predict_fn", "output_fn")]
        if transform_fn and any(steps):
            raise HandlerLoadError(
                "Cannot use transform_fn implementation in conjunction with input_fn, predict_fn, and/or "
                "output_fn implementation"
            )
        if not transform_fn and not all(steps):
            missing = [n for n, f in zip(("input_fn", "predict_fn", "output_fn"), steps, strict=True) if f is None]
            raise HandlerLoadError(
                f"{module.__file__} lacks {', '.join(missing)}: the local host does not carry the XGBoost "
                "image's default handler functions, so define all three (or transform_fn)"
            )
        self._transform = _adapt(transform_fn, 4) if transform_fn else None
        self._input, self._predict, self._output = (
            (_adapt(steps[0], 2), _adapt(steps[1], 2), _adapt(steps[2], 2)) if not transform_fn else (None,) * 3
        )
        warmup = getattr(module, "model_warmup_fn", None)
        try:
            self.model = _adapt(model_fn, 1)(model_dir)
            if warmup is not None:
                _adapt(warmup, 2)(model_dir, self.model)
        except Exception as e:
            raise HandlerLoadError(f"model_fn failed: {type(e).__name__}: {e}") from e

    def invoke(self, body: bytes, content_type: str | None, accept: str | None) -> Answer:
        if not accept or accept == _ANY:
            accept = self.default_accept
        try:
            data: bytes | str = body
            if content_type in _UTF8_TYPES:
                try:
                    data = body.decode("utf-8")
                except UnicodeDecodeError as e:
                    return error_answer(400, "RequestError", f"the request body is not UTF-8 text (byte {e.start})")
            if self._transform is not None:
                result = self._transform(self.model, data, content_type, accept)
            else:
                result = self._output(self._predict(self._input(data, content_type), self.model), accept)
            response_type = accept
            if isinstance(result, tuple):
                result, response_type = result[0], result[1]
            if isinstance(result, str):
                result = result.encode("utf-8")
            elif not isinstance(result, (bytes, bytearray, memoryview)):
                raise TypeError(f"the handler returned {type(result).__name__}, not str or bytes")
            return Answer(200, bytes(result), str(response_type))
        except Exception as e:
            if self._toolkit_error is not None and isinstance(e, self._toolkit_error):
                return error_answer(int(e.status_code), type(e).__name__, str(getattr(e, "message", e)))
            print(f"inference handler error (500): {traceback.format_exc()}", file=sys.stderr, flush=True)
            return error_answer(500, "InternalServerException", f"{type(e).__name__}: {e}")


def error_answer(status: int, kind: str, message: str) -> Answer:
    body = json.dumps({"code": status, "type": kind, "message": message}, separators=(",", ":"))
    return Answer(status, body.encode("utf-8"), "application/json")


def load_handler(model_dir: str | os.PathLike, environment: dict[str, str]) -> ContainerHandler:
    """Import the artifact's handler and run its model_fn; raises HandlerLoadError with the reason."""
    model_dir = Path(model_dir)
    program = environment.get(PROGRAM_ENV) or "inference.py"
    module_name = program[:-3] if program.endswith(".py") else program  # as the toolkit reads it
    code_dir = code_directory(model_dir, environment.get(SUBMIT_DIRECTORY_ENV))
    script = code_dir / f"{module_name}.py"
    if not module_name.isidentifier() or not script.is_file():
        raise HandlerLoadError(
            f"the model artifact has no handler {program!r} in {code_dir.relative_to(model_dir)}/ "
            f"(SAGEMAKER_PROGRAM={program!r}); model.tar.gz must hold it under code/, as the SDK's repack step does"
        )
    module = import_script(script)
    default_accept = environment.get(DEFAULT_ACCEPT_ENV) or "application/json"
    return ContainerHandler(module, str(model_dir), default_accept)


def code_directory(model_dir: Path, submit_directory: str | None) -> Path:
    """SAGEMAKER_SUBMIT_DIRECTORY as the container sees it (/opt/ml/model/code) mapped into `model_dir`."""
    if not submit_directory:
        return model_dir / "code"
    if submit_directory.startswith("s3://"):
        raise HandlerLoadError(
            f"SAGEMAKER_SUBMIT_DIRECTORY={submit_directory} points at a source archive; the local host serves "
            "handlers packed into model.tar.gz under code/"
        )
    inside = Path(submit_directory)
    try:
        relative = inside.relative_to(CONTAINER_MODEL_DIR)
    except ValueError:
        raise HandlerLoadError(
            f"SAGEMAKER_SUBMIT_DIRECTORY={submit_directory} is outside {CONTAINER_MODEL_DIR}; the local host only "
            "serves code packed into the model artifact"
        ) from None
    resolved = (model_dir / relative).resolve()
    if not resolved.is_relative_to(model_dir.resolve()):
        raise HandlerLoadError(f"SAGEMAKER_SUBMIT_DIRECTORY={submit_directory} escapes the model directory")
    return resolved


def import_script(script: Path) -> ModuleType:
    """Import a handler file under its own name with its folder first on sys.path, as the container does."""
    name = script.stem
    folder = str(script.parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    loaded = sys.modules.get(name)
    if loaded is not None and Path(getattr(loaded, "__file__", "") or "").resolve() != script.resolve():
        name = f"_mlops_handler_{abs(hash(str(script)))}"  # another module holds the name: keep them apart
    spec = importlib.util.spec_from_file_location(name, script)
    if spec is None or spec.loader is None:
        raise HandlerLoadError(f"cannot import {script}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as e:
        sys.modules.pop(name, None)
        raise HandlerLoadError(f"importing {script.name} failed: {type(e).__name__}: {e}") from e
    return module


def _adapt(function, arity: int):
    """Call `function` with `arity` arguments, plus a trailing context (None) if it takes one more."""
    try:
        count = len(inspect.signature(function).parameters)
    except (TypeError, ValueError):
        return function
    if count == arity:
        return function
    if count == arity + 1:
        return lambda *args: function(*args, None)
    raise HandlerLoadError(f"{function.__name__} takes {count} arguments but {arity} were given.")


def _toolkit_error_class():
    try:
        from sagemaker_inference.errors import BaseInferenceToolkitError
    except ImportError:  # a handler that does not use the toolkit can only raise plain exceptions (500)
        return None
    return BaseInferenceToolkitError
