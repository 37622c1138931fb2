"""Preprocess: raw data -> train / validation / test channels and the held-out production traffic.

Runs as the pipeline's first Processing step (on the XGBoost 3.0-5 image) and as a local
subprocess. Every path comes from an argument whose default is the container path.

Split (data contract `split`): first `traffic_fraction` of all rows is held out as production
traffic (test_size=0.2, random_state=42 gives the seed notebook's 114 requests); it is never used
for training or evaluation. The rest is split, stratified by label, into test, validation and
train. Human-reviewed rows (the review collector's output) are added to train only, so test
metrics stay comparable across model versions.

Outputs follow the built-in XGBoost algorithm's CSV convention: label first, no header.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

if __package__ in (None, ""):  # run as a script from a checkout; in a job the package sits beside it
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from processing.contract import ContractError, DataContract, load_contract

CONTAINER = Path("/opt/ml/processing")


class InputError(ValueError):
    """The input data does not match the data contract."""


@dataclass
class Splits:
    train: pd.DataFrame  # label (0/1) first, then the features
    validation: pd.DataFrame
    test: pd.DataFrame
    traffic: pd.DataFrame  # label (0/1) first, then the features; the label is never sent


def load_raw(contract: DataContract, input_path: Path | None) -> pd.DataFrame:
    """The raw rows: a CSV file or folder of CSVs with a header, else the contract's built-in source."""
    if input_path is not None and _csv_files(input_path):
        frames = [_read_csv(f) for f in _csv_files(input_path)]
        return pd.concat(frames, ignore_index=True)
    if contract.source in BUILTIN_SOURCES:
        return BUILTIN_SOURCES[contract.source](contract)
    where = f" in {input_path}" if input_path is not None else ""
    raise InputError(f"no input CSV found{where}, and the contract names no built-in source")


def load_wdbc(contract: DataContract) -> pd.DataFrame:
    """scikit-learn's copy of UCI WDBC, with the label as class names (scikit-learn's 0 = malignant)."""
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer()
    frame = pd.DataFrame(data.data, columns=list(data.feature_names))
    frame.insert(0, contract.label_column, np.asarray(data.target_names)[data.target])
    return frame


# The contract's `source` names one of these; anything else means "the input CSV is required".
BUILTIN_SOURCES = {"sklearn:load_breast_cancer": load_wdbc}


def to_model_frame(raw: pd.DataFrame, contract: DataContract) -> pd.DataFrame:
    """Select the contract's columns, encode the label (1 = positive) and check every value."""
    missing = [c for c in (contract.label_column, *contract.features) if c not in raw.columns]
    if missing:
        shown = ", ".join(repr(c) for c in missing[:5])
        raise InputError(f"input lacks {len(missing)} column(s) the data contract names: {shown}")
    if raw.empty:
        raise InputError("input has a header but no rows")
    features = raw[list(contract.features)].apply(pd.to_numeric, errors="coerce")
    bad = features.isna() & raw[list(contract.features)].notna()
    if bad.to_numpy().any():
        row, col = np.argwhere(bad.to_numpy())[0]
        value = raw[list(contract.features)].iat[row, col]
        raise InputError(f"row {row + 1}, column {contract.features[col]!r}: {value!r} is not a number")
    try:
        labels = contract.encode_labels(raw[contract.label_column])
    except ContractError as e:
        raise InputError(str(e)) from e
    frame = features.astype(np.float64)
    frame.insert(0, "label", labels)
    return frame.reset_index(drop=True)


def split(frame: pd.DataFrame, contract: DataContract) -> Splits:
    """Hold out production traffic first, then split the rest into train / validation / test."""
    s = contract.split
    modelling, traffic = train_test_split(frame, test_size=s.traffic_fraction, random_state=s.random_state)
    n = len(modelling)
    n_test = int(np.ceil(s.test_fraction * n))
    n_validation = int(np.ceil(s.validation_fraction * n))
    if n - n_test - n_validation < 2 or min(n_test, n_validation) < 2:
        raise InputError(f"{len(frame)} rows are too few to split into traffic, train, validation and test")
    rest, test = train_test_split(
        modelling, test_size=n_test, random_state=s.random_state, stratify=_strata(modelling, n_test)
    )
    train, validation = train_test_split(
        rest, test_size=n_validation, random_state=s.random_state, stratify=_strata(rest, n_validation)
    )
    return Splits(train=train, validation=validation, test=test, traffic=traffic)


