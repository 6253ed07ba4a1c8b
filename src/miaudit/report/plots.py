"""Plots for the HTML report, rendered with matplotlib to self-contained SVG data URIs."""

from __future__ import annotations

import base64
import io
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy.stats import rankdata

from miaudit.report.evidence import curve_groups, single_threshold

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from miaudit.results import AuditResult


#: A colour-blind-safe palette (Paul Tol's bright, and darker companions).
COLOURS = ["#4477aa", "#ee6677", "#228833", "#ccbb44", "#66ccee", "#aa3377", "#bbbbbb",
            "#000000", "#994455", "#117733"]  # fmt: skip


def _data_uri(figure: Figure) -> str:
    """The figure as SVG, byte-for-byte the same for the same result: no creation date, and
    element ids drawn from a fixed salt rather than at random."""
    import matplotlib

    buffer = io.StringIO()
    # text stays text (searchable, selectable, and checked by the tests), not glyph outlines
    with matplotlib.rc_context({"svg.hashsalt": "miaudit", "svg.fonttype": "none"}):
        figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    encoded = base64.b64encode(buffer.getvalue().encode("utf-8")).decode("ascii")
    return f"data:image/svg+xml;base64,{encoded}"


def _figure(width: float, height: float) -> Figure:
    from matplotlib.figure import Figure  # the object API: no global pyplot state, no GUI

    return Figure(figsize=(width, height), dpi=100)


def roc_plot(result: AuditResult) -> str | None:
    """ROC curves on log–log axes, where low-FPR behaviour is visible: one line per distinct
    ranking (attacks that rank records identically share a line and a legend entry), and an
    attack with a single threshold (label-only) as a point."""
    if not result.attacks:
        return None
    figure = _figure(6.6, 5.6)
    axes = figure.add_subplot()
    floor = 1.0 / max(result.n_nonmembers, 1)
    grid = np.logspace(np.log10(floor), 0, 50)
    axes.plot(grid, grid, color="#999999", linestyle="--", linewidth=1, label="chance")
    for i, group in enumerate(curve_groups(result)[:10]):
        attack, colour = group.first, COLOURS[i % len(COLOURS)]
        label = f"{_short(group.label)} (AUC {attack.auc.value:.2f})"
        fpr, tpr = np.asarray(attack.roc_fpr), np.asarray(attack.roc_tpr)
        if single_threshold(attack):
            inner = (fpr > 0) & (fpr < 1)
            axes.plot(fpr[inner], np.maximum(tpr[inner], floor), "o", markersize=8,
                      color=colour, label=label)  # fmt: skip
            continue
        shown = (fpr > 0) & (tpr > 0)  # log axes: points at 0 are off the plot, not on its edge
        # straight segments between ROC points: a block of tied scores is a diagonal, as in
        # sklearn's roc_curve, not a step that would draw a false vertical line
        axes.plot(fpr[shown], tpr[shown], linewidth=1.6, color=colour, label=label)
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlim(floor, 1)
    axes.set_ylim(floor, 1.05)
    axes.set_xlabel("false-positive rate: non-members wrongly flagged", fontsize=10)
    axes.set_ylabel("true-positive rate: members found", fontsize=10)
    axes.set_title("Attacks' ROC curves (log–log; up and left is worse for privacy)", fontsize=10)
    axes.legend(
        fontsize=8.5, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2, frameon=False
    )
    axes.grid(True, which="major", alpha=0.3)
    label_axes(axes, 0)
    return _data_uri(figure)


def label_axes(axes: Any, index: int) -> None:
    """Name the axis labels in the SVG (``id="x-label-0"``), so a check can find them."""
    axes.xaxis.label.set_gid(f"x-label-{index}")
    axes.yaxis.label.set_gid(f"y-label-{index}")


def _short(label: str, limit: int = 48) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def histogram_plot(result: AuditResult, max_attacks: int = 8) -> str | None:
    """Member vs non-member histograms of each record's score *percentile* among all audited
    records, one panel per attack. Percentiles (mid-ranks for ties) make heavy-tailed and
    saturated scores readable; with no leakage both histograms are flat."""
    table = result.score_table
    if table is None or not table.scores:
        return None
    groups = curve_groups(result)[:max_attacks]  # attacks with one ranking share a panel
    names = [g.first.name for g in groups]
    columns = 2
    rows = (len(names) + 1) // columns
    figure = _figure(7.0, 2.3 * rows)
    is_member = table.membership == 1
    for i, name in enumerate(names):
        axes = figure.add_subplot(rows, columns, i + 1)
        percentile = 100 * (rankdata(table.scores[name]) - 0.5) / len(table.scores[name])
        bins = np.linspace(0, 100, 26)
        axes.hist(
            percentile[~is_member],
            bins=bins,
            alpha=0.55,
            density=True,
            label="non-members",
            color="#4477aa",
        )
        axes.hist(
            percentile[is_member],
            bins=bins,
            alpha=0.55,
            density=True,
            label="members",
            color="#cc6677",
        )
        axes.set_title(_short(groups[i].label, 40), fontsize=9)
        axes.tick_params(labelsize=7)
        axes.set_xlabel("score percentile (right: more likely a member)", fontsize=8)
        axes.set_ylabel("share of records (density)", fontsize=8)
        label_axes(axes, i)
        if i == 0:
            axes.legend(fontsize=7)
    figure.tight_layout()
    return _data_uri(figure)
