"""The handler on a real model, called directly and through sagemaker-inference's Transformer,
the component the XGBoost 3.0-5 image serves it with (so status codes are checked end to end)."""

import importlib.util
import itertools
import json
import re
import sys
import tarfile

import numpy as np
import pandas as pd
import pytest

pytestmark = pytest.mark.image


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory, model_tar):
    root = tmp_path_factory.mktemp("model-dir")
    with tarfile.open(model_tar) as tar:
        tar.extractall(root, filter="data")
    return root


@pytest.fixture(scope="module")
def handler(model_dir):
    """The handler module as the container imports it: from model.tar.gz's code/ folder."""
    spec = importlib.util.spec_from_file_location("bundled_inference", model_dir / "code" / "inference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def model(handler, model_dir):
    return handler.model_fn(str(model_dir))


@pytest.fixture(scope="module")
def rows(splits_dir):
    return pd.read_csv(splits_dir / "traffic" / "requests.csv", header=None, dtype=str)


def _invoke(handler, model, body, content_type="text/csv", accept="text/csv"):
    return handler.output_fn(handler.predict_fn(handler.input_fn(body, content_type), model), accept)


def test_single_csv_row(handler, model, rows):
    body, content_type = _invoke(handler, model, ",".join(rows.iloc[0]))
    assert content_type == "text/csv"
    p, label, review = body.strip().split(",")
    assert 0 <= float(p) <= 1 and label == str(int(float(p) >= 0.5))
    assert review == str(int(0.1 < float(p) < 0.9))


def test_many_csv_rows_match_the_booster(handler, model, rows):
    body, _ = _invoke(handler, model, "\n".join(",".join(r) for r in rows.to_numpy()) + "\n")
    lines = body.splitlines()
    assert len(lines) == 114
    expected = model.booster.inplace_predict(rows.to_numpy(np.float32))
    assert np.allclose([float(line.split(",")[0]) for line in lines], expected)


def test_json_in_json_out(handler, model, rows):
    values = rows.iloc[:3].astype(float).to_numpy().tolist()
    for doc in ({"instances": values}, values, {"instances": [{"features": v} for v in values]}):
        body, content_type = _invoke(handler, model, json.dumps(doc), "application/json", "application/json")
        predictions = json.loads(body)["predictions"]
        assert content_type == "application/json" and len(predictions) == 3
        assert list(predictions[0]) == ["score", "predicted_label", "needs_review"]
        # label and flag are 0/1 numbers, as in the CSV answer and the data-quality baseline (not true/false)
        assert all(type(p["predicted_label"]) is int and p["needs_review"] in (0, 1) for p in predictions)
        assert all(type(p["needs_review"]) is int for p in predictions)
    body, _ = _invoke(handler, model, json.dumps({"features": values[0]}), "application/json", "*/*")
    assert len(json.loads(body)["predictions"]) == 1


def test_answers_in_the_requests_encoding_whatever_the_default_accept(handler, model, rows):
    # The toolkit substitutes its default Accept (application/json) when the client sends none.
    body, content_type = _invoke(handler, model, ",".join(rows.iloc[0]), "text/csv", "application/json")
    assert content_type == "text/csv" and body.count(",") == 2


def test_json_and_csv_answers_spell_the_same_values(handler, model, rows):
    csv_body, _ = _invoke(handler, model, "\n".join(",".join(r) for r in rows.to_numpy()))
    values = rows.astype(float).to_numpy().tolist()
    json_body, _ = _invoke(handler, model, json.dumps(values), "application/json", "application/json")
    spelled = [
        f"{json.dumps(p['score'])},{p['predicted_label']},{p['needs_review']}"
        for p in json.loads(json_body)["predictions"]
    ]
    assert spelled == csv_body.splitlines()
    assert {line.rsplit(",", 1)[1] for line in spelled} == {"0", "1"}  # the traffic has both kinds


def test_csv_cells_are_read_as_model_monitor_types_them(handler, model, rows):
    """Numbers as Deequ's Integral/Fractional patterns read them, a leading space or sign allowed."""
    cells = list(rows.iloc[0])
    plain, _ = _invoke(handler, model, ",".join(cells))
    assert _invoke(handler, model, ", ".join(cells))[0] == plain  # "1, 2, 3"
    assert _invoke(handler, model, ",".join(["+" + cells[0], *cells[1:]]))[0] == plain
    spelled = [f"{float(c):e}" for c in cells]  # 1.799000e+01
    assert _invoke(handler, model, ",".join(spelled))[0] == plain


def test_csv_cells_the_handler_takes_are_exactly_its_grammar_and_numbers_to_model_monitor(handler):
    """Every string of up to 4 characters from an alphabet of the tricky ones, through input_fn.

    Accepted exactly when each cell is empty or matches the handler's number grammar (and fits in
    float32), whichever of its two checks (the quick one for usual rows, or the full pattern) decides;
    and every accepted cell is Integral or Fractional by Deequ's own patterns (Java's \\d is ASCII).
    """
    from processing.monitoring.textcells import FRACTIONAL_RE, INTEGRAL_RE

    deequ_numbers = [re.compile(FRACTIONAL_RE, re.ASCII), re.compile(INTEGRAL_RE, re.ASCII)]
    alphabet = "05.eE-+ \t_,in\x1f\u0663"
    accepted = 0
    for length in range(1, 5):
        for chars in itertools.product(alphabet, repeat=length):
            text = "".join(chars)
            if not text.strip():
                continue  # an empty body, refused before any cell is read
            cells = text.split(",")
            expected = all(
                not cell or (handler._CSV_CELL.fullmatch(cell) and abs(float(cell)) <= handler.FLOAT32_MAX)
                for cell in cells
            )
            try:
                handler.input_fn(text, "text/csv")
            except handler.RequestError:
                assert not expected, repr(text)
                continue
            assert expected, repr(text)
            assert all(not cell or any(p.match(cell) for p in deequ_numbers) for cell in cells), repr(text)
            accepted += 1
    assert accepted > 300  # 372: "5", "-05", "0e5", " 5,5", ",", ...; the rest refused


def test_missing_values_are_allowed(handler, model, rows):
    cells = list(rows.iloc[0])
    cells[3] = ""
    body, _ = _invoke(handler, model, ",".join(cells))
    assert 0 <= float(body.split(",")[0]) <= 1
    body, _ = _invoke(handler, model, json.dumps([None] + [1.0] * 29), "application/json", "application/json")
    assert json.loads(body)["predictions"][0]["score"] >= 0


@pytest.mark.parametrize(
    ("body", "content_type", "status", "message"),
    [
        ("", "text/csv", 400, "empty"),
        ("   \n", "text/csv", 400, "empty"),
        ("1,2,3", "text/csv", 400, "expected 30 features per row, got 3"),
        ("mean radius," + ",".join(["1"] * 29), "text/csv", 400, "'mean radius' is not a number"),
        (",".join(["1"] * 29) + ",abc", "text/csv", 400, "row 1, column 30: 'abc'"),
        (",".join(["1"] * 30) + "\n" + ",".join(["1"] * 29), "text/csv", 400, "row 2 has 29 values"),
        (",".join(["1"] * 29) + ",inf", "text/csv", 400, "row 1, column 30: 'inf' is not a number"),
        (",".join(["1"] * 29) + ",nan", "text/csv", 400, "'nan' is not a number"),
        # Python's float() takes all of these; Model Monitor types them as String
        (",".join(["1"] * 29) + ",1_0", "text/csv", 400, "row 1, column 30: '1_0' is not a number"),
        (",".join(["1"] * 29) + ",.5", "text/csv", 400, "'.5' is not a number"),
        (",".join(["1"] * 29) + ",5.", "text/csv", 400, "'5.' is not a number"),
        (",".join(["1"] * 29) + ",\u0661\u0662", "text/csv", 400, "'\u0661\u0662' is not a number"),
        (",".join(["1"] * 29) + ",5 ", "text/csv", 400, "'5 ' is not a number"),
        (",".join(["1"] * 29) + ",\t5", "text/csv", 400, "'\\t5' is not a number"),
        (",".join(["1"] * 29) + ", -5", "text/csv", 400, "' -5' is not a number"),
        (",".join(["1"] * 29) + ",- 5", "text/csv", 400, "'- 5' is not a number"),
        (",".join(["1"] * 29) + ", ", "text/csv", 400, "' ' is not a number (digits with an optional sign"),
        (",".join(["1"] * 29) + ", ", "text/csv", 400, "leave a missing value's cell empty"),
        ('"1_0",' + ",".join(["1"] * 29), "text/csv", 400, "row 1, column 1: '1_0' is not a number"),
        (",".join(["1"] * 29) + ",1e39", "text/csv", 400, "'1e39' is not a finite number within float32's range"),
        (",".join(["1"] * 29) + "," + "9" * 5000, "text/csv", 400, "'" + "9" * 37 + "...' is not"),
        (json.dumps([[1e39] + [1.0] * 29]), "application/json", 400, "within float32's range"),
        ("{not json", "application/json", 400, "malformed JSON"),
        ("[" * 100_000 + "]" * 100_000, "application/json", 400, "nested too deeply"),
        ("[" + "9" * 5000 + "]", "application/json", 400, "has 5000 digits: it is outside float32's range"),
        ("[-" + "9" * 41 + "]", "application/json", 400, "has 42 digits"),
        ("[" + "9" * 39 + "]", "application/json", 400, "within float32's range"),
        ("[1e99999]", "application/json", 400, "within float32's range"),
        ("[" * 900 + "1" + "]" * 900, "application/json", 400, "row 1, feature 1: a list is not a number"),
        (json.dumps([[{"a": 1}] * 30]), "application/json", 400, "an object is not a number"),
        ('{"rows": []}', "application/json", 400, '"instances"'),
        ("[]", "application/json", 400, "non-empty list"),
        (json.dumps([[True] + [1.0] * 29]), "application/json", 400, "true is not a number"),
        (json.dumps([["1.0"] * 30]), "application/json", 400, '"1.0" is not a number'),
        (json.dumps({"instances": [[1.0] * 30, 5]}), "application/json", 400, "row 2 is not a list of numbers"),
        ("1,2", "application/x-npy", 415, "is not supported"),
        ("1,2", None, 415, "(none)"),
        (b"\xff\xfe", "text/csv", 400, "not UTF-8"),
    ],
)
def test_bad_requests_get_4xx_with_a_clear_message(handler, model, body, content_type, status, message):
    with pytest.raises(handler.RequestError) as err:
        _invoke(handler, model, body, content_type)
    assert err.value.status_code == status and message in err.value.message


def test_unsupported_accept_is_406(handler, model, rows):
    with pytest.raises(handler.RequestError) as err:
        _invoke(handler, model, ",".join(rows.iloc[0]), "text/csv", "application/x-recordio-protobuf")
    assert err.value.status_code == 406


def test_model_and_contract_must_agree(handler, model_dir, tmp_path, monkeypatch):
    contract = json.loads((model_dir / "code" / "data_contract.json").read_text())
    contract["features"] = contract["features"][:10]
    path = tmp_path / "contract.json"
    path.write_text(json.dumps(contract))
    monkeypatch.setenv("MLOPS_DATA_CONTRACT", str(path))
    with pytest.raises(ValueError, match="expects 30 features but the data contract lists 10"):
        handler.model_fn(str(model_dir))


class _Request:
    def __init__(self, headers):
        self.headers = headers

    def get_request_properties(self):
        return self.headers


class _Context:
    """The slice of Multi Model Server's context that sagemaker-inference's Transformer uses."""

    def __init__(self, model_dir, headers):
        self.system_properties = {"model_dir": str(model_dir)}
        self.request_processor = [_Request(headers)]
        self.status = None
        self.content_type = None

    def set_response_status(self, code, phrase):
        self.status = (code, phrase)

    def set_response_content_type(self, index, content_type):
        self.content_type = content_type


@pytest.fixture(scope="module")
def transformer(model_dir):
    from sagemaker_inference import default_inference_handler
    from sagemaker_inference.transformer import Transformer

    class NoDefaults(default_inference_handler.DefaultInferenceHandler):
        pass

    mp = pytest.MonkeyPatch()
    mp.setenv("SAGEMAKER_PROGRAM", "inference.py")
    mp.syspath_prepend(str(model_dir / "code"))
    sys.modules.pop("inference", None)  # the bundled handler, not the repo's package
    yield Transformer(default_inference_handler=NoDefaults())
    sys.modules.pop("inference", None)
    mp.undo()


def test_through_the_toolkits_transformer(transformer, model_dir, rows):
    ok = _Context(model_dir, {"Content-Type": "text/csv", "Accept": "*/*"})
    [body] = transformer.transform([{"body": ",".join(rows.iloc[0]).encode()}], ok)
    assert ok.status is None and ok.content_type == "text/csv" and body.count(",") == 2

    bad = _Context(model_dir, {"Content-Type": "text/csv"})
    transformer.transform([{"body": b"1,2,3"}], bad)
    assert bad.status[0] == 400 and "expected 30 features" in bad.status[1]

    unsupported = _Context(model_dir, {"Content-Type": "image/png"})
    transformer.transform([{"body": b"\x89PNG"}], unsupported)
    assert unsupported.status[0] == 415
