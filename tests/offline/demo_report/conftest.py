"""A demo run's home built from the real components, small enough for unit tests.

The real WDBC splits (preprocess) and the real XGBoost model with the repository's inference handler score
two windows of the held-out rows, one request each; the second window's rows are shifted with the traffic
replayer's own drift rule. The capture is written by the endpoint's capture encoder and writer, the
baselines and checks are the monitoring analyzer's, agreement is the portal's, metrics are evaluate.py's.
Nothing in the summary is typed in by hand except names and what the demo would have decided.
"""

from __future__ import annotations

import json
import tarfile
from dataclasses import asdict
from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest

BUCKET = "s3://sagemaker-us-east-1-123456789012"
ENDPOINT = "breast-cancer-demo"
CAPTURE = f"{BUCKET}/datacapture"
BASELINE = f"{BUCKET}/baselines/data-quality"
SHIFT = "mean radius:*1.6,mean texture:+60%,worst area:*2.2"
SHIFTED = ["mean radius", "mean texture", "worst area"]
REVIEWERS = ["ana", "ben", "cy"]
# Window 1 crosses an hour boundary, as a demo started at hh:59 does; window 2 starts ten seconds later.
STARTS = (datetime(2026, 3, 1, 9, 59, 50, tzinfo=timezone.utc), datetime(2026, 3, 1, 10, 0, 10, tzinfo=timezone.utc))


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(scope="module")
def handler_model(tmp_path_factory, model_tar):
    import inference.inference as handler

    model_dir = tmp_path_factory.mktemp("model-dir")
    with tarfile.open(model_tar) as tar:
        tar.extractall(model_dir, filter="data")
    return handler, handler.model_fn(str(model_dir))


def score(handler, model, rows: list[str]) -> tuple[list[bytes], np.ndarray]:
    """The handler's CSV answer to each one-row request, and the probabilities in it."""
    bodies, probabilities = [], []
    for row in rows:
        body, _ = handler.output_fn(handler.predict_fn(handler.input_fn(row, "text/csv"), model), "text/csv")
        bodies.append(body.encode())
        probabilities.append(float(body.split(",")[0]))
    return bodies, np.array(probabilities)


