"""The four audit questions a privacy officer must answer, and a headline risk level.

Answers come only from what this audit knows; where it cannot know, the answer says
"unknown" and what would settle it.
"""

from __future__ import annotations

from dataclasses import dataclass

from miaudit.assess.risk import pct as _pct
from miaudit.results import AttackResult, AuditResult
from miaudit.targets.exposure import Exposure

#: The target kind of an audit that read a table of outputs rather than querying a model.
PRECOMPUTED = "precomputed"


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


def _strongest_line(a: AttackResult) -> str:
    line = f"strongest attack: {a.name}, AUC {a.auc.value:.3f}"
    t = a.tpr(0.01)
    if t is not None and t.tpr.value is not None:
        line += f", TPR {_pct(t.tpr.value)} at 1% FPR"
    return line


def audit_questions(result: AuditResult) -> list[Answer]:
    """Answer the four questions from this audit's evidence."""
    return [_dp(result), _gap(result), _exposed(result), _tested(result)]


def measured_epsilon(result: AuditResult) -> float:
    """The largest ε lower bound any attack proved (0 when none ran)."""
    return max((a.epsilon.value for a in result.attacks), default=0.0)


def _dp(result: AuditResult) -> Answer:
    eps, delta = measured_epsilon(result), result.settings.delta
    declared = result.declared_dp_epsilon
    if result.strongest() is None:
        return Answer(
            DP_QUESTION,
            "unknown" if declared is None else "declared",
            "no attack could run on this target, so no lower bound on ε was "
            "measured" + ("" if declared is None else f"; declared ε = {declared:g}"),
        )
    if declared is None:
        return Answer(
            DP_QUESTION,
            "unknown",
            "DP ε not recorded: none was declared to this audit (--dp-epsilon, or "
            "audit.dp_epsilon from the training metadata), and outputs alone cannot prove "
            "it. The measured "
            f"lower bound is ε ≥ {eps:.2f} at δ={delta:g} (95% confidence); a DP guarantee "
            "below that would be false",
        )
    if eps > declared:
        return Answer(
            DP_QUESTION,
            "inconsistent",
            f"declared ε = {declared:g}, but the audit proves ε ≥ {eps:.2f} at δ={delta:g} "
            "(95% confidence): the declared guarantee cannot hold for this training run",
        )
    return Answer(
        DP_QUESTION,
        "declared",
        f"declared ε = {declared:g}; the measured lower bound ε ≥ {eps:.2f} at "
        f"δ={delta:g} is consistent with it (an audit can refute a guarantee, not prove it)"
        + _ceiling(result, declared),
    )


def _ceiling(result: AuditResult, declared: float) -> str:
    ceiling = result.epsilon_ceiling
    if ceiling is None:
        return ""
    if declared >= ceiling:
        return (
            f"; an audit of this size can show at most ε ≥ {ceiling:.2f}, so it could not "
            "refute this claim even for a model that leaks every record: audit more records"
        )
    return f"; an audit of this size can show up to ε ≥ {ceiling:.2f}"


def _gap(result: AuditResult) -> Answer:
    model = result.model
    gap = model.generalization_gap
    return Answer(
        GAP_QUESTION,
        _pct(gap.value),
        f"train accuracy {_pct(model.train_accuracy.value)} on {result.n_members} members, "
        f"held-out accuracy {_pct(model.test_accuracy.value)} on {result.n_nonmembers} "
        f"non-members; gap interval [{_pct(gap.ci[0] if gap.ci else None)}, "
        f"{_pct(gap.ci[1] if gap.ci else None)}]",
    )


def exposure_of(result: AuditResult) -> Exposure | None:
    """What the audited interface returned; ``None`` when the audit read a table of outputs
    (then what the deployed API returns is not known to it)."""
    if result.target.get("kind") == PRECOMPUTED:
        return None
    if result.exposure is not None:
        return result.exposure
    try:  # a result built by hand: read the target's description
        return Exposure.of(str(result.target.get("exposes")))
    except ValueError:
        return None


def _exposed(result: AuditResult) -> Answer:
    exposes = result.target.get("exposes", "unknown")
    exposure = exposure_of(result)
    if exposure is None:
        return Answer(
            EXPOSED_QUESTION,
            "unknown",
            f"this audit read precomputed {exposes}; whether the deployed API returns them "
            "is not known to it",
        )
    if exposure.reveals_scores:
        note = result.target.get("outputs_note")
        return Answer(
            EXPOSED_QUESTION,
            "yes",
            f"the audited interface returns {exposes}"
            + (f" ({note})" if note else "")
            + "; hardening to top-k or label-only removes most of what the score-based "
            "attacks use",
        )
    return Answer(EXPOSED_QUESTION, "no", "the audited interface returns labels only")


def _tested(result: AuditResult) -> Answer:
    strongest = result.strongest()
    not_run = "; ".join(f"{s.name}: {s.reason}" for s in result.skipped)
    if strongest is None:
        return Answer(
            TESTED_QUESTION,
            "no",
            f"this audit could run none of the requested attacks ({not_run}); choose attacks "
            "the target supports, e.g. gap for a label-only API",
        )
    return Answer(
        TESTED_QUESTION,
        "yes",
        f"{len(result.attacks)} attacks on {result.created[:10]} by miaudit "
        f"{result.version}; {_strongest_line(strongest)}"
        + (f"; not run: {', '.join(s.name for s in result.skipped)}" if not_run else ""),
    )
