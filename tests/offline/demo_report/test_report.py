"""The demo report from a two-window home built with the real components (see conftest.py)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from html import escape

import pytest

from offline.demo_report import write_demo_report
from offline.demo_report.gather import gather
from tests.offline.demo_report.conftest import SHIFTED

_EXTERNAL = re.compile(
    r"""(?:src|href)\s*=\s*["']?\s*(?:[a-z][a-z0-9+.-]*:)?//|url\(\s*["']?\s*(?:[a-z][a-z0-9+.-]*:)?//""", re.I
)


def _section(html: str, number: int) -> str:
    return html.split(f"<h2>{number}.")[1].split("<h2>")[0]


@pytest.fixture(scope="module")
def page(demo):
    home, summary, _ = demo
    path = write_demo_report(home, summary)
    return path, path.read_text()


def test_the_report_is_written_atomically_where_asked(demo, tmp_path):
    home, summary, _ = demo
    assert write_demo_report(home, summary) == home / "report.html"
    elsewhere = write_demo_report(home, summary, tmp_path / "out" / "mine.html")
    assert elsewhere == tmp_path / "out" / "mine.html" and elsewhere.read_text().startswith("<!DOCTYPE html>")
    assert not [p.name for p in elsewhere.parent.iterdir() if p.name != "mine.html"]  # no temp file left


def test_the_page_is_self_contained(page):
    _, html = page
    assert not _EXTERNAL.search(html), _EXTERNAL.search(html).group(0)
    assert "<script" not in html.lower() and "<link" not in html.lower() and "@import" not in html
    assert html.count("<svg ") == 5  # predictions, drift, review, ROC, versions: matplotlib's, inline
    assert "<?xml" not in html and "<!DOCTYPE svg" not in html


def test_both_windows_drift_distances_are_the_checks_own(demo):
    """The corrected distance is what the check compared (its CloudWatch metric), the raw one is never below
    it, and a feature is flagged exactly where the check reported drift."""
    home, summary, facts = demo
    data = gather(home, summary)
    assert [w.name for w in data.windows] == ["window 1", "window 2"]
    for window, result in zip(data.windows, facts["windows"], strict=True):
        measured = {f.name: f.drift for f in result.features if f.drift is not None}
        assert {f.column: f.corrected for f in window.features} == pytest.approx(measured, abs=1e-12)
        assert all(f.raw >= f.corrected for f in window.features)
        checked = {v.feature_name for v in result.violations if v.constraint_check_type == "baseline_drift_check"}
        assert {f.column for f in window.features if f.flagged} == checked
        assert {f.column for f in window.features if f.over_threshold} == checked
        # the correction the page states is the gap between the two distances wherever it is not floored at 0
        assert window.method == "Robust" and 0.1 < window.correction < 0.3
        for f in window.features:
            assert (
                f.raw - f.corrected == pytest.approx(window.correction) if f.corrected else f.raw <= window.correction
            )


def test_window_1_has_no_drift_and_window_2_flags_the_shifted_features(demo):
    home, summary, _ = demo
    first, second = gather(home, summary).windows
    assert not first.flagged
    # The Robust correction (about 0.24 for 114 rows each side) zeroes window 1; the raw distances do not.
    assert all(f.corrected == 0 for f in first.features) and max(f.raw for f in first.features) > 0.05
    flagged = {f.label for f in second.flagged}
    assert set(SHIFTED) <= flagged
    assert len({f.label for f in second.features} - flagged) > 20  # the unshifted features stay quiet


def test_the_page_shows_both_windows_and_marks_the_flagged_features(page):
    _, html = page
    drift = _section(html, 2)
    assert "window 1 (Robust): 0 flagged" in drift and re.search(r"window 2 \(Robust\): [1-9]\d* flagged", drift)
    for name in SHIFTED:
        column_row = re.search(rf"<tr><td class='flag'>{re.escape(name)} \(_c\d+\)</td>(.*?)</tr>", drift)
        assert column_row and "▲ drift" in column_row.group(1), name
    assert re.search(r"<tr><td class=''>mean smoothness \(_c\d+\)</td>", drift)  # not shifted, not marked
    assert "raw L∞ distance" in drift and "distance the check uses" in drift and "threshold 0.1" in drift
    assert re.search(r"\(0\.\d{3} for window 1, 0\.\d{3} for window 2\)", drift)


def test_the_predictions_chart_counts_each_windows_captured_predictions(demo, page, contract):
    home, summary, facts = demo
    data = gather(home, summary)
    for window, expected in zip(data.windows, facts["probabilities"], strict=True):
        assert window.probabilities == pytest.approx(list(expected), abs=0)
    _, html = page
    section = _section(html, 1)
    for name, expected in zip(("window 1", "window 2"), facts["probabilities"], strict=True):
        inside = int(((expected > contract.review_lower) & (expected < contract.review_upper)).sum())
        assert f"{name}: {len(expected)} predictions, {inside} in the band" in section
    assert "review band 0.1 &lt; p &lt; 0.9" in section


def test_the_review_outcome_and_agreement(demo, page):
    _, summary, facts = demo
    _, html = page
    section = _section(html, 3)
    agreement = summary["human_review"]["agreement"]
    assert f"<b>{agreement['alpha']:.3f}</b>" in section
    for pair in agreement["pairs"]:
        assert f"<td>{pair['first']}</td><td>{pair['second']}</td><td class='num'>{pair['items']}</td>" in section
    assert ">corrected the model<" in section and f">{facts['corrections']}<" in section
    assert "ana, ben, cy" in section and "each loop by 2 of them" in section


