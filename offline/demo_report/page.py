"""The demo report as one self-contained HTML page: inline CSS and inline SVG charts, no script, no
network. Every value that comes from data is escaped here; the charts' text is escaped by matplotlib."""

from __future__ import annotations

from datetime import datetime, timezone
from html import escape

from offline.demo_report import charts
from offline.demo_report.gather import HEADLINE, QualityWindow, ReportData, Window, metric_values, ordered

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;max-width:1180px;color:#1f2328;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2.4rem;border-bottom:1px solid #d0d7de;padding-bottom:.3rem}
h3{font-size:1rem;margin:1.2rem 0 .3rem}.muted{color:#656d76}.absent{color:#656d76;font-style:italic}
.cards{display:flex;gap:.8rem;flex-wrap:wrap;margin:1rem 0}.card{border:1px solid #d0d7de;border-radius:8px;padding:.6rem .9rem;min-width:150px}
.card b{display:block;font-size:1.35rem}.ok{color:#1a7f37}.bad{color:#cf222e}.flag{color:#cf222e;font-weight:600}
table{border-collapse:collapse;margin:.5rem 0}th,td{text-align:left;padding:.3rem .55rem;border-bottom:1px solid #eaeef2;vertical-align:top}
th{background:#f6f8fa;font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums}
code{font-size:12px;background:#f6f8fa;padding:0 .25rem;border-radius:4px;word-break:break-all}
svg.chart{display:block;max-width:100%;height:auto;margin:.6rem 0}
.columns{display:flex;gap:2rem;flex-wrap:wrap;align-items:flex-start}
"""

BEST_CONSTANT = "best_constant_classifier"  # Model Monitor's reference figures, left out of the tables
ABSENT = "Not part of this run: the summary has no {what}."


def render(data: ReportData, generated_at: str | None = None) -> str:
    summary = data.summary
    endpoint = summary.get("endpoint") if isinstance(summary.get("endpoint"), dict) else {}
    name = str(endpoint.get("name") or "the demo")
    generated_at = generated_at or datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>Demo report: {escape(name)}</title>",
            f"<style>{CSS}</style></head><body>",
            f"<h1>The whole loop, offline: {escape(name)}</h1>",
            f'<p class="muted">Generated {escape(generated_at)} from <code>demo-summary.json</code>.</p>',
            _overview(summary, endpoint),
            _predictions_section(data),
            _drift_section(data),
            _review_section(data),
            _quality_section(data),
            _versions_section(data),
            "</body></html>",
        ]
    )


def _overview(summary: dict, endpoint: dict) -> str:
    cards = []
    if isinstance(endpoint.get("requests"), int):
        cards.append(_card("Requests", endpoint["requests"], f"{_int(endpoint.get('captured_records'))} captured"))
    packages = summary.get("model_packages") if isinstance(summary.get("model_packages"), list) else []
    if packages:
        statuses = ", ".join(
            f"v{p.get('version', '?')} {p.get('approval_status', '?')}" for p in packages if isinstance(p, dict)
        )
        cards.append(_card("Model packages", len(packages), statuses))
    wall = summary.get("wall_seconds")
    if isinstance(wall, (int, float)):
        cards.append(_card("Wall time", f"{wall:.1f} s", "the whole demo"))
    return f'<div class="cards">{"".join(cards)}</div>' if cards else ""


def _card(title: str, value: object, detail: str) -> str:
    return (
        f'<div class="card"><span class="muted">{escape(title)}</span><b>{escape(str(value))}</b>'
        f'<span class="muted">{escape(detail)}</span></div>'
    )


# -- 1. predictions and the review band ---------------------------------------------------------------------


def _predictions_section(data: ReportData) -> str:
    head = "<h2>1. Predictions and the review band</h2>"
    if not data.windows:
        return head + _absent("traffic windows")
    shown = [w for w in data.windows if w.probabilities]
    notes = _window_notes(data.windows, "predictions")
    if not shown:
        return head + '<p class="absent">No captured predictions were found for the windows.</p>' + notes
    lower, upper = data.review_lower, data.review_upper
    text = (
        f"<p>The seed notebook's chart of the endpoint's predicted probabilities, per window. Predictions with "
        f"{lower:g} &lt; p &lt; {upper:g} (shaded) go to human review.</p>"
    )
    chart = charts.probability_histograms([(w.name, w.probabilities) for w in shown], lower, upper)
    return head + text + chart + notes


# -- 2. drift ---------------------------------------------------------------------------------------------


def _drift_section(data: ReportData) -> str:
    head = "<h2>2. Drift per feature</h2>"
    if not data.windows:
        return head + _absent("traffic windows")
    measured = [w for w in data.windows if w.features]
    intro = (
        "<p>For every feature, the distance between the baseline's distribution (the training rows) and the "
        "window's: the raw L∞ distance of the two CDFs (light), and the distance the data-quality check "
        "compares with the threshold (dark, red when the check flagged the feature). With the Robust method "
        "the check subtracts the two-sample Kolmogorov–Smirnov critical value 1.8·√((n+m)/(n·m)) for a "
        f"baseline of n rows and a window of m{_corrections(data.windows)}, so that small windows raise no "
        "false alarms; a small window therefore reads 0 for most features, and the raw distance shows how "
        "far each one really moved.</p>"
    )
    rows = "".join(_window_row(w) for w in data.windows)
    table = (
        "<table><thead><tr><th>window</th><th>from</th><th>to</th><th class='num'>requests</th>"
        "<th>features shifted by the demo</th><th>flagged by the check</th><th>violations</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )
    notes = _window_notes(data.windows, "drift")
    if not measured:
        return head + table + '<p class="absent">No window has statistics to compare with its baseline.</p>' + notes
    chart = charts.drift_bars([(f"{w.name} ({w.method})", w.features) for w in measured])
    return head + intro + table + chart + _drift_table(measured) + notes


def _corrections(windows: list[Window]) -> str:
    found = [f"{w.correction:.3f} for {escape(w.name)}" for w in windows if w.correction is not None]
    return f" ({', '.join(found)})" if found else ""


def _window_row(w: Window) -> str:
    flagged = [f.name for f in w.flagged]
    violations = "<br>".join(
        escape(f"{v.get('feature_name', '')}: {v.get('constraint_check_type', '')}")
        + (f" <span class='muted'>{escape(str(v['description']))}</span>" if v.get("description") else "")
        for v in w.violations
    )
    return (
        f"<tr><td>{escape(w.name)}</td><td>{escape(w.start)}</td><td>{escape(w.end)}</td>"
        f"<td class='num'>{_int(w.requests)}</td><td>{escape(', '.join(w.shifted)) or 'none'}</td>"
        f"<td class='{'flag' if flagged else 'ok'}'>{escape(', '.join(flagged)) or 'none'}</td>"
        f"<td>{violations or 'none'}</td></tr>"
    )


def _drift_table(windows: list[Window]) -> str:
    names = list(dict.fromkeys(f.name for w in windows for f in w.features))
    by_window = [{f.name: f for f in w.features} for w in windows]
    head = "".join(f"<th class='num'>{escape(w.name)}: raw L∞</th><th class='num'>used</th>" for w in windows)
    rows = []
    for name in names:
        cells = []
        for found in by_window:
            f = found.get(name)
            if f is None:
                cells.append("<td class='num'>—</td><td class='num'>—</td>")
                continue
            mark = " <span class='flag'>▲ drift</span>" if f.flagged else ""
            cells.append(f"<td class='num'>{_fixed(f.raw)}</td><td class='num'>{_fixed(f.corrected)}{mark}</td>")
        flagged = any(found.get(name) is not None and found[name].flagged for found in by_window)
        rows.append(f"<tr><td class='{'flag' if flagged else ''}'>{escape(name)}</td>{''.join(cells)}</tr>")
    thresholds = sorted({f.threshold for w in windows for f in w.features if f.threshold is not None})
    caption = f"threshold {', '.join(f'{t:g}' for t in thresholds)}" if thresholds else "no threshold"
    return (
        f"<details><summary>The distances as numbers ({escape(caption)})</summary><table><thead><tr><th>feature</th>"
        f"{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></details>"
    )


def _window_notes(windows: list[Window], _section: str) -> str:
    notes = [f"{w.name}: {note}" for w in windows for note in w.notes]
    return "".join(f'<p class="muted">{escape(n)}</p>' for n in dict.fromkeys(notes))


# -- 3. human review --------------------------------------------------------------------------------------


def _review_section(data: ReportData) -> str:
    head = "<h2>3. Human review</h2>"
    review = data.review
    if not review:
        return head + _absent("human review")
    reviewers = review.get("reviewers") if isinstance(review.get("reviewers"), list) else []
    if not reviewers and review.get("reviewer"):
        reviewers = [review["reviewer"]]
    counts = [
        (label, review[key])
        for key, label in (
            ("loops_started", "loops started"),
            ("review_loops", "uncertain (review band)"),
            ("audit_loops", "audit sample (confident)"),
            ("completed", "completed"),
            ("answers", "answers"),
            ("escalated", "escalated after a tie"),
            ("disputed", "disputed"),
            ("corrections", "corrected the model"),
        )
        if isinstance(review.get(key), int) and not isinstance(review.get(key), bool)
    ]
    parts = [head]
    task_count = review.get("task_count")
    who = ", ".join(str(r) for r in reviewers) or "the reviewers"
    parts.append(
        f"<p>One human loop per uncertain prediction plus an audit sample of confident ones, answered by "
        f"{escape(who)}"
        + (f", each loop by {escape(str(task_count))} of them" if task_count is not None else "")
        + ". A correction is a loop whose consensus label differs from the model's.</p>"
    )
    if counts:
        parts.append(charts.count_bars(counts, "Loops and answers", "review"))
    parts.append(_agreement(review.get("agreement")))
    return "".join(parts)


def _agreement(agreement: object) -> str:
    if not isinstance(agreement, dict) or not agreement:
        return '<p class="absent">Agreement among reviewers is not part of this run.</p>'
    alpha, items = agreement.get("alpha"), agreement.get("alpha_items")
    text = (
        f"<p>Krippendorff's alpha (nominal): <b>{_fixed(alpha, 3) if alpha is not None else 'undefined'}</b>"
        + (f" over {escape(str(items))} loops with two or more labels" if items is not None else "")
        + ".</p>"
    )
    pairs = [p for p in agreement.get("pairs") or [] if isinstance(p, dict)]
    if not pairs:
        return text
    rows = "".join(
        f"<tr><td>{escape(str(p.get('first', '')))}</td><td>{escape(str(p.get('second', '')))}</td>"
        f"<td class='num'>{_int(p.get('items'))}</td><td class='num'>{_fixed(p.get('observed'), 3)}</td>"
        f"<td class='num'>{_fixed(p.get('kappa'), 3)}</td></tr>"
        for p in pairs
    )
    return (
        text + "<table><thead><tr><th>reviewer</th><th>and reviewer</th><th class='num'>loops both labelled</th>"
        "<th class='num'>percent agreement</th><th class='num'>Cohen's kappa</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )


# -- 4. model quality -------------------------------------------------------------------------------------


def _quality_section(data: ReportData) -> str:
    head = "<h2>4. Model quality on the human labels</h2>"
    if not data.quality:
        return head + _absent("model-quality check")
    parts = [
        head,
        "<p>The model-quality check merges the captured predictions with the reviewers' labels (ground truth, "
        "by inference id) and computes Model Monitor's binary-classification metrics.</p>",
    ]
    curves = []
    for q in data.quality:
        parts.append(_quality_window(q))
        roc = q.metrics.get("receiver_operating_characteristic_curve")
        if isinstance(roc, dict) and roc.get("false_positive_rates") and roc.get("true_positive_rates"):
            curves.append((f"window {q.window}", roc["false_positive_rates"], roc["true_positive_rates"]))
    if curves:
        parts.append(charts.roc_curves(curves))
    return "".join(parts)


def _quality_window(q: QualityWindow) -> str:
    tone = "bad" if q.violations else "ok"
    violations = ", ".join(
        f"{v.get('feature_name') or v.get('metric_name', '')} {v.get('constraint_check_type', '')}"
        for v in q.violations
    )
    head = (
        f"<h3>Window {escape(q.window)}: <span class='{tone}'>{escape(q.status)}</span>"
        f" <span class='muted'>({_int(q.items)} labelled predictions)</span></h3>"
    )
    if violations:
        head += f"<p class='bad'>Violations: {escape(violations)}</p>"
    values = metric_values(q.metrics)
    if not values:
        return head + f"<p class='absent'>No metrics to show{': ' + escape(q.note) if q.note else ''}.</p>"
    shown = [n for n in ordered(values) if not n.endswith(BEST_CONSTANT)]
    rows = "".join(f"<tr><td>{escape(n)}</td><td class='num'>{_fixed(values[n])}</td></tr>" for n in shown)
    return (
        head + '<div class="columns">'
        f"<table><thead><tr><th>metric</th><th class='num'>value</th></tr></thead><tbody>{rows}</tbody></table>"
        + _confusion(q.metrics.get("confusion_matrix"))
        + "</div>"
    )


def _confusion(matrix: object) -> str:
    if not isinstance(matrix, dict):
        return ""

    def cell(actual: str, predicted: str) -> str:
        row = matrix.get(actual)
        return escape(str(row.get(predicted, 0))) if isinstance(row, dict) else "—"

    return (
        "<table><thead><tr><th></th><th class='num'>predicted 0</th><th class='num'>predicted 1</th></tr></thead>"
        f"<tbody><tr><th>actual 0</th><td class='num'>{cell('0', '0')}</td><td class='num'>{cell('0', '1')}</td></tr>"
        f"<tr><th>actual 1</th><td class='num'>{cell('1', '0')}</td><td class='num'>{cell('1', '1')}</td></tr>"
        "</tbody></table>"
    )


# -- 5. v1 beside v2 --------------------------------------------------------------------------------------


def _versions_section(data: ReportData) -> str:
    head = "<h2>5. v1 beside v2</h2>"
    if not (data.retrain or data.shadow or data.deploys):
        return head + _absent("retraining, shadow comparison or deploy")
    parts, panels = [head], []
    retrain = data.retrain or {}
    test_v1, test_v2 = metric_values(retrain.get("previous_metrics")), metric_values(retrain.get("metrics"))
    if test_v1 and test_v2:
        common = [n for n in ordered(test_v2) if n in test_v1 and not n.endswith(BEST_CONSTANT)]
        parts.append(
            "<h3>Test set (evaluation.json)</h3><p>Both versions on the same held-out test rows; v2 was trained on "
            f"{_int(retrain.get('train_rows'))} rows, v1 on {_int(retrain.get('previous_train_rows'))} (the "
            "difference is the reviewers' labelled rows).</p>"
        )
        parts.append(_comparison_table(common, test_v1, test_v2))
        panels.append(("test set", [n for n in HEADLINE if n in common], test_v1, test_v2))
    elif data.retrain:
        parts.append('<p class="absent">The retraining summary has no test metrics for both versions.</p>')
    else:
        parts.append(f'<p class="absent">{ABSENT.format(what="retraining")}</p>')
    shadow = data.shadow or {}
    shadow_v1, shadow_v2 = metric_values(shadow.get("v1")), metric_values(shadow.get("v2"))
    if shadow_v1 and shadow_v2:
        common = [n for n in ordered(shadow_v2) if n in shadow_v1]
        parts.append(
            f"<h3>Shadow comparison</h3><p>Both versions scored the same captured traffic, against the human "
            f"labels ({_int(shadow.get('rows'))} labelled rows).</p>"
        )
        parts.append(_comparison_table(common, shadow_v1, shadow_v2))
        panels.append((f"shadow: {_int(shadow.get('rows'))} labelled rows", common[:8], shadow_v1, shadow_v2))
    else:
        parts.append(f'<p class="absent">{ABSENT.format(what="shadow comparison")}</p>')
    if panels:
        parts.insert(
            1,
            charts.version_bars(
                [(title, names, [v1[n] for n in names], [v2[n] for n in names]) for title, names, v1, v2 in panels]
            ),
        )
    parts.append(_deploys(data.deploys))
    return "".join(parts)


def _comparison_table(names: list[str], v1: dict[str, float], v2: dict[str, float]) -> str:
    rows = []
    for n in names:
        change = v2[n] - v1[n]
        rows.append(
            f"<tr><td>{escape(n)}</td><td class='num'>{_fixed(v1[n])}</td><td class='num'>{_fixed(v2[n])}</td>"
            f"<td class='num'>{change:+.4f}</td></tr>"
        )
    return (
        "<table><thead><tr><th>metric</th><th class='num'>v1</th><th class='num'>v2</th><th class='num'>v2 − v1</th>"
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _deploys(deploys: list | None) -> str:
    if not deploys:
        return f"<h3>Deploys</h3><p class='absent'>{ABSENT.format(what='deploys')}</p>"
    rows = "".join(
        f"<tr><td>{escape(str(d.get('model_package_arn', '')))}</td><td>{escape(str(d.get('endpoint', '')))}</td>"
        f"<td class='{'ok' if d.get('status') == 'SUCCEEDED' else 'bad'}'>{escape(str(d.get('status', '')))}</td>"
        f"<td><code>{escape(str(d.get('execution_arn', '')))}</code></td></tr>"
        for d in deploys
        if isinstance(d, dict)
    )
    return (
        "<h3>Deploys</h3><p>Each approval started the deploy state machine.</p><table><thead><tr><th>model package"
        f"</th><th>endpoint</th><th>status</th><th>execution</th></tr></thead><tbody>{rows}</tbody></table>"
    )


# -- helpers ----------------------------------------------------------------------------------------------


def _absent(what: str) -> str:
    return f'<p class="absent">{escape(ABSENT.format(what=what))}</p>'


def _fixed(value: object, digits: int = 4) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{value:.{digits}f}"
    return "—"


def _int(value: object) -> str:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else "—"
