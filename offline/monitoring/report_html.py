"""The monitoring report as one self-contained HTML page: inline CSS and SVG, no script, no CDN.

Everything shown is escaped; the page opens offline and prints well.
"""

from __future__ import annotations

from html import escape

from offline.monitoring.report_data import FeatureRow, ReportData

COLUMN_CHECKS = ("missing_column_check", "extra_column_check")

CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1100px;color:#1f2328;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin-top:2.2rem;border-bottom:1px solid #d0d7de;padding-bottom:.3rem}
.muted{color:#656d76}.cards{display:flex;gap:1rem;flex-wrap:wrap;margin:1.2rem 0}
.card{border:1px solid #d0d7de;border-radius:8px;padding:.8rem 1rem;min-width:180px}
.card b{display:block;font-size:1.4rem}.ok{color:#1a7f37}.bad{color:#cf222e}.warn{color:#9a6700}
table{border-collapse:collapse;width:100%;margin:.6rem 0}th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #eaeef2;vertical-align:top}
th{background:#f6f8fa;font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums}
.matrix td,.matrix th{text-align:center;width:25%}code{font-size:12px;background:#f6f8fa;padding:0 .25rem;border-radius:4px}
svg text{font:11px system-ui,sans-serif;fill:#1f2328}
"""


def render(data: ReportData) -> str:
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Monitoring report: {escape(data.endpoint)}</title>",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<style>{CSS}</style></head><body>",
        f"<h1>Monitoring report: {escape(data.endpoint)}</h1>",
        f'<p class="muted">Generated {escape(data.generated_at)} · {len(data.executions)} monitoring executions</p>',
        _cards(data),
        _drift_section(data),
        _histogram_section(data),
        _quality_section(data),
        _model_section(data),
        _executions_section(data),
        "</body></html>",
    ]
    return "\n".join(parts)


def _cards(data: ReportData) -> str:
    cards = []
    if data.data_quality:
        n = len(data.data_quality.violations)
        cards.append(
            _card(
                "Data quality", f"{n} violation{'s' * (n != 1)}", "bad" if n else "ok", data.data_quality.window_start
            )
        )
    if data.model_quality:
        n = len(data.model_quality.violations)
        cards.append(
            _card(
                "Model quality", f"{n} violation{'s' * (n != 1)}", "bad" if n else "ok", data.model_quality.window_start
            )
        )
    if data.probabilities:
        review = sum(data.review_lower < p < data.review_upper for p in data.probabilities)
        share = review / len(data.probabilities)
        cards.append(
            _card("Predictions", f"{len(data.probabilities)}", "", f"{review} ({share:.0%}) need human review")
        )
    return f'<div class="cards">{"".join(cards)}</div>' if cards else ""


def _card(title: str, value: str, tone: str, detail: str) -> str:
    return f'<div class="card"><span class="muted">{escape(title)}</span><b class="{tone}">{escape(value)}</b><span class="muted">{escape(detail)}</span></div>'


def _drift_section(data: ReportData) -> str:
    rows = [f for f in data.features if f.distance is not None]
    if not rows:
        return "<h2>Drift</h2><p class='muted'>No data-quality window has been checked yet.</p>"
    rows.sort(key=lambda f: f.distance or 0.0, reverse=True)
    threshold = rows[0].threshold
    scale = max(1e-9, max(threshold * 1.5, max(f.distance or 0.0 for f in rows)))
    label_width, bar_width, row_height = 260, 560, 18
    height = row_height * len(rows) + 30
    x_threshold = label_width + bar_width * threshold / scale
    svg = [
        f'<svg role="img" aria-label="drift distance per feature" width="{label_width + bar_width + 80}" height="{height}">'
    ]
    for i, f in enumerate(rows):
        y = 10 + i * row_height
        width = bar_width * (f.distance or 0.0) / scale
        colour = "#cf222e" if f.drifted else "#57606a"
        svg.append(f'<text x="{label_width - 6}" y="{y + 12}" text-anchor="end">{escape(_name(f))}</text>')
        svg.append(
            f'<rect x="{label_width}" y="{y + 2}" width="{width:.1f}" height="{row_height - 5}" fill="{colour}"/>'
        )
        svg.append(f'<text x="{label_width + width + 4:.1f}" y="{y + 12}">{f.distance:.3f}</text>')
    svg.append(
        f'<line x1="{x_threshold:.1f}" x2="{x_threshold:.1f}" y1="4" y2="{height - 14}" stroke="#9a6700" stroke-dasharray="4 3"/>'
    )
    svg.append(f'<text x="{x_threshold + 4:.1f}" y="{height - 4}" fill="#9a6700">threshold {threshold:g}</text>')
    svg.append("</svg>")
    drifted = sum(f.drifted for f in rows)
    return (
        "<h2>Drift (baseline_drift_check)</h2>"
        f"<p>Distance between the baseline's and the window's distribution per feature (L∞ of the CDFs, "
        f"Model Monitor's rule) against the threshold; window {escape(data.data_quality.window_start)}. "
        + (
            "With the Robust method the distance is corrected for the samples' sizes (Deequ's rule), so a small "
            "window reads 0 unless its shift is large. "
            if data.drift_method == "Robust"
            else ""
        )
        + f'<b class="{"bad" if drifted else "ok"}">{drifted} of {len(rows)} features drifted.</b></p>'
        + "".join(svg)
    )


def _histogram_section(data: ReportData) -> str:
    values = data.probabilities
    if not values:
        return "<h2>Predictions</h2><p class='muted'>No captured predictions in the checked windows.</p>"
    bins = 20
    counts = [0] * bins
    for p in values:
        counts[min(bins - 1, max(0, int(p * bins)))] += 1
    width, height, left, bottom = 640, 220, 40, 30
    top = max(counts) or 1
    step = (width - left) / bins
    svg = [
        f'<svg role="img" aria-label="histogram of predicted probabilities" width="{width + 20}" height="{height + 10}">'
    ]
    x_lower = left + (width - left) * data.review_lower
    x_upper = left + (width - left) * data.review_upper
    svg.append(
        f'<rect x="{x_lower:.1f}" y="6" width="{x_upper - x_lower:.1f}" height="{height - bottom - 6}" fill="#fff8c5"/>'
    )
    svg.append(
        f'<text x="{(x_lower + x_upper) / 2:.1f}" y="18" text-anchor="middle" fill="#9a6700">review band {data.review_lower:g} &lt; p &lt; {data.review_upper:g}</text>'
    )
    for i, count in enumerate(counts):
        h = (height - bottom - 26) * count / top
        x = left + i * step
        svg.append(
            f'<rect x="{x + 1:.1f}" y="{height - bottom - h:.1f}" width="{step - 2:.1f}" height="{h:.1f}" fill="#0969da"><title>{count} predictions in [{i / bins:.2f}, {(i + 1) / bins:.2f})</title></rect>'
        )
    for tick in (0, 0.25, 0.5, 0.75, 1):
        x = left + (width - left) * tick
        svg.append(f'<text x="{x:.1f}" y="{height - bottom + 16}" text-anchor="middle">{tick:g}</text>')
    svg.append(
        f'<text x="{left}" y="{height - 2}">probability of the positive class · {len(values)} predictions</text>'
    )
    svg.append("</svg>")
    return "<h2>Predictions and human review</h2>" + "".join(svg)


def _quality_section(data: ReportData) -> str:
    if not data.features:
        return ""
    rows = []
    for f in data.features:
        issues = ", ".join(v for v in f.violations if v != "baseline_drift_check")
        tone = "bad" if issues else ""
        rows.append(
            f"<tr><td>{escape(_name(f))}</td><td class='num'>{_percent(f.baseline_completeness)}</td>"
            f"<td class='num'>{_percent(f.completeness)}</td><td class='{tone}'>{escape(issues) or '—'}</td></tr>"
        )
    # Missing and extra columns are one violation each for the whole window (AWS's "Missing columns").
    columns = [
        f"<p class='bad'>{escape(v.get('feature_name', ''))}: {escape(v.get('description', ''))}</p>"
        for v in (data.data_quality.violations if data.data_quality else [])
        if v.get("constraint_check_type") in COLUMN_CHECKS
    ]
    return (
        "<h2>Completeness and types</h2><table><thead><tr><th>feature</th><th>baseline completeness</th>"
        "<th>window completeness</th><th>completeness / type issues</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
        + "".join(columns)
    )


def _model_section(data: ReportData) -> str:
    if not data.model_metrics:
        return "<h2>Model quality</h2><p class='muted'>No model-quality window yet (it needs ground truth for captured predictions).</p>"
    rows = []
    for name, value in data.model_metrics.items():
        if not isinstance(value, dict) or "value" not in value:
            continue
        threshold, operator = data.model_thresholds.get(name, (None, None))
        failing = any(v.get("metric_name") == name for v in data.model_quality.violations)
        verdict = "violation" if failing else ("ok" if threshold is not None else "—")
        rows.append(
            f"<tr><td>{escape(name)}</td><td class='num'>{_number(value['value'])}</td>"
            f"<td class='num'>{_number(threshold)}</td><td>{escape(operator or '—')}</td>"
            f"<td class='{'bad' if failing else 'ok'}'>{verdict}</td></tr>"
        )
    matrix = data.model_metrics.get("confusion_matrix", {})
    cell = lambda a, p: escape(str(matrix.get(a, {}).get(p, 0)))  # noqa: E731
    confusion = (
        "<table class='matrix'><tr><th></th><th>predicted 0</th><th>predicted 1</th></tr>"
        f"<tr><th>actual 0</th><td>{cell('0', '0')}</td><td>{cell('0', '1')}</td></tr>"
        f"<tr><th>actual 1</th><td>{cell('1', '0')}</td><td>{cell('1', '1')}</td></tr></table>"
    )
    return (
        f"<h2>Model quality</h2><p>Window {escape(data.model_quality.window_start)}: captured predictions merged "
        f"with ground truth ({data.model_quality.item_count} rows).</p>{confusion}"
        "<table><thead><tr><th>metric</th><th>window</th><th>baseline threshold</th><th>rule</th><th></th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
    )


def _executions_section(data: ReportData) -> str:
    rows = []
    for e in reversed(data.executions):
        tone = {"Completed": "ok", "CompletedWithViolations": "bad", "Failed": "bad"}.get(e.status, "warn")
        location = f"<code>{escape(e.report_uri)}</code>" if e.report_uri else "—"
        rows.append(
            f"<tr><td>{escape(e.window_start)}</td><td>{escape(e.schedule)}</td><td class='{tone}'>{escape(e.status)}</td>"
            f"<td class='num'>{e.item_count}</td><td class='num'>{len(e.violations)}</td><td>{escape(e.message)}"
            f"{''.join('<br><span class=muted>' + escape(n) + '</span>' for n in e.notes)}</td><td>{location}</td></tr>"
        )
    return (
        "<h2>Executions</h2><table><thead><tr><th>window (UTC)</th><th>schedule</th><th>status</th><th>rows</th>"
        "<th>violations</th><th>message</th><th>files</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )


def _name(f: FeatureRow) -> str:
    return f"{f.column} · {f.label}" if f.label else f.column


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def _number(value) -> str:
    if isinstance(value, (int, float)):
        return f"{value:.4f}"
    return escape(str(value)) if value is not None else "—"
