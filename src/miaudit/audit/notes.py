"""What a reader must know to trust the numbers (shown in every report format)."""

from __future__ import annotations

from collections.abc import Sequence

from miaudit import metrics as m
from miaudit.attacks import Access, Attack
from miaudit.audit.observe import Observation
from miaudit.data import POPULATION
from miaudit.results import AttackResult
from miaudit.targets.interface import Modality


def notes(
    modality: Modality,
    observation: Observation,
    with_reference: bool,
    results: Sequence[AttackResult],
    attacks: Sequence[Attack] = (),
) -> tuple[str, ...]:
    """The notes of one audit; ``attacks`` are those chosen (an attack that never queries the
    model is a blind baseline, Das et al. 2024)."""
    out = []
    if modality is Modality.LANGUAGE_MODEL:
        out.append(
            "Accuracy here is next-token top-1 accuracy over all tokens; its interval treats "
            "tokens as independent, so it is narrower than the truth."
        )
    if observation.saturated:
        audited = observation.n_audit
        out.append(
            f"Only probabilities were available, and {observation.saturated:,} of "
            f"{audited:,} audited records have a true-class probability of "
            "exactly 1.0: their logit-scaled confidence and loss are cut off by the "
            "probabilities' precision and tie with each other, so the loss-based attacks"
            + (", LiRA and RMIA" if with_reference else "")
            + " cannot rank them. Expose logits (or float64 probabilities) for a stronger "
            "audit."
        )
    blind = _blind_baseline(results, {a.name for a in attacks if a.requires.access is Access.NONE})
    if blind:
        out.append(blind)
    has_population = bool((observation.membership == POPULATION).any())
    calibration = has_population and _calibration_drift(
        results, observation.n_audit - observation.n_members
    )
    if calibration:
        out.append(calibration)
    return tuple(out)


def _calibration_drift(results: Sequence[AttackResult], n_nonmembers: int) -> str | None:
    """Thresholds placed on the population, checked on all audited non-members: where the rate
    they flag is incompatible with the nominal FPR (Clopper–Pearson, Bonferroni over every
    attack × FPR checked), the population is not exchangeable with the non-members — reference
    models trained on it, say — and TPR at that FPR is understated (or overstated)."""
    checks = [
        (a.name, t)
        for a in results
        for t in a.tpr_at_fpr
        if t.achieved_fpr is not None and t.achieved_fpr.value is not None
    ]
    if not checks or n_nonmembers <= 0:
        return None
    confidence = 1 - 0.05 / len(checks)
    off = []
    for name, t in checks:
        assert t.achieved_fpr is not None and t.achieved_fpr.value is not None
        flagged = round(t.achieved_fpr.value * n_nonmembers)
        low, high = m.clopper_pearson(flagged, n_nonmembers, confidence)
        if high < t.fpr or low > t.fpr:
            off.append((name, t.fpr, flagged / n_nonmembers, high < t.fpr))
    if not off:
        return None
    shown = "; ".join(
        f"{name} at {fpr:.3g}: {achieved:.2%}" for name, fpr, achieved, _ in off[:4]
    ) + (f"; and {len(off) - 4} more" if len(off) > 4 else "")
    direction = (
        "understated (the thresholds are stricter than their FPR)"
        if all(strict for *_, strict in off)
        else "misstated"
    )
    return (
        "Thresholds set on the population flag a different share of the audited non-members "
        f"than their nominal FPR ({shown} flagged; the nominal FPR lies outside each share's "
        f"{confidence:.2%} Clopper–Pearson interval): the population is not exchangeable with "
        "the non-members (reference models trained on it more or less often than on them, or "
        f"it comes from another source), so TPR at those FPRs is {direction}; the achieved "
        "FPR of every threshold is in report.json (tpr_at_fpr.*.achieved_fpr)."
    )


def _blind_baseline(results: Sequence[AttackResult], blind_names: set[str]) -> str | None:
    """Das et al. 2024: a model-free classifier (an attack in ``blind_names``) as good as the
    attacks means the split, not the model, is measured."""
    blind = next((a for a in results if a.name in blind_names), None)
    model = [a for a in results if a.name not in blind_names and a.auc.value is not None]
    if blind is None or blind.auc.ci is None or not model:
        return None
    best = max(model, key=lambda a: a.auc.value or 0.0)
    if blind.auc.ci[1] >= (best.auc.value or 0.0):
        return (
            f"Warning: the blind baseline, which never queries the model, reaches AUC "
            f"{blind.auc.value:.3f} [{blind.auc.ci[0]:.3f}, {blind.auc.ci[1]:.3f}], as high "
            f"as the best attack ({best.name}, {best.auc.value:.3f}): members and "
            "non-members differ in distribution, and these numbers measure that split, "
            "not the model (Das et al. 2024). Draw non-members from the same source as "
            "members."
        )
    if blind.auc.ci[0] > 0.5:
        return (
            f"The blind baseline beats chance (AUC {blind.auc.value:.3f}): members and "
            "non-members differ somewhat in distribution; the attacks' lead over it, not "
            "their raw AUC, is what the model leaks."
        )
    return None
