"""The shadow comparison: v1 and v2 score the same labelled captured traffic, the rows people reviewed.

Both versions are the registered artifacts, loaded with their own inference handler (`model_fn`,
`input_fn`, `predict_fn`, `output_fn` from each model.tar.gz, as the endpoint host loads them) and sent the
rows as one CSV request; the labels are the reviewers' consensus (the collector's labelled rows). v2 was
trained with these rows, so this shows what retraining did on the traffic that needed people; the held-out
test split (`retrain.metrics`) is the unbiased comparison.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from offline.demo.common import DemoError
from offline.demo.stopwatch import STOPWATCH

METRICS = ("accuracy", "auc", "precision", "recall", "f1", "true_positive_rate", "false_positive_rate")


def compare(home: Path, labels_uri: str, flow_name: str, versions: dict[str, str]) -> dict:
    """`versions`: name -> model data URI. Metrics of each on the reviewed rows."""
    from offline.store import ObjectStore
    from processing.metrics import binary_classification_metrics

    store = ObjectStore.for_home(home)
    rows = [
        line
        for uri in store.list(f"{labels_uri.rstrip('/')}/{flow_name}/")
        if uri.endswith(".csv")
        for line in store.get_bytes(uri).decode().splitlines()
        if line.strip()
    ]
    if not rows:
        raise DemoError(f"no labelled rows under {labels_uri}/{flow_name} to compare the versions on")
    labels = np.array([int(float(row.split(",", 1)[0])) for row in rows])
    body = "\n".join(row.split(",", 1)[1] for row in rows).encode()
    out: dict = {"rows": len(rows), "labels": "reviewers' consensus", "labels_uri": labels_uri}
    with STOPWATCH.part("shadow: score v1 and v2"):
        for name, model_data in versions.items():
            probabilities = _score(home, model_data, body)
            metrics = binary_classification_metrics(labels, probabilities)
            out[name] = {key: round(float(metrics[key]["value"]), 4) for key in METRICS}
            out[name]["confusion_matrix"] = metrics["confusion_matrix"]
            out[name]["model_data_uri"] = model_data
    return out


def _score(home: Path, model_data: str, body: bytes) -> np.ndarray:
    from offline.endpoint.artifact import ArtifactError, extract_archive, locate_archive
    from offline.endpoint.handler import HandlerLoadError, load_handler

    with tempfile.TemporaryDirectory(dir=home / "tmp") as scratch:
        try:
            model_dir = extract_archive(locate_archive(model_data, home), Path(scratch))
            handler = load_handler(model_dir, {})
        except (ArtifactError, HandlerLoadError) as e:
            raise DemoError(f"cannot load {model_data} for the shadow comparison: {e}") from e
        answer = handler.invoke(body, "text/csv", "text/csv")
    if answer.status != 200:
        raise DemoError(f"{model_data} refused the shadow rows: {answer.body[:200]!r}")
    return np.array([float(line.split(",", 1)[0]) for line in answer.body.decode().splitlines() if line.strip()])
