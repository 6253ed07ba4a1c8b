"""Plots for the HTML report, rendered with matplotlib to self-contained SVG data URIs."""

from __future__ import annotations

import base64
import io
from typing import TYPE_CHECKING

import numpy as np
from scipy.stats import rankdata

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from miaudit.results import AuditResult


def _data_uri(figure: Figure) -> str:
    """The figure as SVG, byte-for-byte the same for the same result: no creation date, and
    element ids drawn from a fixed salt rather than at random."""
    import matplotlib

    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": "miaudit"}):
        figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    encoded = base64.b64encode(buffer.getvalue().encode("utf-8")).decode("ascii")
    return f"data:image/svg+xml;base64,{encoded}"


def _figure(width: float, height: float) -> Figure:
    from matplotlib.figure import Figure  # the object API: no global pyplot state, no GUI

    return Figure(figsize=(width, height), dpi=100)


def roc_plot(result: AuditResult) -> str | None:
    """All attacks' ROC curves on log–log axes, where low-FPR behaviour is visible."""
    if not result.attacks:
        return None
    figure = _figure(7.5, 4.6)
    axes = figure.add_subplot()
    floor = 1.0 / max(result.n_nonmembers, 1)
    grid = np.logspace(np.log10(floor), 0, 50)
    axes.plot(grid, grid, color="#999999", linestyle="--", linewidth=1, label="chance")
    for attack in sorted(result.attacks, key=lambda a: -(a.auc.value or 0)):
        fpr = np.maximum(np.asarray(attack.roc_fpr), floor)
        tpr = np.maximum(np.asarray(attack.roc_tpr), floor)
        axes.step(
            fpr,
            tpr,
            where="post",
            linewidth=1.4,
            label=f"{attack.name} (AUC {attack.auc.value:.3f})",
        )
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlim(floor, 1)
    axes.set_ylim(floor, 1.05)
    axes.set_xlabel("false-positive rate (non-members flagged)")
    axes.set_ylabel("true-positive rate (members found)")
    axes.set_title("ROC, log–log")
    axes.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False)
    axes.grid(True, which="major", alpha=0.3)
    return _data_uri(figure)


def histogram_plot(result: AuditResult, max_attacks: int = 8) -> str | None:
    """Member vs non-member histograms of each record's score *percentile* among all audited
    records, one panel per attack. Percentiles (mid-ranks for ties) make heavy-tailed and
    saturated scores readable; with no leakage both histograms are flat."""
    table = result.score_table
    if table is None or not table.scores:
        return None
    names = [a.name for a in sorted(result.attacks, key=lambda a: -(a.auc.value or 0))]
    names = names[:max_attacks]
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
        axes.set_title(name, fontsize=9)
        axes.tick_params(labelsize=7)
        if i == 0:
            axes.legend(fontsize=7)
    figure.supxlabel(
        "score percentile among audited records (right = more likely a member)", fontsize=8
    )
    figure.tight_layout()
    return _data_uri(figure)