@pytest.fixture(scope="module")
def demo(tmp_path_factory, splits_dir, contract, handler_model):
    """(home, summary, facts): a home holding what a two-window demo leaves, and the figures it was built from."""
    from offline.endpoint.capture import CaptureWriter, RecordEncoder, capture_directory
    from offline.endpoint.settings import CaptureSettings
    from offline.store import ObjectStore
    from offline.traffic import drift_row, parse_drift
    from processing.evaluate import data_quality_dataset, evaluation_report, model_quality_dataset
    from processing.monitoring.api import suggest_baseline
    from processing.monitoring.checks.api import run_data_quality_check, run_model_quality_check
    from processing.monitoring.model_quality import ModelQualityAttributes, suggest_model_quality_baseline
    from processing.monitoring.readers import DatasetFormat
    from processing.review.consensus import consensus
    from review.portal.agreement import agreement

    handler, model = handler_model
    home = tmp_path_factory.mktemp("demo") / "home"
    work = tmp_path_factory.mktemp("work")
    store = ObjectStore.for_home(home)

    # v1's baselines, as evaluate.py and the baseline steps make them
    train = pd.read_csv(splits_dir / "train" / "train.csv", header=None)
    cells = pd.read_csv(splits_dir / "train" / "train.csv", header=None, dtype=str, keep_default_na=False)
    _, train_p = score(handler, model, _requests(splits_dir / "train" / "train.csv"))
    dataset = work / "baseline.csv"
    data_quality_dataset(train_p, cells.iloc[:, 1:], contract).to_csv(dataset, header=False, index=False)
    suggest_baseline(dataset, DatasetFormat("csv", header=False), work / "baseline")
    for name in ("statistics.json", "constraints.json"):
        store.put_file(f"{BASELINE}/{name}", work / "baseline" / name)
    test = pd.read_csv(splits_dir / "test" / "test.csv", header=None)
    _, test_p = score(handler, model, _requests(splits_dir / "test" / "test.csv"))
    mq_dataset = work / "model-quality-baseline.csv"
    model_quality_dataset(test_p, test.iloc[:, 0].to_numpy()).to_csv(mq_dataset, index=False)
    attributes = ModelQualityAttributes(ground_truth_attribute="label", probability_attribute="probability")
    suggest_model_quality_baseline(mq_dataset, DatasetFormat("csv"), work / "mq-baseline", attributes)

    # two windows through the endpoint's capture encoder and writer
    traffic = pd.read_csv(splits_dir / "traffic" / "traffic.csv", header=None)
    labels = traffic.iloc[:, 0].astype(int).to_numpy()
    requests = _requests(splits_dir / "traffic" / "traffic.csv")
    changes = parse_drift(SHIFT, contract.features)
    windows = [("demo-w1", requests), ("demo-w2", [",".join(drift_row(r.split(","), changes)) for r in requests])]
    settings = CaptureSettings(destination=CAPTURE)
    writer = CaptureWriter(capture_directory(settings, ENDPOINT, "AllTraffic", home), settings)
    encoder = RecordEncoder(settings)
    facts: dict = {"labels": labels, "probabilities": [], "windows": []}
    for (prefix, rows), start in zip(windows, STARTS, strict=True):
        bodies, probabilities = score(handler, model, rows)
        for number, (row, body) in enumerate(zip(rows, bodies, strict=True), start=1):
            when = start.timestamp() + number * 0.1  # 114 requests over 11.4 s
            line = encoder.encode(when, "text/csv", row.encode(), "text/csv", body, f"{prefix}-{number:06d}")
            writer.submit(when, line)
        facts["probabilities"].append(probabilities)
    writer.close()

    summary_windows, monitoring = [], []
    for index, ((prefix, rows), start) in enumerate(zip(windows, STARTS, strict=True), start=1):
        end = start + timedelta(seconds=13)
        report_uri = f"{BUCKET}/monitoring/{ENDPOINT}/window-{index}"
        out = work / f"window-{index}"
        result = run_data_quality_check(
            baseline_constraints=work / "baseline" / "constraints.json",
            baseline_statistics=work / "baseline" / "statistics.json",
            output_dir=out,
            capture_uri=str(store.path(f"{CAPTURE}/{ENDPOINT}")),
            start=start,
            end=end,
        )
        store.put_dir(report_uri, out)
        facts["windows"].append(result)
        drift = [
            v.document() for v in result.violations if v.document()["constraint_check_type"] == "baseline_drift_check"
        ]
        summary_windows.append(
            {
                "name": f"window {index}",
                "start": iso(start),
                "end": iso(end),
                "inference_id_prefix": prefix,
                "requests": len(rows),
                "shifted_features": SHIFTED if index == 2 else [],
                "drift_features": [],  # filled by the tests that need the demo's own naming
                "violations": [
                    {k: d[k] for k in ("feature_name", "constraint_check_type", "description")}
                    for d in (v.document() for v in result.violations)
                ],
                "report_uri": report_uri,
                "baseline_statistics_uri": f"{BASELINE}/statistics.json",
                "baseline_constraints_uri": f"{BASELINE}/constraints.json",
            }
        )
        monitoring.append(
            {
                "window": iso(start),
                "kind": "data-quality",
                "status": result.status,
                "items": result.item_count,
                "violations": [{"feature_name": d["feature_name"]} for d in drift],
                "report_uri": report_uri,
            }
        )

    # human review of window 1: three reviewers, two answers a loop, a tie escalated to the third
    p1 = facts["probabilities"][0]
    loops = [i for i, p in enumerate(p1) if contract.review_lower < p < contract.review_upper] + [0, 1, 2]
    answers: dict[str, dict[str, int]] = {}
    for n, i in enumerate(loops):
        truth = int(labels[i])
        given = {REVIEWERS[n % 3]: truth, REVIEWERS[(n + 1) % 3]: truth if n % 4 else 1 - truth}
        if len(set(given.values())) > 1:
            given[REVIEWERS[(n + 2) % 3]] = truth
        answers[f"loop-{i}"] = given
    outcomes = {loop: consensus(given.values()) for loop, given in answers.items()}
    reviewed = [int(loop.split("-")[1]) for loop in answers]
    corrections = sum(
        1 for i in reviewed if outcomes[f"loop-{i}"].label not in (None, int(p1[i] >= contract.decision_threshold))
    )
    mq_window = work / "reviewed.csv"
    model_quality_dataset(p1[reviewed], labels[reviewed]).to_csv(mq_window, index=False)
    mq = run_model_quality_check(
        baseline_constraints=work / "mq-baseline" / "constraints.json",
        output_dir=work / "model-quality",
        attributes=attributes,
        dataset=mq_window,
        fmt=DatasetFormat("csv"),
    )
    mq_uri = f"{BUCKET}/monitoring/{ENDPOINT}/model-quality-1"
    store.put_dir(mq_uri, work / "model-quality")
    monitoring.append(
        {
            "window": iso(STARTS[0]),
            "kind": "model-quality",
            "status": mq.status,
            "items": mq.item_count,
            "violations": [
                {
                    "feature_name": v.document()["metric_name"],
                    "constraint_check_type": v.document()["constraint_check_type"],
                }
                for v in mq.violations
            ],
            "report_uri": mq_uri,
        }
    )
    facts.update(review_loops=len(loops) - 3, corrections=corrections, model_quality=mq)

    # v2: the seed's XGBoost on the training rows plus the reviewed ones; both on the test rows and on window 2
    import xgboost as xgb

    from tests.conftest import SEED_HYPERPARAMETERS

    features_w1 = np.array([[float(x) for x in r.split(",")] for r in requests])
    x2 = np.vstack([train.iloc[:, 1:].to_numpy(), features_w1[reviewed]])
    y2 = np.concatenate([train.iloc[:, 0].to_numpy(), labels[reviewed]])
    v2 = xgb.train(SEED_HYPERPARAMETERS, xgb.DMatrix(x2, label=y2), num_boost_round=100)
    test_v2 = v2.inplace_predict(test.iloc[:, 1:].to_numpy()).astype(np.float64)
    v1_metrics = evaluation_report(test.iloc[:, 0].to_numpy(), test_p, contract)["binary_classification_metrics"]
    v2_metrics = evaluation_report(test.iloc[:, 0].to_numpy(), test_v2, contract)["binary_classification_metrics"]
    features_w2 = np.array([[float(x) for x in r.split(",")] for r in windows[1][1]])
    shadow = {}
    for version, probabilities in (
        ("v1", facts["probabilities"][1]),
        ("v2", v2.inplace_predict(features_w2).astype(np.float64)),
    ):
        metrics = evaluation_report(labels, probabilities, contract)["binary_classification_metrics"]
        shadow[version] = {k: metrics[k]["value"] for k in ("accuracy", "auc", "precision", "recall", "f1")}
    facts.update(v1_metrics=v1_metrics, v2_metrics=v2_metrics, shadow=shadow)

    summary = {
        "mlops_home": str(home),
        "endpoint": {
            "name": ENDPOINT,
            "requests": 2 * len(requests),
            "captured_records": 2 * len(requests),
            "capture_uri": f"{CAPTURE}/{ENDPOINT}",
        },
        "predictions": {"lower": contract.review_lower, "upper": contract.review_upper},
        "windows": summary_windows,
        "human_review": {
            "loops_started": len(loops),
            "review_loops": len(loops) - 3,
            "audit_loops": 3,
            "completed": len(loops),
            "reviewers": REVIEWERS,
            "task_count": 2,
            "answers": sum(len(given) for given in answers.values()),
            "escalated": sum(1 for given in answers.values() if len(given) == 3),
            "disputed": sum(1 for c in outcomes.values() if c.status == "disputed"),
            "agreement": asdict(agreement(answers)),
            "corrections": corrections,
        },
        "monitoring": monitoring,
        "retrain": {
            "metrics": v2_metrics,
            "previous_metrics": v1_metrics,
            "train_rows": len(y2),
            "previous_train_rows": len(train),
        },
        "shadow": {"rows": len(labels), **shadow},
        "deploys": [
            {
                "execution_arn": f"arn:aws:states:us-east-1:123456789012:execution:deploy:v{v}",
                "status": "SUCCEEDED",
                "model_package_arn": f"arn:aws:sagemaker:us-east-1:123456789012:model-package/breastcancer/{v}",
                "endpoint": ENDPOINT,
            }
            for v in (1, 2)
        ],
        "model_packages": [
            {"version": 1, "approval_status": "Approved"},
            {"version": 2, "approval_status": "Approved"},
        ],
        "wall_seconds": 42.5,
    }
    (home / "demo-summary.json").write_text(json.dumps(summary))
    return home, summary, facts


def _requests(path) -> list[str]:
    """The feature cells of a label-first CSV, one request body per row."""
    return [line.split(",", 1)[1] for line in path.read_text().splitlines()]
