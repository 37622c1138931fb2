"""Inference handler for the built-in XGBoost 3.0-5 image (framework mode) and the local host.

The image serves this module through Multi Model Server and sagemaker-inference's Transformer:
an exception that is a `BaseInferenceToolkitError` becomes its HTTP status, anything else a 500.
So every bad request raises `RequestError` with a 4xx status and a message that says what to fix.

Each prediction carries the probability of the positive class, the predicted label and whether
it needs human review (review.lower < p < review.upper in the data contract), as
`probability,label,flag` lines or `{"predictions": [{"score", "predicted_label", "needs_review"}]}`
with label and flag 0/1 in both. Answers use the request's encoding (CSV in, CSV out; JSON in, JSON
out) because Model Monitor rejects captures whose input and output encodings differ; and both
encodings spell each column as the data-quality baseline holds it, so the same rows get the same
monitoring verdict whichever encoding the client used. For the same reason a CSV cell is accepted as
a number only if Model Monitor would type it as one.

This file runs on the image's Python 3.10 with numpy 2.1 and xgboost 3.0.5: keep it that way.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
from pathlib import Path
from typing import NamedTuple

import numpy as np
import xgboost as xgb
from sagemaker_inference.errors import BaseInferenceToolkitError

CSV = "text/csv"
JSON = "application/json"
ANY = "*/*"
MODEL_FILE = "xgboost-model"
CONTRACT_FILE = "data_contract.json"
CONTRACT_ENV = "MLOPS_DATA_CONTRACT"
FLOAT32_MAX = float(np.finfo(np.float32).max)
# A CSV cell the handler reads as a number is one Model Monitor types as a number too (Deequ's Integral and
# Fractional patterns, ASCII digits), so traffic the endpoint accepts never shows up as String columns:
# Python's float() would also take "1_0", ".5", "١٢", "inf" or a padded cell. One optional leading space
# or sign, as in "1, 2, -3"; an empty cell is a missing value.
_NUMBER = r"[-+ ]?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?"
_CSV_CELL = re.compile(_NUMBER)
_CSV_LINE = re.compile(rf"(?:{_NUMBER})?(?:,(?:{_NUMBER})?)*")
# float32's largest value has 39 digits: a longer JSON integer is out of range however it is parsed, and
# Python refuses to convert one of more than 4,300 digits at all (a ValueError inside json).
_MAX_INT_DIGITS = 40


class RequestError(BaseInferenceToolkitError):
    """A request the handler cannot answer; `status_code` says why (400, 406, 415)."""

    def __init__(self, status_code: int, message: str):
        super().__init__(status_code, message, message)


class Model(NamedTuple):
    booster: xgb.Booster
    n_features: int
    decision_threshold: float
    review_lower: float
    review_upper: float


class Batch(NamedTuple):
    rows: np.ndarray  # float32, shape (n, n_features); NaN marks a missing value
    content_type: str  # CSV or JSON: the encoding the answer must use


class Scored(NamedTuple):
    probabilities: np.ndarray
    labels: np.ndarray
    needs_review: np.ndarray
    content_type: str


def model_fn(model_dir: str) -> Model:
    """Load `xgboost-model` (a native XGBoost file since image 1.3-1, not a pickle) and the contract."""
    booster = xgb.Booster()
    booster.load_model(os.path.join(model_dir, MODEL_FILE))
    # One thread per worker: OpenMP threads stall on a busy two-core machine.
    booster.set_param({"nthread": 1})
    contract = _read_contract(model_dir)
    n_features = len(contract["features"])
    if booster.num_features() != n_features:
        raise ValueError(
            f"the model expects {booster.num_features()} features but the data contract lists {n_features}"
        )
    review = contract["review"]
    return Model(
        booster=booster,
        n_features=n_features,
        decision_threshold=float(contract["decision_threshold"]),
        review_lower=float(review["lower"]),
        review_upper=float(review["upper"]),
    )


def input_fn(request_body: bytes | str, request_content_type: str | None) -> Batch:
    """Parse one or many rows of features from `text/csv` or `application/json`."""
    media_type = _media_type(request_content_type)
    if media_type not in (CSV, JSON):
        raise RequestError(
            415, f"content type {request_content_type or '(none)'!r} is not supported; send {CSV} or {JSON}"
        )
    text = _decode(request_body)
    if not text.strip():
        raise RequestError(400, "the request body is empty; send at least one row of features")
    rows = _parse_csv(text) if media_type == CSV else _parse_json(text)
    return Batch(rows=rows, content_type=media_type)


def predict_fn(input_data: Batch, model: Model) -> Scored:
    """Score the rows; the feature count is checked here, where the model is known."""
    rows = input_data.rows
    if rows.shape[1] != model.n_features:
        raise RequestError(
            400, f"expected {model.n_features} features per row, got {rows.shape[1]} (send features only, no label)"
        )
    probabilities = model.booster.inplace_predict(rows, validate_features=False).astype(np.float64)
    return Scored(
        probabilities=probabilities,
        labels=(probabilities >= model.decision_threshold).astype(np.int64),
        needs_review=(probabilities > model.review_lower) & (probabilities < model.review_upper),
        content_type=input_data.content_type,
    )


def output_fn(prediction: Scored, accept: str | None) -> tuple[str, str]:
    """Encode in the request's encoding; returns (body, content type) as the Transformer allows.

    The toolkit replaces a missing Accept with its default before calling this, so a supported
    Accept that names the other encoding is not an error: the answer keeps the request's.
    """
    accepted = {_media_type(part) for part in (accept or ANY).split(",")}
    if not accepted & {CSV, JSON, ANY, "text/*", "application/*"}:
        raise RequestError(406, f"accept type {accept!r} is not supported; accept {CSV} or {JSON}")
    rows = list(zip(prediction.probabilities, prediction.labels, prediction.needs_review, strict=True))
    if prediction.content_type == CSV:
        return "".join(f"{float(p)!r},{int(label)},{int(review)}\n" for p, label, review in rows), CSV
    # The flag is 0/1 as in the CSV answer, not true/false: data capture records this body verbatim and
    # Model Monitor types `true` as Boolean, while the baseline (evaluate.py) holds the flag as Integral.
    body = {
        "predictions": [
            {"score": float(p), "predicted_label": int(label), "needs_review": int(review)} for p, label, review in rows
        ]
    }
    return json.dumps(body, separators=(",", ":")), JSON


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def _decode(body: bytes | str) -> str:
    if isinstance(body, str):
        return body
    try:
        return bytes(body).decode("utf-8")
    except UnicodeDecodeError as e:
        raise RequestError(400, f"the request body is not UTF-8 text (byte {e.start})") from None


def _parse_csv(text: str) -> np.ndarray:
    lines = [line for line in text.splitlines() if line.strip()]
    if '"' in text:
        table = list(csv.reader(io.StringIO("\n".join(lines))))
        checked = False
    else:
        table = [line.split(",") for line in lines]
        checked = all(_plain(line) or _CSV_LINE.fullmatch(line) is not None for line in lines)
    return _to_matrix(table, "row {row}, column {col}", _csv_number, checked)


def _plain(line: str) -> bool:
    """A cheaper check than _CSV_LINE (1.5 µs against 4.5 for 30 cells) that passes the usual row.

    When it holds, every cell that float() reads and finds finite is one of _NUMBER's: float() also
    takes "_" between digits, non-ASCII digits, surrounding whitespace and a dot with no digit on one
    side (".5", "5.", "5.e3"), all excluded here (splitlines took the other whitespace float() strips).
    A cell float() refuses, or reads as inf or nan, sends the rows cell by cell through _CSV_CELL.
    tests/inference compares the two exhaustively on short strings.
    """
    return (
        line.isascii()
        and "_" not in line
        and " " not in line
        and "\t" not in line
        and ",." not in line
        and ".," not in line
        and "-." not in line
        and "+." not in line
        and ".e" not in line
        and ".E" not in line
        and line[0] != "."
        and line[-1] != "."
    )


def _json_int(text: str) -> int:
    if len(text) > _MAX_INT_DIGITS:
        raise RequestError(400, f"the JSON number {text[:20]}... has {len(text)} digits: it is outside float32's range")
    return int(text)


_JSON_DECODER = json.JSONDecoder(parse_int=_json_int)


def _parse_json(text: str) -> np.ndarray:
    try:
        doc = _JSON_DECODER.decode(text)
    except json.JSONDecodeError as e:
        raise RequestError(400, f"malformed JSON: {e.msg} at line {e.lineno} column {e.colno}") from None
    except RecursionError:  # json's decoder recurses once per level: [[[[... gets this, not a JSONDecodeError
        raise RequestError(400, "the JSON is nested too deeply: send a list of rows of numbers") from None
    if isinstance(doc, dict):
        if "instances" in doc:
            doc = doc["instances"]
        elif "features" in doc:
            doc = [doc["features"]]
        else:
            raise RequestError(400, 'a JSON object must hold "instances" (a list of rows) or "features" (one row)')
    if not isinstance(doc, list) or not doc:
        raise RequestError(400, "JSON input must be a non-empty list of rows, or one row of numbers")
    if not isinstance(doc[0], (list, dict)):
        doc = [doc]  # a single row of numbers
    table = []
    for i, row in enumerate(doc, start=1):
        if isinstance(row, dict):
            row = row.get("features")
        if not isinstance(row, list):
            raise RequestError(400, f"row {i} is not a list of numbers")
        table.append(row)
    checked = all(type(c) in (int, float) for row in table for c in row)
    return _to_matrix(table, "row {row}, feature {col}", _json_number, checked)


def _to_matrix(table: list[list], where: str, number, checked: bool) -> np.ndarray:
    """Rows of cells to a float32 matrix; an empty cell or null is a missing value (NaN).

    `checked`: every cell that numpy (float()) can convert is known to be a number the handler accepts,
    so numpy may convert them all at once; otherwise, or if that fails (an empty cell, a misspelling),
    each cell is converted on its own so the error names it.
    """
    width = len(table[0])
    for i, row in enumerate(table, start=1):
        if len(row) != width:
            raise RequestError(400, f"row {i} has {len(row)} values but row 1 has {width}")
    if checked:
        try:  # the common case, every cell a number: let numpy convert them at once
            with np.errstate(over="ignore"):  # a value beyond float32 becomes inf: refused below, by name
                fast = np.asarray(table, dtype=np.float32)
            if fast.ndim == 2 and np.isfinite(fast).all():
                return fast
        except (ValueError, TypeError):
            pass  # find the bad cell below, to name it
    matrix = np.empty((len(table), width), dtype=np.float32)
    for i, row in enumerate(table):
        for j, cell in enumerate(row):
            matrix[i, j] = number(cell, where.format(row=i + 1, col=j + 1))
    return matrix


def _csv_number(cell: str, where: str) -> float:
    if not cell:
        return math.nan  # an empty cell is a missing value, which XGBoost handles
    if not _CSV_CELL.fullmatch(cell):
        shown = cell if len(cell) <= 40 else cell[:37] + "..."
        hint = "leave a missing value's cell empty" if not cell.strip() else "send rows without a header"
        raise RequestError(
            400, f"{where}: {shown!r} is not a number (digits with an optional sign, decimals and exponent; {hint})"
        )
    return _finite(float(cell), cell, where)


def _json_number(cell: object, where: str) -> float:
    if cell is None:
        return math.nan  # null is a missing value
    if isinstance(cell, bool) or not isinstance(cell, (int, float)):
        if isinstance(cell, (list, dict)):
            shown = "a list" if isinstance(cell, list) else "an object"  # never dump a deep structure back
        else:
            shown = json.dumps(cell)
            shown = shown if len(shown) <= 40 else shown[:37] + "..."
        raise RequestError(400, f"{where}: {shown} is not a number")
    return _finite(float(cell), cell, where)


def _finite(value: float, shown: object, where: str) -> float:
    """The model computes in float32: a value outside its range would silently become infinite."""
    if not math.isfinite(value) or abs(value) > FLOAT32_MAX:
        text = str(shown)
        text = text if len(text) <= 40 else text[:37] + "..."  # never echo a huge cell back
        raise RequestError(400, f"{where}: {text!r} is not a finite number within float32's range")
    return value


def _read_contract(model_dir: str) -> dict:
    """The data contract bundled beside this file in model.tar.gz's code/ (or named by env)."""
    here = Path(__file__).resolve().parent
    candidates = [
        Path(os.environ[CONTRACT_ENV]) if os.environ.get(CONTRACT_ENV) else None,
        here / CONTRACT_FILE,
        here / "lib" / CONTRACT_FILE,
        Path(model_dir) / "code" / CONTRACT_FILE,
        here.parent / "processing" / CONTRACT_FILE,  # a checkout of the template
    ]
    for path in candidates:
        if path is not None and path.is_file():
            return json.loads(path.read_text(encoding="utf-8"))
    raise FileNotFoundError(f"no {CONTRACT_FILE} next to the handler, in {model_dir}/code or in ${CONTRACT_ENV}")
