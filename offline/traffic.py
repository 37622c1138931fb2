"""Replay production traffic against an endpoint: one InvokeEndpoint call per CSV row, as the seed does.

    from offline.traffic import replay
    summary = replay("my-endpoint", "requests.csv", url=endpoint.url, drift="mean radius:+20%")

Rows are sent with boto3's sagemaker-runtime client (`endpoint_url` pointing at the local host), one row
per request, `text/csv`, no header, no label. Optionally each request carries an InferenceId
`<prefix>-<row number, 6 digits>` (row numbers start at 1), which data capture records, so ground truth
can be joined to captured predictions later.

Drift SPEC (applied to every row before sending; items apply left to right):

    SPEC    := ITEM ("," ITEM)*
    ITEM    := FEATURE ":" CHANGE
    FEATURE := a feature name from the data contract (case and surrounding spaces ignored), or "*" for all
    CHANGE  := "+" N "%" | "-" N "%"     relative: x * (1 + N/100), x * (1 - N/100)
             | "+" N | "-" N             absolute: x + N, x - N
             | "*" N                     scale: x * N
             | "=" N                     set: N
    e.g. "mean radius:+20%,mean texture:*1.5,worst area:-100"

An empty cell (a missing value) stays empty.
"""

from __future__ import annotations

import difflib
import json
import math
import os
import secrets
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np


class TrafficError(ValueError):
    """Traffic cannot be sent: bad data, a bad drift spec, or no endpoint to send to."""


@dataclass(frozen=True)
class Change:
    feature: str  # the contract's spelling, or "*"
    index: int | None  # column, or None for every column
    op: str  # "+", "-", "*", "="
    value: float
    percent: bool = False

    def apply(self, x: float) -> float:
        if self.op == "=":
            return self.value
        if self.op == "*":
            return x * self.value
        delta = x * self.value / 100 if self.percent else self.value
        return x + delta if self.op == "+" else x - delta


def parse_drift(spec: str, features: Sequence[str]) -> list[Change]:
    """Parse a drift SPEC (see the module docstring) against the contract's feature names."""
    by_name = {name.strip().lower(): (i, name) for i, name in enumerate(features)}
    changes = []
    for item in (part.strip() for part in spec.split(",")):
        if not item:
            raise TrafficError(f"drift spec {spec!r} has an empty item (check the commas)")
        name, colon, change = item.rpartition(":")
        if not colon or not name.strip():
            raise TrafficError(f"drift item {item!r} must be FEATURE:CHANGE, e.g. 'mean radius:+20%'")
        name, change = name.strip(), change.strip().replace(" ", "")
        if name == "*":
            index, feature = None, "*"
        elif name.lower() in by_name:
            index, feature = by_name[name.lower()]
        else:
            close = difflib.get_close_matches(name.lower(), list(by_name), n=3)
            hint = f"; did you mean {', '.join(repr(by_name[c][1]) for c in close)}?" if close else ""
            raise TrafficError(f"drift item {item!r}: {name!r} is not a feature of the data contract{hint}")
        changes.append(_parse_change(item, feature, index, change))
    return changes


def _parse_change(item: str, feature: str, index: int | None, change: str) -> Change:
    op = change[:1]
    if op not in ("+", "-", "*", "="):
        raise TrafficError(f"drift item {item!r}: the change must start with +, -, * or = (e.g. +20%, *1.5, =0)")
    text = change[1:]
    percent = text.endswith("%")
    if percent:
        text = text[:-1]
        if op not in ("+", "-"):
            raise TrafficError(f"drift item {item!r}: % goes with + or - only (use *1.2 to scale)")
    try:
        value = float(text)
    except ValueError:
        raise TrafficError(f"drift item {item!r}: {text!r} is not a number") from None
    if not math.isfinite(value) or (value < 0 and op in ("+", "-")):
        raise TrafficError(f"drift item {item!r}: give a finite, non-negative amount after {op}")
    return Change(feature, index, op, value, percent)


def drift_row(cells: list[str], changes: Sequence[Change]) -> list[str]:
    """Apply the changes to one row of CSV cells; empty cells stay empty."""
    out = list(cells)
    for change in changes:
        columns = range(len(out)) if change.index is None else (change.index,)
        for j in columns:
            if out[j].strip():
                out[j] = _format(change.apply(float(out[j])))
    return out


