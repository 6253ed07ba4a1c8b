"""Number formatting shared by the human-readable formats (Markdown, HTML, terminal)."""

from __future__ import annotations

from miaudit.metrics import Estimate, TprAtFpr


def md_cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def md_text(text: str) -> str:
    """Text from outside miaudit's own wording (a section's fields) safe inside a Markdown
    table cell and as inline text: :func:`md_cell`, with ``&``, ``<`` and ``>`` written as
    HTML entities, so no markup in it reaches a viewer that renders inline HTML. (miaudit's own
    text keeps :func:`md_cell`: it writes ``tpr@0.01>0.05`` and ``Nasr & …`` as they are.)"""
    return md_cell(text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))


def pct(x: float | None, digits: int = 1) -> str:
    return "n/a" if x is None else f"{100 * x:.{digits}f}%"


def fpr_label(fpr: float) -> str:
    return f"{100 * fpr:g}%"


def point(e: Estimate, percent: bool = False, digits: int = 3) -> str:
    """The value alone: ``0.712`` or ``13.0%``; ``n/a`` when there is none."""
    if e.value is None:
        return "n/a"
    return pct(e.value) if percent else f"{e.value:.{digits}f}"


def interval(e: Estimate, percent: bool = False, digits: int = 3) -> str:
    """Only the interval: ``[0.66, 0.76]`` (empty when there is none)."""
    if e.value is None or not e.ci:
        return ""
    if percent:
        return f"[{pct(e.ci[0])}, {pct(e.ci[1])}]"
    return f"[{e.ci[0]:.{digits}f}, {e.ci[1]:.{digits}f}]"


def estimate(e: Estimate, percent: bool = False, digits: int = 3) -> str:
    """``0.712 [0.66, 0.76]``, or ``n/a`` with a short reason."""
    bounds = interval(e, percent, digits)
    return f"{point(e, percent, digits)} {bounds}" if bounds else point(e, percent, digits)


def tpr(t: TprAtFpr | None) -> str:
    if t is None:
        return "n/a"
    if t.tpr.value is None:
        return "not resolvable"
    return estimate(t.tpr, percent=True)


def compact(e: Estimate, percent: bool = False) -> str:
    """Terminal form: ``0.60 (0.55–0.64)``, ``4.9% (0–14)``, or ``—`` when not resolvable."""
    if e.value is None:
        return "—"
    if percent:
        body = f"{100 * e.value:.1f}%"
        return f"{body} ({100 * e.ci[0]:.0f}–{100 * e.ci[1]:.0f})" if e.ci else body
    return f"{e.value:.2f} ({e.ci[0]:.2f}–{e.ci[1]:.2f})" if e.ci else f"{e.value:.2f}"


def measured_fpr(t: TprAtFpr | None) -> str:
    """The FPR the threshold reached on held-out non-members: ``at FPR 9.8%``."""
    if t is None or t.tpr.value is None or t.achieved_fpr is None:
        return ""
    return f"at FPR {pct(t.achieved_fpr.value)}"
