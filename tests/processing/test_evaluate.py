import json
import tarfile

import numpy as np
import pandas as pd
import pytest

from processing import evaluate
from processing.evaluate import EvaluationError

pytestmark = pytest.mark.image


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory, splits_dir, model_tar, contract):
    out = tmp_path_factory.mktemp("evaluate")
    report = evaluate.run(
        contract, model_tar, splits_dir / "test", splits_dir / "train", out / "ev", out / "dq", out / "mq"
    )
    return out, report


def test_evaluation_matches_scikit_learn(evaluated, splits_dir, model_tar):
    from sklearn.metrics import accuracy_score, roc_auc_score

    out, report = evaluated
    saved = json.loads((out / "ev" / "evaluation.json").read_text())
    assert saved == report
    metrics = saved["binary_classification_metrics"]
    test = pd.read_csv(splits_dir / "test" / "test.csv", header=None)
    booster = evaluate.load_booster(model_tar)
    p = booster.inplace_predict(test.iloc[:, 1:].to_numpy(np.float32))
    assert saved["dataset"]["item_count"] == 69
    assert metrics["auc"]["value"] == pytest.approx(roc_auc_score(test[0], p))
    assert metrics["accuracy"]["value"] == pytest.approx(accuracy_score(test[0], p >= 0.5))
    assert metrics["auc"]["value"] >= 0.95


def test_data_quality_dataset_has_the_capture_shape(evaluated, splits_dir, contract):
    out, _ = evaluated
    rows = pd.read_csv(out / "dq" / "dataset.csv", header=None)
    train = pd.read_csv(splits_dir / "train" / "train.csv", header=None)
    assert rows.shape == (len(train), 3 + 30)  # probability, label, needs-review, then the features
    p = rows[0].to_numpy()
    assert ((p >= 0) & (p <= 1)).all()
    assert (rows[1] == (p >= 0.5)).all()
    assert (rows[2] == ((p > 0.1) & (p < 0.9))).all()
    assert np.allclose(rows.iloc[:, 3:].to_numpy(), train.iloc[:, 1:].to_numpy())


def test_model_quality_dataset_is_probability_then_label(evaluated, splits_dir):
    out, _ = evaluated
    rows = pd.read_csv(out / "mq" / "dataset.csv", header=None)
    test = pd.read_csv(splits_dir / "test" / "test.csv", header=None)
    assert rows.shape == (69, 2) and (rows[1] == test[0]).all()


def test_missing_and_malformed_inputs(tmp_path, splits_dir, model_tar, contract):
    def run(model, test):
        return evaluate.run(contract, model, test, splits_dir / "train", tmp_path / "e", tmp_path / "d", tmp_path / "m")

    with pytest.raises(EvaluationError, match="no model.tar.gz"):
        run(tmp_path / "nothing", splits_dir / "test")
    bad_tar = tmp_path / "bad.tar.gz"
    with tarfile.open(bad_tar, "w:gz") as tar:
        tar.add(splits_dir / "test" / "test.csv", arcname="other-file")
    with pytest.raises(EvaluationError, match="holds no xgboost-model"):
        run(bad_tar, splits_dir / "test")
    narrow = tmp_path / "narrow.csv"
    narrow.write_text("1,2,3\n")
    with pytest.raises(EvaluationError, match="3 columns"):
        run(model_tar, narrow)
    assert evaluate.main(["--model", str(tmp_path / "nothing"), "--evaluation-dir", str(tmp_path / "x")]) == 2