def _format(value: float) -> str:
    text = f"{value:.10g}"
    return text if "e" not in text else repr(value)


def load_rows(path: str | os.PathLike, features: Sequence[str] | None = None) -> list[str]:
    """The request rows of a header-less CSV file; with `features`, each row must have that many numbers."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise TrafficError(f"data file {path} does not exist") from None
    except UnicodeDecodeError:
        raise TrafficError(f"data file {path} is not UTF-8 text") from None
    rows = [line.strip() for line in lines if line.strip()]
    if not rows:
        raise TrafficError(f"data file {path} holds no rows")
    if features is not None:
        for number, row in enumerate(rows, start=1):
            cells = row.split(",")
            if len(cells) != len(features):
                hint = " (is the label column still in the file?)" if len(cells) == len(features) + 1 else ""
                raise TrafficError(
                    f"{path} row {number} has {len(cells)} values; the data contract lists {len(features)} "
                    f"features{hint}"
                )
            for cell in cells:
                if cell.strip():
                    try:
                        float(cell)
                    except ValueError:
                        raise TrafficError(
                            f"{path} row {number}: {cell.strip()!r} is not a number (a header row?)"
                        ) from None
    return rows


def runtime_client(url: str, region: str | None = None):
    """boto3's sagemaker-runtime client for a local endpoint: dummy credentials, no retries."""
    import boto3
    from botocore.config import Config

    from offline.aws.constants import DEFAULT_REGION, DUMMY_ACCESS_KEY_ID, DUMMY_SECRET_ACCESS_KEY

    return boto3.Session().client(
        "sagemaker-runtime",
        endpoint_url=url,
        region_name=region or DEFAULT_REGION,
        aws_access_key_id=DUMMY_ACCESS_KEY_ID,
        aws_secret_access_key=DUMMY_SECRET_ACCESS_KEY,
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=5, read_timeout=60),
    )


def check_endpoint_name(endpoint: str) -> str:
    """SageMaker's endpoint name rule; the name also becomes a file name ($MLOPS_HOME/endpoints/NAME.json)."""
    from offline.endpoint.settings import SettingsError, validate_name

    try:
        return validate_name(endpoint, "endpoint name")
    except SettingsError as e:
        raise TrafficError(str(e)) from e


def endpoint_url(endpoint: str, url: str | None = None, home: str | os.PathLike | None = None) -> str:
    """The URL given, else the one the running local endpoint of that name recorded."""
    check_endpoint_name(endpoint)
    if url:
        return url.rstrip("/")
    from offline.endpoint.host import read_state

    state = read_state(endpoint, home)
    if state is None:
        raise TrafficError(
            f"no local endpoint named {endpoint} is running in {home or os.environ.get('MLOPS_HOME', '.mlops')}; "
            "start one with `mlops endpoint serve` (or pass --url)"
        )
    return state["url"]


def replay(
    endpoint: str,
    data: str | os.PathLike,
    *,
    url: str | None = None,
    rate: float | None = None,
    drift: str | None = None,
    inference_id: bool | str = False,
    limit: int | None = None,
    home: str | os.PathLike | None = None,
    contract=None,
    client=None,
    progress: Callable[[int, int], None] | None = None,
) -> dict:
    """Send every row (at most `rate` per second) and return the summary (see `Replay.summary`)."""
    from processing.contract import load_contract

    check_endpoint_name(endpoint)
    contract = contract or load_contract()
    if rate is not None and not rate > 0:
        raise TrafficError(f"rate must be a positive number of requests per second, got {rate}")
    changes = parse_drift(drift, contract.features) if drift else []
    rows = load_rows(data, contract.features if changes else None)[: limit or None]
    target = endpoint_url(endpoint, url, home)
    client = client or runtime_client(target)
    prefix = _id_prefix(inference_id)
    run = Replay(endpoint, target, str(data), contract.review_lower, contract.review_upper, drift, prefix)
    interval = 1.0 / rate if rate else 0.0
    next_send = time.perf_counter()
    run.started = time.perf_counter()
    for number, row in enumerate(rows, start=1):
        if interval:
            pause = next_send - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            next_send = max(next_send + interval, time.perf_counter())
        body = ",".join(drift_row(row.split(","), changes)) if changes else row
        params = {"EndpointName": endpoint, "ContentType": "text/csv", "Accept": "text/csv", "Body": body}
        if prefix:
            params["InferenceId"] = f"{prefix}-{number:06d}"
        run.send(client, params, first=number == 1)
        if progress:
            progress(number, len(rows))
    run.finished = time.perf_counter()
    return run.summary()


