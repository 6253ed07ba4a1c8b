"""The audit in plain words, for the first screen of every report: what an attacker could
learn and about whom, at a stated rate of false accusations, and the cheapest change the
audit's own evidence supports.

The sentence is built from one measured operating point: the lowest of the audit's FPRs at
which some attack's TPR interval lies above both that FPR and the FPR its threshold actually
reached on held-out non-members (so the claim is significant, and the "wrongly accusing" rate
is the measured one, not the target). Nothing here is a new number: every figure is in the
attacks table.
"""

from __future__ import annotations

from dataclasses import dataclass

from miaudit.results import MODEL_FREE_ATTACKS, AttackResult, AuditResult

#: Attacks that read only the predicted label.
LABEL_ACCESS = "predicted label"


@dataclass(frozen=True)
class OperatingPoint:
    """One attack's measured TPR at a calibrated threshold and the FPR it really reached."""

    attack: str
    fpr: float  # the target FPR
    tpr: float
    tpr_ci: tuple[float, float]
    achieved_fpr: float


@dataclass(frozen=True)
class PlainSummary:
    """The first screen: a headline, what the attacker needs, and the next step."""

    headline: str
    attacker: str
    next_step: str
    point: OperatingPoint | None

    def to_dict(self) -> dict[str, object]:
        point = self.point
        return {
            "headline": self.headline,
            "attacker": self.attacker,
            "next_step": self.next_step,
            "operating_point": None
            if point is None
            else {
                "attack": point.attack,
                "target_fpr": point.fpr,
                "tpr": point.tpr,
                "tpr_ci": list(point.tpr_ci),
                "achieved_fpr": point.achieved_fpr,
            },
        }


def one_in(rate: float) -> str:
    """``0.143`` → ``"1 in 7"``; ``0.6`` → ``"60 in 100"``; ``0`` → ``"none"``."""
    if rate <= 0:
        return "none"
    if rate >= 0.25:
        return f"{round(100 * rate)} in 100"
    return f"1 in {round(1 / rate):,}"


def attacker_needs(access: str) -> str:
    """What the attacker has to be able to do, in words, from an attack's access level."""
    if "white-box" in access:
        return "has the model's parameters"
    if access.startswith(LABEL_ACCESS):
        what = "can query the model and read only its predicted labels"
    elif access.startswith("token"):
        what = "can query the model and read its token probabilities"
    elif access:
        what = "can query the model and read its confidence scores"
    else:
        what = "has the model's outputs"
    if "reference" in access:
        what += ", and can train look-alike models on similar data"
    return what


def operating_point(result: AuditResult) -> OperatingPoint | None:
    """The lowest-FPR significant operating point of any attack on the model (highest TPR
    among attacks at that FPR); ``None`` when no attack beat its measured FPR."""
    attacks = [a for a in result.attacks if a.name not in MODEL_FREE_ATTACKS]
    for fpr in sorted(result.settings.fprs):
        best: OperatingPoint | None = None
        for attack in attacks:
            t = attack.tpr(fpr)
            if t is None or t.tpr.value is None or t.tpr.ci is None:
                continue
            achieved = t.achieved_fpr.value if t.achieved_fpr is not None else None
            reached = fpr if achieved is None else achieved
            # the TPR interval covers the true TPR at exactly ``fpr``; it must also clear the
            # rate the threshold really reached on held-out non-members
            upper = max(fpr, reached)
            if t.tpr.ci[0] > upper and (best is None or t.tpr.value > best.tpr):
                best = OperatingPoint(attack.name, fpr, t.tpr.value, t.tpr.ci, reached)
        if best is not None:
            return best
    return None


