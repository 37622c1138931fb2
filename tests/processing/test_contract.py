import json

import numpy as np
import pytest

from processing.contract import ContractError, load_contract

pytestmark = pytest.mark.image


def test_bundled_contract_describes_wdbc(contract):
    assert contract.dataset == "breast-cancer-wdbc"
    assert len(contract.features) == 30 and contract.features[0] == "mean radius"
    assert (contract.review_lower, contract.review_upper) == (0.1, 0.9)
    assert contract.decision_threshold == 0.5
    assert contract.split.traffic_fraction == 0.2 and contract.split.random_state == 42


def test_malignant_is_the_positive_class_although_scikit_learn_codes_it_0(contract):
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer()
    assert list(data.target_names) == ["malignant", "benign"]  # scikit-learn: 0 = malignant
    names = np.asarray(data.target_names)[data.target]
    labels = contract.encode_labels(names)
    # Row 0 is WDBC record 842302, diagnosis M: malignant must become 1 here.
    assert names[0] == "malignant" and labels[0] == 1
    assert labels.sum() == 212 and (labels == 0).sum() == 357
    assert np.array_equal(labels, 1 - data.target)


def test_unknown_label_values_are_named(contract):
    with pytest.raises(ContractError, match=r"'M'.*expected 'malignant' \(encoded 1\)"):
        contract.encode_labels(["malignant", "M"])


def test_review_band_excludes_its_bounds(contract):
    p = np.array([0.05, 0.1, 0.1000001, 0.5, 0.8999999, 0.9, 0.95])
    assert contract.needs_review(p).tolist() == [False, False, True, True, True, False, False]


def _write(tmp_path, doc) -> str:
    path = tmp_path / "contract.json"
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return str(path)


def vars_of_default() -> dict:
    from processing.contract import DEFAULT_PATH

    return json.loads(DEFAULT_PATH.read_text())


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.pop("features"), "missing 'features'"),
        (lambda d: d.update(features=[]), "non-empty list"),
        (lambda d: d.update(features=["a", "a"]), "twice"),
        (lambda d: d["features"].append("diagnosis"), "also listed as a feature"),
        (lambda d: d["review"].update(lower=0.9, upper=0.1), "must be below"),
        (lambda d: d["review"].update(upper=1.5), "strictly between 0 and 1"),
        (lambda d: d["label"].update(negative="malignant"), "must differ"),
        (lambda d: d["split"].update(random_state="42"), "must be a int"),
        (lambda d: d["split"].update(test_fraction=0.6, validation_fraction=0.5), "must be below 1"),
        (lambda d: d.update(decision_threshold=True), "must be a int/float"),
    ],
)
def test_invalid_contracts_are_refused_with_the_reason(tmp_path, mutate, message):
    doc = vars_of_default()
    mutate(doc)
    with pytest.raises(ContractError, match=message):
        load_contract(_write(tmp_path, doc))


def test_unreadable_contract_files(tmp_path, monkeypatch):
    with pytest.raises(ContractError, match="not found"):
        load_contract(tmp_path / "missing.json")
    with pytest.raises(ContractError, match="not valid JSON"):
        load_contract(_write(tmp_path, "{nope"))
    monkeypatch.setenv("MLOPS_DATA_CONTRACT", _write(tmp_path, ["a list"]))
    with pytest.raises(ContractError, match="JSON object"):
        load_contract()
