"""The evidence section's structure, shared by the human-readable formats: attacks that are the
same attack here (identical results) share one row, attacks that rank records identically share
one ROC curve, and where two such attacks still differ at a threshold the reader is told why
(ties — probabilities that round to 1.0 — not a different ranking)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import spearmanr

from miaudit.results import AttackResult, AuditResult


@dataclass(frozen=True)
class Group:
    """Attacks with one set of results: ``first`` stands for all of ``names``."""

    first: AttackResult
    names: tuple[str, ...]

    @property
    def label(self) -> str:
        return " = ".join(self.names)


def _row(a: AttackResult) -> tuple:
    rates = tuple((t.fpr, t.tpr.value, t.tpr.ci) for t in a.tpr_at_fpr)
    return (a.auc.value, a.auc.ci, rates, a.advantage.value, a.advantage.ci, a.epsilon.value)


def _grouped(attacks: list[AttackResult], key: object) -> list[Group]:
    groups: dict[object, list[AttackResult]] = {}
    for a in attacks:
        groups.setdefault(key(a), []).append(a)  # type: ignore[operator]
    return [Group(members[0], tuple(m.name for m in members)) for members in groups.values()]


def ordered(result: AuditResult) -> list[AttackResult]:
    """Strongest first (AUC), ties in the order the attacks ran."""
    return sorted(result.attacks, key=lambda a: -(a.auc.value or 0))


def table_groups(result: AuditResult) -> list[Group]:
    """One row per distinct result: attacks whose every reported figure is identical."""
    return _grouped(ordered(result), _row)


def curve_groups(result: AuditResult) -> list[Group]:
    """One ROC curve per distinct ranking: attacks with identical ROC points."""
    return _grouped(ordered(result), lambda a: (a.roc_fpr, a.roc_tpr))


def single_threshold(a: AttackResult) -> bool:
    """A score with one threshold (a label-only or two-valued score): a point, not a curve."""
    return len(a.roc_fpr) <= 3


def tie_notes(result: AuditResult, rows: list[Group] | None = None) -> list[str]:
    """Why an attack that ranks records almost exactly as another (AUCs within 0.005) reports
    lower TPRs: many records tied at its highest score, which no threshold can split.
    ``rows``: :func:`table_groups`, if already made."""
    table = result.score_table
    if table is None:
        return []
    notes = []
    rows = table_groups(result) if rows is None else rows
    for group in rows:
        attack = group.first
        scores = np.asarray(table.scores.get(attack.name, ()))
        if scores.size == 0:
            continue
        top = int(np.sum(scores == scores.max()))
        if top < 0.01 * len(scores) or top < 2:
            continue
        twin = next(
            (
                g.first
                for g in rows
                if g is not group
                and abs((g.first.auc.value or 0) - (attack.auc.value or 0)) < 0.005
                and _beats(g.first, attack)
                and _same_ranking(scores, table.scores.get(g.first.name))
            ),
            None,
        )
        if twin is None:
            continue
        notes.append(
            f"{group.label} ranks records almost exactly as {twin.name} does (AUC "
            f"{attack.auc.value:.3f} against {twin.auc.value:.3f}) but reports lower TPRs: "
            f"{top:,} of the {len(scores):,} audited records share its highest score"
            + (" (probabilities that round to 1.0)" if attack.access.startswith("prob") else "")
            + ", and no threshold can split tied scores, so at "
            f"low FPRs it must flag all of them or none. {twin.name} separates them."
        )
    return notes


def _same_ranking(a: np.ndarray, b: np.ndarray | None) -> bool:
    """Both scores order the records the same way, ties aside (Spearman ρ ≥ 0.99)."""
    if b is None or len(b) != len(a) or np.ptp(a) == 0 or np.ptp(b) == 0:
        return False
    return bool(spearmanr(a, b).statistic >= 0.99)


def _beats(a: AttackResult, b: AttackResult) -> bool:
    """``a`` has a higher TPR than ``b`` at some FPR where both are resolvable."""
    for t in a.tpr_at_fpr:
        u = b.tpr(t.fpr)
        if u is None or t.tpr.value is None or u.tpr.value is None:
            continue
        if t.tpr.value > u.tpr.value:
            return True
    return False
