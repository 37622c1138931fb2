"""Evaluate: the trained model on the test rows, plus the two datasets the baselines are built from.

Writes
- `evaluation.json`: Model Monitor's model-quality statistics shape (`binary_classification_metrics`
  with AUC, accuracy, …), read by the pipeline's quality gate through a PropertyFile and registered
  as the package's ModelQuality statistics;
- the data-quality baseline dataset, in the shape Model Monitor builds from captured traffic:
  the endpoint's output columns first (probability, predicted label, needs-review flag, exactly as
  the inference handler answers CSV), then the features, no header (so `_c0…`), on the training
  rows. Building it from train.csv, label first, gives a spurious data_type_check (DESIGN §6);
- the model-quality baseline dataset: probability and label on the test rows (`_c0`, `_c1`).

Loads `xgboost-model` from model.tar.gz with `Booster.load_model` (a native XGBoost file, not a
pickle, since image 1.3-1). Paths come from arguments; the defaults are the container paths.
"""

from __future__ import annotations

import argparse
import json
import sys
import tarfile
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import xgboost as xgb

if __package__ in (None, ""):  # run as a script from a checkout; in a job the package sits beside it
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from processing.contract import ContractError, DataContract, load_contract
from processing.metrics import binary_classification_metrics

CONTAINER = Path("/opt/ml/processing")
MODEL_FILE = "xgboost-model"


class EvaluationError(ValueError):
    """An input of the evaluation is missing or malformed."""


def load_booster(model_path: Path) -> xgb.Booster:
    """The booster from a model.tar.gz (or a folder holding one, or the bare model file)."""
    if model_path.is_dir():
        archives = sorted(model_path.glob("*.tar.gz"))
        model_path = archives[0] if archives else model_path / MODEL_FILE
    if not model_path.exists():
        raise EvaluationError(f"no model.tar.gz or {MODEL_FILE} at {model_path}")
    booster = xgb.Booster()
    if model_path.name.endswith(".tar.gz"):
        with tarfile.open(model_path, "r:gz") as archive:
            member = next((m for m in archive.getmembers() if m.name.lstrip("./") == MODEL_FILE), None)
            if member is None or not member.isfile():
                raise EvaluationError(f"{model_path.name} holds no {MODEL_FILE}")
            model_bytes = archive.extractfile(member).read()  # read, never extract paths from the archive
        with tempfile.TemporaryDirectory() as tmp:
            (Path(tmp) / MODEL_FILE).write_bytes(model_bytes)
            booster.load_model(str(Path(tmp) / MODEL_FILE))
    else:
        booster.load_model(str(model_path))
    booster.set_param({"nthread": 1})
    return booster


def read_labelled(path: Path, contract: DataContract) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """A label-first, header-less CSV: (labels, feature matrix, the feature cells as written)."""
    if path.is_dir():
        files = sorted(path.glob("*.csv"))
        if not files:
            raise EvaluationError(f"no CSV file in {path}")
        path = files[0]
    try:
        raw = pd.read_csv(path, header=None, dtype=str, keep_default_na=False)
    except (FileNotFoundError, pd.errors.EmptyDataError) as e:
        raise EvaluationError(f"cannot read {path}: {e}") from e
    if raw.shape[1] != 1 + len(contract.features):
        raise EvaluationError(f"{path.name} has {raw.shape[1]} columns, expected label + {len(contract.features)}")
    labels = pd.to_numeric(raw[0], errors="coerce").to_numpy()
    if not np.isin(labels, (0, 1)).all():
        raise EvaluationError(f"{path.name}: the first column must be the 0/1 label")
    features = raw.iloc[:, 1:]
    matrix = features.replace("", np.nan).astype(np.float32).to_numpy()
    return labels.astype(np.int64), matrix, features


def evaluation_report(labels: np.ndarray, probabilities: np.ndarray, contract: DataContract) -> dict:
    """Model Monitor's model-quality statistics document for these predictions."""
    return {
        "version": 0.0,
        "dataset": {"item_count": len(labels)},
        "binary_classification_metrics": binary_classification_metrics(
            labels, probabilities, threshold=contract.decision_threshold
        ),
    }


def data_quality_dataset(probabilities: np.ndarray, features: pd.DataFrame, contract: DataContract) -> pd.DataFrame:
    """Rows as the capture will hold them: probability, label, needs-review flag, then the features."""
    outputs = pd.DataFrame(
        {
            "probability": [repr(float(p)) for p in probabilities],
            "predicted_label": (probabilities >= contract.decision_threshold).astype(np.int64),
            "needs_review": contract.needs_review(probabilities).astype(np.int64),
        }
    )
    return pd.concat([outputs, features.reset_index(drop=True)], axis=1)


def model_quality_dataset(probabilities: np.ndarray, labels: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"probability": [repr(float(p)) for p in probabilities], "label": labels})


def run(
    contract: DataContract,
    model_path: Path,
    test_path: Path,
    train_path: Path,
    evaluation_dir: Path,
    data_quality_dir: Path,
    model_quality_dir: Path,
) -> dict:
    booster = load_booster(model_path)
    expected = len(contract.features)
    if booster.num_features() != expected:
        raise EvaluationError(f"the model expects {booster.num_features()} features, the contract lists {expected}")
    test_labels, test_matrix, _ = read_labelled(test_path, contract)
    _, train_matrix, train_features = read_labelled(train_path, contract)
    test_p = booster.inplace_predict(test_matrix).astype(np.float64)
    train_p = booster.inplace_predict(train_matrix).astype(np.float64)

    report = evaluation_report(test_labels, test_p, contract)
    for folder in (evaluation_dir, data_quality_dir, model_quality_dir):
        folder.mkdir(parents=True, exist_ok=True)
    (evaluation_dir / "evaluation.json").write_text(json.dumps(report, indent=2))
    data_quality_dataset(train_p, train_features, contract).to_csv(
        data_quality_dir / "dataset.csv", header=False, index=False
    )
    model_quality_dataset(test_p, test_labels).to_csv(model_quality_dir / "dataset.csv", header=False, index=False)
    return report


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        report = run(
            load_contract(args.contract),
            Path(args.model),
            Path(args.test),
            Path(args.train),
            Path(args.evaluation_dir),
            Path(args.data_quality_dir),
            Path(args.model_quality_dir),
        )
    except (EvaluationError, ContractError) as e:
        print(f"evaluate: {e}", file=sys.stderr)
        return 2
    metrics = report["binary_classification_metrics"]
    print(
        f"evaluate: {report['dataset']['item_count']} test rows, "
        f"auc={metrics['auc']['value']:.4f} accuracy={metrics['accuracy']['value']:.4f}"
    )
    return 0


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default=str(CONTAINER / "model"), help="model.tar.gz or its folder")
    p.add_argument("--test", default=str(CONTAINER / "test"), help="test.csv or its folder")
    p.add_argument("--train", default=str(CONTAINER / "train"), help="train.csv or its folder")
    p.add_argument("--evaluation-dir", default=str(CONTAINER / "evaluation"))
    p.add_argument("--data-quality-dir", default=str(CONTAINER / "baselines" / "data-quality"))
    p.add_argument("--model-quality-dir", default=str(CONTAINER / "baselines" / "model-quality"))
    p.add_argument("--contract", default=None, help="data contract JSON (default: the bundled one)")
    return p


if __name__ == "__main__":
    sys.exit(main())