def plain_summary(result: AuditResult, level: str, subjects: str = "records") -> PlainSummary:
    """The plain-words first screen for ``result`` whose risk level is ``level``."""
    point = operating_point(result)
    strongest = result.strongest()
    if strongest is None:
        return PlainSummary(
            "No attack could run on this target, so the audit says nothing about what it leaks.",
            "",
            "Give the audit a target it can attack (see the 'not run' reasons below).",
            None,
        )
    chosen = result.attack(point.attack) if point else strongest
    assert chosen is not None
    attacker = attacker_needs(chosen.access)
    n = result.n_members
    if point is not None:
        headline = (
            f"An attacker who {attacker} could tell, for {one_in(point.tpr)} of the "
            f"{subjects} in the training data, that they were in it, while wrongly accusing "
            f"{one_in(point.achieved_fpr)} of the {subjects} that were not."
        )
    elif level in ("elevated", "high"):
        headline = (
            f"An attacker who {attacker} does better than a coin flip at guessing which "
            f"{subjects} were in the training data (AUC {strongest.auc.value:.2f}), but in this "
            f"audit of {n:,} {subjects} could not single anyone out at a low rate of false "
            "accusations."
        )
    else:
        headline = (
            f"No attack told the {subjects} in the training data apart from others better than "
            f"chance in this audit of {n:,} members and {result.n_nonmembers:,} non-members. "
            "This is not proof of privacy: stronger attacks or a larger audit may still succeed."
        )
    return PlainSummary(headline, attacker, next_step(result, level), point)


def is_language_model(result: AuditResult) -> bool:
    """An audit of a language model (texts, token log-probabilities), not a classifier."""
    return "token" in str(result.target.get("exposes", ""))


def _significant(attack: AttackResult) -> bool:
    return attack.auc.ci is not None and attack.auc.ci[0] > 0.5


def next_step(result: AuditResult, level: str) -> str:
    """The cheapest change the audit's evidence supports, with the command that checks it."""
    if level in ("not detected", "unknown"):
        if not result.reference:
            return (
                "Nothing to fix on this evidence. Before relying on it, run the strongest "
                "attacks: add reference models (--reference-models 16, or reference_models = 16 "
                "in the config), which let LiRA and RMIA find leaks simpler attacks miss."
            )
        return (
            "Nothing to fix on this evidence. Keep this audit as a CI gate "
            "(--fail-on 'tpr@0.01>0.05' and --baseline) so a later model that leaks is caught."
        )
    if is_language_model(result):
        return (
            "Remove duplicates of the exposed texts listed below and train for fewer epochs, or "
            "fine-tune with DP-SGD; then re-run this audit on the new checkpoint."
        )
    labels = [a for a in result.attacks if a.access.startswith(LABEL_ACCESS)]
    exposes = str(result.target.get("exposes", ""))
    scores_exposed = (
        result.exposure.reveals_scores if result.exposure is not None else exposes != "label"
    )
    gap = result.model.generalization_gap
    fit = (
        f" The model fits its training {result.subjects} much better than others (train–test gap "
        f"{100 * gap.value:.0f} points): stronger regularisation or early stopping cuts both."
        if gap.value is not None and gap.ci is not None and gap.ci[0] > 0.05
        else ""
    )
    if scores_exposed and labels and not any(_significant(a) for a in labels):
        best = max(labels, key=lambda a: a.auc.value or 0.0)
        return (
            "Serve predicted labels only, not confidence scores: the attacks that read only "
            f"labels found no leak (best AUC {best.auc.value:.2f}), those reading scores did. "
            "Check it: re-run this audit with --output-policy label-only; serve it with "
            "miaudit serve --output-policy label-only." + fit
        )
    if scores_exposed and not labels:
        return (
            "Serve predicted labels only, or the top class, and re-run this audit with "
            "--output-policy label-only to see whether that is enough." + fit
        )
    opening = (
        "Hiding the confidence scores is not enough: the model leaks through its labels too. "
        if scores_exposed
        else "This interface already returns labels only, and the labels still leak. "
    )
    return (
        opening
        + "Retrain with stronger regularisation or with DP-SGD and compare the variants' privacy "
        "and accuracy with miaudit compare (docs/defences.md)." + fit
    )
