"""The headline risk level of an audit, from its strongest attack."""

from __future__ import annotations

from dataclasses import dataclass

from miaudit.results import AuditResult


@dataclass(frozen=True)
class RiskLevel:
    level: str  # "high", "elevated", "not detected"
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"level": self.level, "reason": self.reason}


def pct(x: float | None) -> str:
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
                    f"{strongest.name}: TPR at {pct(t.fpr)} FPR is at least {pct(t.tpr.ci[0])} "
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
