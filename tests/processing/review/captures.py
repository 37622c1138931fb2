"""Captured windows for the review jobs' tests, in SageMaker's capture format and this handler's answers
(`probability,label,flag` per CSV row, `{"predictions": [{"score", "predicted_label", "needs_review"}]}` in JSON)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.monitoring.conftest import capture_line

ENDPOINT = "bc-endpoint"
HOUR = "2024/05/01/10"
IN_HOUR = "2024-05-01T10:{:02d}:00Z"


def row_features(contract, seed: float) -> list[float]:
    return [round(seed + i / 10, 4) for i in range(len(contract.features))]


def csv_record(event_id: str, minute: int, rows: list[tuple[list[float], float, int]], inference_id=None) -> str:
    """rows: (features, probability, flag); the label follows the probability at 0.5."""
    inputs = "".join(",".join(repr(v) for v in features) + "\n" for features, _, _ in rows)
    outputs = "".join(f"{p!r},{int(p >= 0.5)},{flag}\n" for _, p, flag in rows)
    return capture_line(IN_HOUR.format(minute), inputs, outputs, event_id, inference_id)


def json_record(event_id: str, minute: int, rows: list[tuple[list[float], float, int]], inference_id=None) -> str:
    inputs = json.dumps({"instances": [features for features, _, _ in rows]})
    outputs = json.dumps(
        {"predictions": [{"score": p, "predicted_label": int(p >= 0.5), "needs_review": flag} for _, p, flag in rows]}
    )
    return capture_line(IN_HOUR.format(minute), inputs, outputs, event_id, inference_id, encoding="JSON")


def write_window(root: Path, lines: list[str], hour: str = HOUR, name: str = "00-00-000-test.jsonl") -> Path:
    """The lines as one capture file of `root/<endpoint>/AllTraffic/<hour>/`; returns the endpoint's folder."""
    folder = root / ENDPOINT / "AllTraffic" / hour
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return root / ENDPOINT


def window(contract, n: int, marked_every: int = 4, inference_ids: bool = False) -> list[str]:
    """n single-row CSV requests; every `marked_every`-th is uncertain (p 0.5, flagged), the rest confident."""
    lines = []
    for i in range(n):
        marked = i % marked_every == 0
        p = 0.5 if marked else (0.97 if i % 2 else 0.02)
        lines.append(
            csv_record(
                f"9f1c2b6e-0000-4000-8000-{i:012d}",
                i % 60,
                [(row_features(contract, i), p, int(marked))],
                inference_id=f"req-{i}" if inference_ids else None,
            )
        )
    return lines
