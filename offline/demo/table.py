"""The final summary table of a demo run (rich), and how to keep the endpoint up afterwards."""

from __future__ import annotations

from pathlib import Path

from offline.demo.common import ENDPOINT_NAME, SUMMARY_FILE


def summary_table(summary: dict):
    from rich.table import Table

    table = Table(title="mlops demo: the whole loop", show_lines=False)
    table.add_column("stage", style="bold")
    table.add_column("result")
    v1, v2 = summary["model_packages"]
    table.add_row("build v1", f"test AUC {v1['test_auc']:.4f}, accuracy {v1['test_accuracy']:.4f}")
    for deploy, name in zip(summary["deploys"], ("deploy v1", "deploy v2"), strict=False):
        table.add_row(
            name,
            f"{deploy['status']} ({len(deploy['states'])} states entered); production gate approved by "
            f"{deploy['gate_approved_by']}",
        )
    for window in summary["windows"]:
        drift = ", ".join(window["drift_features"]) or "none"
        shifted = ", ".join(window["shifted_features"]) or "none"
        table.add_row(
            window["name"],
            f"{window['requests']} requests [{window['start']}, {window['end']}); shifted: {shifted}; drift flagged: "
            f"{drift}",
        )
    review = summary["human_review"]
    alpha = review["agreement"]["alpha"]
    table.add_row(
        "human review",
        f"{review['loops_started']} loops ({review['review_loops']} uncertain + {review['audit_loops']} audit), "
        f"{review['answers']} answers by {len(review['reviewers'])} simulated reviewers, {review['escalated']} "
        f"escalated, alpha {'n/a' if alpha is None else f'{alpha:.2f}'}, {review['corrections']} corrections",
    )
    [quality] = [m for m in summary["monitoring"] if m["kind"] == "model-quality"]
    names = [v["feature_name"] for v in quality["violations"]]
    found = f"{len(names)} ({', '.join(names[:3])}{', …' if len(names) > 3 else ''})" if names else "none"
    table.add_row(
        "model quality", f"window 1: {quality['status']} on {quality['items']} human labels; violations: {found}"
    )
    retrain = summary["retrain"]
    table.add_row(
        "retrain v2",
        f"{retrain['train_rows']} training rows (v1 {retrain['previous_train_rows']}); test AUC "
        f"{retrain['metrics']['auc']['value']:.4f} (v1 {retrain['previous_metrics']['auc']['value']:.4f})",
    )
    shadow = summary["shadow"]
    table.add_row(
        "shadow",
        f"{shadow['rows']} reviewed rows: accuracy {shadow['v1']['accuracy']:.3f} → {shadow['v2']['accuracy']:.3f}, "
        f"AUC {shadow['v1']['auc']:.3f} → {shadow['v2']['auc']:.3f}, F1 {shadow['v1']['f1']:.3f} → "
        f"{shadow['v2']['f1']:.3f}",
    )
    endpoint = summary["endpoint"]
    table.add_row(
        "endpoint",
        f"{endpoint['name']} served v{v2['version']}; {endpoint['requests']} requests, "
        f"{endpoint['captured_records']} captured",
    )
    table.add_row("time", f"{summary['wall_seconds']:.1f} s wall, {summary['cpu_seconds']:.1f} s CPU (this process)")
    return table


def keep_up_hint(home: Path) -> list[str]:
    return [
        f"Everything the demo started has stopped. To serve {ENDPOINT_NAME} (v2) again, and keep it up:",
        f"  MLOPS_HOME={home} mlops deploy --local --endpoint-name {ENDPOINT_NAME}",
        f"  (stop it with: MLOPS_HOME={home} mlops endpoint stop {ENDPOINT_NAME})",
        f"Summary: {home / SUMMARY_FILE}",
    ]
