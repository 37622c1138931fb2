import numpy as np
import pandas as pd
import pytest

from processing import preprocess
from processing.preprocess import InputError, load_wdbc, split, to_model_frame

pytestmark = pytest.mark.image
CHANNELS = ("train", "validation", "test", "traffic")


def _read(path):
    return pd.read_csv(path, header=None)


def test_splits_on_the_real_data(splits_dir, contract):
    frames = {name: _read(splits_dir / name / f"{name}.csv") for name in CHANNELS}
    assert len(frames["traffic"]) == 114  # the seed notebook's 114 requests
    assert sum(len(frames[n]) for n in ("train", "validation", "test")) == 455
    assert (len(frames["test"]), len(frames["validation"])) == (69, 69)
    for frame in frames.values():
        assert frame.shape[1] == 31 and set(frame[0]) <= {0, 1}  # label first, then 30 features
    # Every source row appears exactly once across the four splits.
    rows = pd.concat(frames.values()).iloc[:, 1:].round(6).apply(tuple, axis=1)
    assert rows.is_unique and len(rows) == 569
    requests = _read(splits_dir / "traffic" / "requests.csv")
    assert requests.shape == (114, 30)
    assert np.allclose(requests.to_numpy(), frames["traffic"].iloc[:, 1:].to_numpy())


def test_traffic_rows_are_the_seed_notebooks_test_set(splits_dir, contract):
    from sklearn.model_selection import train_test_split

    raw = load_wdbc(contract)
    _, seed_test = train_test_split(raw, test_size=0.2, random_state=42)
    traffic = _read(splits_dir / "traffic" / "requests.csv").to_numpy()
    assert np.allclose(traffic, seed_test[list(contract.features)].to_numpy())


def test_training_data_is_stratified_and_encoded(splits_dir):
    train = _read(splits_dir / "train" / "train.csv")
    test = _read(splits_dir / "test" / "test.csv")
    # 212 of 569 are malignant (1): each split keeps roughly that share.
    for frame in (train, test):
        assert 0.3 < frame[0].mean() < 0.45


def test_a_csv_input_with_other_columns_and_named_labels(tmp_path, contract):
    raw = load_wdbc(contract)
    raw.insert(0, "id", range(len(raw)))
    src = tmp_path / "in" / "wdbc.csv"
    src.parent.mkdir()
    raw.to_csv(src, index=False)
    out = {name: tmp_path / name for name in CHANNELS}
    counts = preprocess.run(contract, src.parent, None, out)
    assert counts == {"train": 317, "validation": 69, "test": 69, "traffic": 114}


def test_reviewed_rows_join_train_only(tmp_path, splits_dir, contract):
    labels = tmp_path / "labels"
    labels.mkdir()
    reviewed = _read(splits_dir / "traffic" / "traffic.csv").head(5)
    reviewed.to_csv(labels / "reviewed-1.csv", header=False, index=False)
    (labels / "README.txt").write_text("not data")
    out = {name: tmp_path / name for name in CHANNELS}
    counts = preprocess.run(contract, None, labels, out)
    assert counts["train"] == 317 + 5 and counts["test"] == 69 and counts["traffic"] == 114


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda f: f.drop(columns=["mean radius"]), "lacks 1 column"),
        (lambda f: f.assign(**{"mean texture": "abc"}), "'abc' is not a number"),
        (lambda f: f.assign(diagnosis="M"), "'M'"),
        (lambda f: f.head(0), "no rows"),
        (lambda f: f.head(6), "too few"),
    ],
)
def test_bad_input_is_refused_with_the_reason(contract, edit, message):
    raw = edit(load_wdbc(contract).astype(str))
    with pytest.raises(InputError, match=message):
        split(to_model_frame(raw, contract), contract)


def test_bad_reviewed_rows(tmp_path, splits_dir, contract):
    labels = tmp_path / "labels"
    labels.mkdir()
    (labels / "bad.csv").write_text("2," + ",".join(["1.0"] * 30) + "\n")
    with pytest.raises(InputError, match="0 or 1"):
        preprocess.run(contract, None, labels, {n: tmp_path / n for n in CHANNELS})
    (labels / "bad.csv").write_text("1,2,3\n")
    with pytest.raises(InputError, match="3 columns, expected 31"):
        preprocess.run(contract, None, labels, {n: tmp_path / n for n in CHANNELS})


def test_cli_exit_codes(tmp_path, capsys):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    args = [f"--{n}-dir={tmp_path / n}" for n in CHANNELS]
    assert preprocess.main(["--input-data", str(empty), "--human-labels", "", *args]) == 2
    assert "is empty" in capsys.readouterr().err
    assert not (tmp_path / "train").exists()  # nothing half-written
    assert preprocess.main(["--input-data", "", "--human-labels", "", *args]) == 0
    assert "traffic=114" in capsys.readouterr().out
