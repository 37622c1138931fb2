"""The report's charts, drawn by matplotlib as SVG and returned as markup to inline in the page.

Figures are built with `matplotlib.figure.Figure` (no pyplot, so no global figure state and no GUI
backend) and saved with the SVG backend. Text stays text (`svg.fonttype: none`, escaped by matplotlib's
XML writer) and is never parsed as mathtext, so a feature name with `$` or `<` shows as written. Each
chart gets its own id salt, so the ids of several inline SVGs in one page never collide, and the output
is deterministic (no date in the metadata). matplotlib is imported here only: the CLI's startup never
loads it.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence

import matplotlib
from matplotlib.figure import Figure

from offline.demo_report.drift import FeatureDrift

RC = {
    "svg.fonttype": "none",
    "text.parse_math": False,
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "font.family": "sans-serif",
}
BAND, RAW, CORRECTED, FLAGGED, THRESHOLD = "#fff1b8", "#c8d1dc", "#0969da", "#cf222e", "#9a6700"
V1, V2 = "#8c959f", "#0969da"
_PROLOG = re.compile(r"\A.*?(?=<svg\b)", re.S)


def probability_histograms(windows: Sequence[tuple[str, Sequence[float]]], lower: float, upper: float) -> str:
    """The seed notebook's "Distribution of probabilities" (bins of 0.05 from -0.1 to 1.1), one panel per
    window, with the review band lower < p < upper shaded."""
    import numpy as np

    with matplotlib.rc_context(RC):
        figure = Figure(figsize=(4.2 * len(windows) + 0.6, 3.0), layout="constrained")
        axes = figure.subplots(1, len(windows), sharey=True, squeeze=False)[0]
        bins = np.arange(-0.1, 1.1 + 1e-9, 0.05)
        for ax, (name, values) in zip(axes, windows, strict=True):
            ax.axvspan(lower, upper, color=BAND, zorder=0, label=f"review band {lower:g} < p < {upper:g}")
            ax.hist(list(values), bins=bins, color=CORRECTED, alpha=0.8, zorder=2)
            inside = sum(lower < p < upper for p in values)
            ax.set_title(f"{name}: {len(values)} predictions, {inside} in the band")
            ax.set_xlim(-0.1, 1.1)
            ax.set_xlabel("probability of the positive class (bin size 0.05)")
        axes[0].set_ylabel("count")
        axes[0].legend(loc="upper center", frameon=False)
        return _svg(figure, "probabilities")


def drift_bars(windows: Sequence[tuple[str, Sequence[FeatureDrift]]]) -> str:
    """Per feature and window: the raw L∞ distance (light) behind the corrected one the check compares
    (dark; red when the check flagged the feature), and the threshold."""
    names = list(dict.fromkeys(f.name for _, rows in windows for f in rows))
    with matplotlib.rc_context(RC):
        figure = Figure(figsize=(4.4 * len(windows) + 2.4, 0.22 * len(names) + 1.3), layout="constrained")
        axes = figure.subplots(1, len(windows), sharey=True, squeeze=False)[0]
        top = max([0.0] + [x for _, rows in windows for f in rows for x in (f.raw, f.corrected, f.threshold) if x])
        positions = {name: i for i, name in enumerate(names)}
        for ax, (title, rows) in zip(axes, windows, strict=True):
            y = [positions[f.name] for f in rows]
            ax.barh(y, [f.raw or 0.0 for f in rows], height=0.8, color=RAW, label="raw L∞ distance")
            colours = [FLAGGED if f.flagged else CORRECTED for f in rows]
            ax.barh(y, [f.corrected or 0.0 for f in rows], height=0.45, color=colours, label="distance the check uses")
            thresholds = {f.threshold for f in rows if f.threshold is not None}
            for threshold in sorted(thresholds):
                ax.axvline(threshold, color=THRESHOLD, linestyle="--", linewidth=1, label=f"threshold {threshold:g}")
            for f in rows:
                if f.flagged:
                    ax.annotate(
                        "drift",
                        (max(f.raw or 0.0, f.corrected or 0.0), positions[f.name]),
                        xytext=(3, 0),
                        textcoords="offset points",
                        va="center",
                        color=FLAGGED,
                        fontweight="bold",
                    )
            flagged = sum(f.flagged for f in rows)
            ax.set_title(f"{title}: {flagged} flagged")
            ax.set_xlim(0, max(top * 1.18, 0.05))
            ax.set_xlabel("distance")
            ax.grid(axis="x", color="#eaeef2", zorder=0)
        axes[0].set_yticks(range(len(names)), names)
        axes[0].set_ylim(len(names) - 0.5, -0.5)
        flagged_names = {f.name for _, rows in windows for f in rows if f.flagged}
        for label in axes[0].get_yticklabels():
            if label.get_text() in flagged_names:
                label.set_color(FLAGGED)
                label.set_fontweight("bold")
        axes[-1].legend(loc="lower right", frameon=True, framealpha=0.9)
        return _svg(figure, "drift")


def count_bars(counts: Sequence[tuple[str, int]], title: str, salt: str) -> str:
    """Horizontal bars of a few counts, each labelled with its number."""
    with matplotlib.rc_context(RC):
        figure = Figure(figsize=(6.4, 0.32 * len(counts) + 0.9), layout="constrained")
        ax = figure.subplots()
        y = range(len(counts))
        bars = ax.barh(list(y), [n for _, n in counts], color=CORRECTED, height=0.6)
        ax.bar_label(bars, padding=3)
        ax.set_yticks(list(y), [name for name, _ in counts])
        ax.set_ylim(len(counts) - 0.5, -0.5)
        ax.set_xlim(0, max([1] + [n for _, n in counts]) * 1.15)
        ax.set_title(title)
        return _svg(figure, salt)


def roc_curves(curves: Sequence[tuple[str, Sequence[float], Sequence[float]]]) -> str:
    """ROC curves (false- against true-positive rate) of the model-quality windows."""
    with matplotlib.rc_context(RC):
        figure = Figure(figsize=(4.0, 3.4), layout="constrained")
        ax = figure.subplots()
        ax.plot([0, 1], [0, 1], color="#d0d7de", linestyle=":", label="chance")
        for name, fpr, tpr in curves:
            ax.plot(list(fpr), list(tpr), drawstyle="steps-post", label=name)
        ax.set_xlabel("false-positive rate")
        ax.set_ylabel("true-positive rate")
        ax.set_xlim(-0.02, 1.02)
        ax.set_ylim(-0.02, 1.02)
        ax.legend(loc="lower right", frameon=False)
        return _svg(figure, "roc")


def version_bars(panels: Sequence[tuple[str, Sequence[str], Sequence[float], Sequence[float]]]) -> str:
    """v1 beside v2, one panel per comparison (title, metric names, v1's values, v2's values)."""
    import numpy as np

    with matplotlib.rc_context(RC):
        figure = Figure(figsize=(4.6 * len(panels) + 0.4, 3.2), layout="constrained")
        axes = figure.subplots(1, len(panels), sharey=True, squeeze=False)[0]
        for ax, (title, names, first, second) in zip(axes, panels, strict=True):
            x = np.arange(len(names))
            for offset, values, colour, label in ((-0.2, first, V1, "v1"), (0.2, second, V2, "v2")):
                bars = ax.bar(x + offset, list(values), width=0.4, color=colour, label=label)
                ax.bar_label(bars, fmt="%.3f", padding=2, fontsize=7, rotation=90)
            ax.set_xticks(x, list(names), rotation=30, ha="right")
            ax.set_title(title)
            ax.set_ylim(0, 1.18)
        axes[0].legend(loc="lower left", frameon=True, framealpha=0.9)
        return _svg(figure, "versions")


def _svg(figure: Figure, salt: str) -> str:
    out = io.StringIO()
    with matplotlib.rc_context({**RC, "svg.hashsalt": f"demo-report-{salt}"}):
        figure.savefig(out, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    text = _PROLOG.sub("", out.getvalue(), count=1)
    return text.replace("<svg ", f'<svg role="img" aria-label="{salt} chart" class="chart" ', 1)