def _id_prefix(inference_id: bool | str) -> str | None:
    if not inference_id:
        return None
    if isinstance(inference_id, str):
        if not inference_id or len(inference_id) > 57 or not inference_id.isprintable() or " " in inference_id:
            raise TrafficError("an inference id prefix must be 1 to 57 printable characters without spaces")
        return inference_id
    return f"replay-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-{secrets.token_hex(2)}"


class Replay:
    """Latencies and answers of one replay."""

    def __init__(self, endpoint, url, data, lower, upper, drift, prefix):
        self.endpoint, self.url, self.data = endpoint, url, data
        self.lower, self.upper, self.drift, self.prefix = lower, upper, drift, prefix
        self.latencies: list[float] = []
        self.scores: list[float] = []
        self.errors: Counter[str] = Counter()
        self.unparsed = 0
        self.sent = 0
        self.started = self.finished = 0.0

    def send(self, client, params: dict, first: bool) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        self.sent += 1
        start = time.perf_counter()
        try:
            response = client.invoke_endpoint(**params)
            body = response["Body"].read()
        except ClientError as e:
            self.latencies.append(time.perf_counter() - start)
            error = e.response.get("Error", {})
            code = error.get("Code", "Error")
            if first and code == "ValidationError":
                message = error.get("Message")
                raise TrafficError(f"{self.endpoint} at {self.url} refused the first request: {message}") from None
            original = e.response.get("OriginalStatusCode")
            self.errors[f"{code} ({original})" if original else code] += 1
            return
        except BotoCoreError as e:
            if first:
                raise TrafficError(f"cannot reach endpoint {self.endpoint} at {self.url}: {e}") from None
            self.errors[type(e).__name__] += 1
            return
        self.latencies.append(time.perf_counter() - start)
        self._score(body, response.get("ContentType", ""))

    def _score(self, body: bytes, content_type: str) -> None:
        try:
            if content_type.startswith("application/json"):
                scores = [float(p["score"]) for p in json.loads(body)["predictions"]]
            else:
                scores = [float(line.split(",", 1)[0]) for line in body.decode().splitlines() if line.strip()]
        except (ValueError, KeyError, TypeError):
            self.unparsed += 1
            return
        self.scores.extend(scores)

    def summary(self) -> dict:
        latencies = np.asarray(self.latencies) * 1000  # answered requests, errors included
        scores = np.asarray(self.scores)
        requests = self.sent
        elapsed = max(self.finished - self.started, 1e-9)
        errors = sum(self.errors.values())
        return {
            "endpoint": self.endpoint,
            "url": self.url,
            "data": self.data,
            "requests": requests,
            "ok": requests - errors,
            "errors": errors,
            "error_codes": dict(self.errors),
            "elapsed_s": round(elapsed, 3),
            "rate_rps": round(requests / elapsed, 1),
            "latency_ms": _percentiles(latencies),
            "predictions": {
                "total": int(scores.size),
                "above_upper": int((scores >= self.upper).sum()),
                "below_lower": int((scores <= self.lower).sum()),
                "needs_review": int(((scores > self.lower) & (scores < self.upper)).sum()),
                "lower": self.lower,
                "upper": self.upper,
            },
            "unparsed_answers": self.unparsed,
            "drift": self.drift,
            "inference_id_prefix": self.prefix,
        }


def _percentiles(latencies_ms: np.ndarray) -> dict:
    if latencies_ms.size == 0:
        return {"p50": None, "p90": None, "p99": None, "mean": None, "max": None}
    p50, p90, p99 = np.percentile(latencies_ms, [50, 90, 99])
    return {
        "p50": round(float(p50), 3),
        "p90": round(float(p90), 3),
        "p99": round(float(p99), 3),
        "mean": round(float(latencies_ms.mean()), 3),
        "max": round(float(latencies_ms.max()), 3),
    }