def test_model_quality_and_v1_beside_v2(demo, page):
    _, summary, facts = demo
    _, html = page
    quality = _section(html, 4)
    metrics = facts["model_quality"].metrics
    assert f"<td>auc</td><td class='num'>{metrics['auc']:.4f}</td>" in quality
    assert facts["model_quality"].status in quality
    versions = _section(html, 5)
    v1, v2 = facts["v1_metrics"]["auc"]["value"], facts["v2_metrics"]["auc"]["value"]
    assert (
        f"<td>auc</td><td class='num'>{v1:.4f}</td><td class='num'>{v2:.4f}</td><td class='num'>{v2 - v1:+.4f}</td>"
        in versions
    )
    shadow = facts["shadow"]
    assert (
        f"<td>f1</td><td class='num'>{shadow['v1']['f1']:.4f}</td><td class='num'>{shadow['v2']['f1']:.4f}</td>"
        in versions
    )
    assert versions.count("SUCCEEDED") == 2 and "best_constant" not in versions


def test_a_hostile_feature_name_and_reason_are_shown_as_text(demo, tmp_path, monkeypatch):
    from processing.contract import DEFAULT_PATH

    home, summary, _ = demo
    hostile = "<script>alert(1)</script> $x^2$ & co"
    document = json.loads(DEFAULT_PATH.read_text())
    document["features"][0] = hostile  # the first feature ("mean radius") under a hostile name
    contract = tmp_path / "contract.json"
    contract.write_text(json.dumps(document))
    monkeypatch.setenv("MLOPS_DATA_CONTRACT", str(contract))
    summary = json.loads(json.dumps(summary))
    summary["windows"][1]["name"] = "<b onmouseover=alert(2)>w2</b>"
    summary["windows"][1]["violations"].append(
        {
            "feature_name": hostile,
            "constraint_check_type": "baseline_drift_check",
            "description": "<img src=x onerror=alert(3)>",
        }
    )
    summary["human_review"]["reviewers"] = ["<i>eve</i>"]
    summary["shadow"]["v1"]["<svg onload=alert(4)>"] = 0.5
    summary["shadow"]["v2"]["<svg onload=alert(4)>"] = 0.6
    html = write_demo_report(home, summary, tmp_path / "report.html").read_text()
    for raw in ("<script>alert", "<b onmouseover", "<img src=x", "<i>eve</i>", "<svg onload"):
        assert raw not in html
    assert escape(hostile, quote=False) in html  # in the tables and, escaped by matplotlib, in the charts' text
    assert "&lt;img src=x onerror=alert(3)&gt;" in html and "&lt;svg onload=alert(4)&gt;" in html
    drift = _section(html, 2)
    assert re.search(rf"<td class='flag'>{re.escape(escape(hostile))} \(_c3\)</td>", drift)
    chart = drift.split("<svg ", 1)[1].split("</svg>", 1)[0]
    assert f"{escape(hostile, quote=False)} (_c3)" in chart and "<script" not in chart  # matplotlib's text, escaped


def test_a_review_summary_with_only_the_earlier_keys(demo, tmp_path):
    """Milestone 4a's human_review (one simulated reviewer, no agreement) still renders its counts."""
    home, summary, _ = demo
    earlier = {"loops_started": 18, "review_loops": 16, "audit_loops": 2, "completed": 18, "reviewer": "simulated"}
    html = write_demo_report(home, {**summary, "human_review": earlier}, tmp_path / "r.html").read_text()
    section = _section(html, 3)
    assert "answered by simulated." in section and "<svg " in section and ">16<" in section
    assert "Agreement among reviewers is not part of this run." in section


def test_sections_absent_from_the_summary_say_so(demo, tmp_path):
    home, _, _ = demo
    html = write_demo_report(home, {"endpoint": {"name": "ep"}}, tmp_path / "empty.html").read_text()
    for number, what in (
        (1, "traffic windows"),
        (2, "traffic windows"),
        (3, "human review"),
        (4, "model-quality check"),
        (5, "retraining, shadow comparison or deploy"),
    ):
        assert f"Not part of this run: the summary has no {what}." in _section(html, number)
    assert "<svg" not in html


def test_a_window_whose_files_are_missing_becomes_a_note(demo, tmp_path):
    home, summary, _ = demo
    summary = json.loads(json.dumps(summary))
    summary["windows"][1]["report_uri"] = "s3://sagemaker-us-east-1-123456789012/nothing/here"
    summary["windows"][1]["inference_id_prefix"] = None
    summary["endpoint"]["capture_uri"] = "not-a-uri"
    summary["monitoring"][-1]["report_uri"] = "s3://sagemaker-us-east-1-123456789012/gone"
    summary["shadow"] = {"rows": 3}
    html = write_demo_report(home, summary, tmp_path / "partial.html").read_text()
    assert "window 2: the window&#x27;s statistics.json could not be read at s3://" in html
    assert "window 2: the summary gives no inference-id prefix" in html
    assert "is not usable" in html and "No metrics to show" in _section(html, 4)
    assert "Not part of this run: the summary has no shadow comparison." in _section(html, 5)


def test_a_summary_that_is_not_an_object_is_refused(demo):
    home, _, _ = demo
    target = home / "refused.html"
    target.write_text("the previous report")
    with pytest.raises(TypeError, match="must be a JSON object, not list"):
        write_demo_report(home, [], target)
    assert target.read_text() == "the previous report"


def test_matplotlib_stays_off_the_cli_startup_path():
    code = (
        "import sys; from click.testing import CliRunner; from pipelines.cli import main; import offline.demo_report;"
        "r = CliRunner().invoke(main, ['--help']); assert r.exit_code == 0, r.output;"
        "print('matplotlib' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
