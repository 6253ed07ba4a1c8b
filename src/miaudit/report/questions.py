"""The four audit questions a privacy officer must answer, and a headline risk level.

Answers come only from what this audit knows; where it cannot know, the answer says
"unknown" and what would settle it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from miaudit.result import AttackResult, AuditResult


DP_QUESTION = "Is differential privacy applied?"
GAP_QUESTION = "What is the train–test gap?"
EXPOSED_QUESTION = "Are confidence scores exposed?"
TESTED_QUESTION = "Has the model been tested for membership inference?"


@dataclass(frozen=True)
class Answer:
    question: str
    answer: str  # "yes", "no", "unknown", "inconsistent" or a short figure
    detail: str

    def to_dict(self) -> dict[str, str]:
        return {"question": self.question, "answer": self.answer, "detail": self.detail}


@dataclass(frozen=True)
class RiskLevel:
    level: str  # "high", "elevated", "not detected"
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"level": self.level, "reason": self.reason}


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def risk_level(result: AuditResult) -> RiskLevel:
    """High: AUC ≥ 0.7 or, at some resolvable FPR ≤ 1%, a TPR lower bound ≥ 5× the FPR.
    Elevated: the AUC interval excludes 0.5. Otherwise no leakage was detected at this
    sample size — which is not proof of privacy."""
    strongest = result.strongest()
    if strongest is None:
        return RiskLevel("unknown", "no attack could run on this target")
    auc = strongest.auc
    for t in strongest.tpr_at_fpr:
        if t.fpr <= 0.01 and t.tpr.ci is not None and t.tpr.ci[0] >= 5 * t.fpr:
            return RiskLevel(
                "high",
                (
                    f"{strongest.name}: TPR at {_pct(t.fpr)} FPR is at least {_pct(t.tpr.ci[0])} "
                    f"(95% lower bound), {t.tpr.ci[0] / t.fpr:.0f}× the false-positive rate"
                ),
            )
    if auc.value is not None and auc.value >= 0.7:
        return RiskLevel("high", f"{strongest.name}: AUC {auc.value:.3f}")
    if auc.ci is not None and auc.ci[0] > 0.5:
        return RiskLevel(
            "elevated",
            (
                f"{strongest.name}: AUC {auc.value:.3f}, interval [{auc.ci[0]:.3f}, "
                f"{auc.ci[1]:.3f}] excludes chance (0.5)"
            ),
        )
    return RiskLevel(
        "not detected",
        (
            "no attack beat chance with confidence at this sample size; this is not proof of "
            "privacy — stronger attacks with reference models may still succeed"
        ),
    )


def _strongest_line(a: AttackResult) -> str:
    line = f"strongest attack: {a.name}, AUC {a.auc.value:.3f}"
    t = a.tpr(0.01)
    if t is not None and t.tpr.value is not None:
        line += f", TPR {_pct(t.tpr.value)} at 1% FPR"
    return line


def audit_questions(result: AuditResult) -> list[Answer]:
    """Answer the four questions from this audit's evidence."""
    strongest = result.strongest()
    eps = max((a.epsilon.value for a in result.attacks), default=0.0)
    delta = result.settings.delta
    declared = result.declared_dp_epsilon
    if strongest is None:
        dp = Answer(
            DP_QUESTION,
            "unknown" if declared is None else "declared",
            (
                "no attack could run on this target, so no lower bound on ε was "
                "measured" + ("" if declared is None else f"; declared ε = {declared:g}")
            ),
        )
    elif declared is None:
        dp = Answer(
            DP_QUESTION,
            "unknown",
            (
                "DP ε not recorded: none was declared to this audit (--dp-epsilon, or "
                "audit.dp_epsilon from the training metadata), and outputs alone cannot prove "
                "it. The measured "
                f"lower bound is ε ≥ {eps:.2f} at δ={delta:g} (95% confidence); a DP guarantee "
                "below that would be false"
            ),
        )
    elif eps > declared:
        dp = Answer(
            DP_QUESTION,
            "inconsistent",
            (
                f"declared ε = {declared:g}, but the audit proves ε ≥ {eps:.2f} at δ={delta:g} "
                "(95% confidence): the declared guarantee cannot hold for this training run"
            ),
        )
    else:
        dp = Answer(
            DP_QUESTION,
            "declared",
            (
                f"declared ε = {declared:g}; the measured lower bound ε ≥ {eps:.2f} at "
                f"δ={delta:g} is consistent with it (an audit can refute a guarantee, not prove it)"
            ),
        )
    model = result.model
    gap = model.generalization_gap
    gap_answer = Answer(
        GAP_QUESTION,
        _pct(gap.value),
        (
            f"train accuracy {_pct(model.train_accuracy.value)} on {result.n_members} members, "
            f"held-out accuracy {_pct(model.test_accuracy.value)} on {result.n_nonmembers} "
            f"non-members; gap interval [{_pct(gap.ci[0] if gap.ci else None)}, "
            f"{_pct(gap.ci[1] if gap.ci else None)}]"
        ),
    )
    exposes = result.target.get("exposes", "unknown")
    if result.target.get("kind") == "precomputed":
        exposed = Answer(
            EXPOSED_QUESTION,
            "unknown",
            (
                f"this audit read precomputed {exposes}; whether the deployed API returns them "
                "is not known to it"
            ),
        )
    elif exposes in ("logits", "probabilities") or "log-probabilities" in str(exposes):
        note = result.target.get("outputs_note")
        exposed = Answer(
            EXPOSED_QUESTION,
            "yes",
            (
                f"the audited interface returns {exposes}"
                + (f" ({note})" if note else "")
                + "; hardening to top-k or label-only removes most of what the score-based "
                "attacks use"
            ),
        )
    else:
        exposed = Answer(EXPOSED_QUESTION, "no", "the audited interface returns labels only")
    not_run = "; ".join(f"{s.name}: {s.reason}" for s in result.skipped)
    if strongest is None:
        tested = Answer(
            TESTED_QUESTION,
            "no",
            (
                f"this audit could run none of the requested attacks ({not_run}); choose attacks "
                "the target supports, e.g. gap for a label-only API"
            ),
        )
    else:
        tested = Answer(
            TESTED_QUESTION,
            "yes",
            (
                f"{len(result.attacks)} attacks on {result.created[:10]} by miaudit "
                f"{result.version}; {_strongest_line(strongest)}"
                + (f"; not run: {', '.join(s.name for s in result.skipped)}" if not_run else "")
            ),
        )
    return [dp, gap_answer, exposed, tested]