def add_reviewed_rows(train: pd.DataFrame, labels_path: Path | None, contract: DataContract) -> pd.DataFrame:
    """Append human-reviewed rows (label first, then the features, no header) to train."""
    files = _csv_files(labels_path) if labels_path is not None else []
    if not files:
        return train
    width = 1 + len(contract.features)
    frames = []
    for f in files:
        rows = pd.read_csv(f, header=None)
        if rows.shape[1] != width:
            raise InputError(f"{f.name}: reviewed rows have {rows.shape[1]} columns, expected {width} (label first)")
        if not rows[0].isin([0, 1]).all():
            raise InputError(f"{f.name}: the first column must be the reviewed label, 0 or 1")
        frames.append(rows.set_axis(list(train.columns), axis=1))
    return pd.concat([train, *frames], ignore_index=True)


def write_splits(splits: Splits, out: dict[str, Path]) -> dict[str, int]:
    """Write each split as `<name>.csv` (label first, no header); traffic also as features-only rows."""
    counts = {}
    for name in ("train", "validation", "test", "traffic"):
        frame = getattr(splits, name)
        out[name].mkdir(parents=True, exist_ok=True)
        frame.to_csv(out[name] / f"{name}.csv", header=False, index=False)
        counts[name] = len(frame)
    # What clients send: features only, one request per line, as the seed notebook's mm.csv.
    splits.traffic.drop(columns="label").to_csv(out["traffic"] / "requests.csv", header=False, index=False)
    return counts


def run(contract: DataContract, input_path: Path | None, labels_path: Path | None, out: dict[str, Path]) -> dict:
    frame = to_model_frame(load_raw(contract, input_path), contract)
    splits = split(frame, contract)
    splits.train = add_reviewed_rows(splits.train, labels_path, contract)
    return write_splits(splits, out)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    out = {name: Path(getattr(args, f"{name}_dir")) for name in ("train", "validation", "test", "traffic")}
    try:
        contract = load_contract(args.contract)
        counts = run(contract, _optional(args.input_data), _optional(args.human_labels), out)
    except (InputError, ContractError) as e:
        print(f"preprocess: {e}", file=sys.stderr)
        return 2
    print("preprocess: " + ", ".join(f"{name}={n}" for name, n in counts.items()))
    return 0


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--input-data", default=str(CONTAINER / "input" / "data"), help="CSV file or folder")
    p.add_argument("--human-labels", default=str(CONTAINER / "input" / "labels"), help="reviewed rows")
    p.add_argument("--contract", default=None, help="data contract JSON (default: the bundled one)")
    for name in ("train", "validation", "test", "traffic"):
        p.add_argument(f"--{name}-dir", default=str(CONTAINER / name))
    return p


def _optional(path: str | None) -> Path | None:
    return Path(path) if path else None


def _csv_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if path.is_dir():
        return sorted(p for p in path.rglob("*.csv") if p.is_file())
    return []


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except (pd.errors.ParserError, UnicodeDecodeError) as e:
        raise InputError(f"{path.name} is not a readable CSV: {e}") from e
    except pd.errors.EmptyDataError as e:
        raise InputError(f"{path.name} is empty") from e


def _strata(frame: pd.DataFrame, n_held_out: int):
    """Stratify by label when every class can appear on both sides; else a plain random split."""
    counts = frame["label"].value_counts()
    return frame["label"] if len(counts) > 1 and counts.min() >= 2 and n_held_out >= len(counts) else None


if __name__ == "__main__":
    sys.exit(main())
