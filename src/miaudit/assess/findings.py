"""Findings: what a CI system should flag, one rule per kind, with stable ids.

SARIF results and GitHub annotations are both rendered from these. Every rule is tagged with
the threat it evidences: MITRE ATLAS AML.T0024.000 (Infer Training Data Membership) and OWASP
Machine Learning Security Top 10 ML04:2023 (Membership Inference Attack).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from miaudit._taxonomy import ATLAS, OWASP
from miaudit.assess.questions import exposure_of, measured_epsilon
from miaudit.assess.risk import RiskLevel, risk_level
from miaudit.results import AuditResult

__all__ = ["ATLAS", "OWASP", "RULES", "Finding", "Rule", "findings"]


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    summary: str
    help: str
    level: str  # default SARIF level: error | warning | note
    severity: float  # GitHub's security-severity, 0–10


RULES = {
    r.id: r
    for r in (
        Rule(
            "MIA001",
            "MembershipLeakageAbovePolicy",
            "Membership-inference leakage above the policy limit",
            "An attack measured more leakage than the policy in the audit config allows. Retrain "
            "with regularisation or DP-SGD, or harden the outputs; then re-audit.",
            "error",
            8.0,
        ),
        Rule(
            "MIA002",
            "MembershipLeakageRegression",
            "Membership-inference leakage regressed against the baseline",
            "An attack's interval lies above the baseline's: this model leaks significantly more "
            "than the baseline release. Compare the training changes since the baseline.",
            "error",
            7.5,
        ),
        Rule(
            "MIA003",
            "ConfidenceScoresExposed",
            "The model interface exposes confidence scores",
            "The audited interface returns probabilities or logits, which score-based membership "
            "attacks use. Return top-k labels or labels only where the product allows.",
            "warning",
            5.0,
        ),
        Rule(
            "MIA004",
            "NoDifferentialPrivacy",
            "No differential-privacy guarantee for sensitive data or a model that leaks",
            "The training data are marked sensitive, or leakage was detected, and no DP ε was "
            "declared (or the declared ε is refuted by the measured lower bound). Train with "
            "DP-SGD and declare its ε, or document why not.",
            "warning",
            6.0,
        ),
        Rule(
            "MIA005",
            "MembershipInferenceRisk",
            "Membership inference succeeds against the model",
            "An attack beat chance with confidence: records of the training set can be told "
            "apart from others. See the HTML report's most exposed records.",
            "warning",
            6.5,
        ),
    )
}


@dataclass(frozen=True)
class Finding:
    rule: Rule
    level: str
    message: str
    key: str  # what makes this finding the same finding in the next run

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(f"{self.rule.id}|{self.key}".encode()).hexdigest()[:32]


def findings(result: AuditResult, risk: RiskLevel | None = None) -> list[Finding]:
    """Every finding of this audit, most serious rules first (``risk``: its risk level, if
    already computed)."""
    risk = risk or risk_level(result)
    leaks = risk.level in ("high", "elevated")
    out = _gate_findings(result)
    if leaks:
        rule = RULES["MIA005"]
        out.append(
            Finding(
                rule,
                "error" if risk.level == "high" else "warning",
                f"membership-inference risk {risk.level}: {risk.reason}",
                "risk",
            )
        )
    dp = _dp_finding(result, leaks)
    if dp is not None:
        out.append(dp)
    exposure = exposure_of(result)
    if exposure is not None and exposure.reveals_scores:
        rule = RULES["MIA003"]
        out.append(
            Finding(
                rule,
                rule.level if leaks else "note",
                f"the audited interface returns {result.target.get('exposes')}",
                "exposure",
            )
        )
    return out


def _gate_findings(result: AuditResult) -> list[Finding]:
    out = []
    for check in result.gate.checks if result.gate is not None else ():
        if not check.passed:
            rule = RULES["MIA001" if check.kind == "policy" else "MIA002"]
            out.append(Finding(rule, rule.level, check.detail, f"{check.attack}|{check.name}"))
    return out


def _dp_finding(result: AuditResult, leaks: bool) -> Finding | None:
    declared = result.declared_dp_epsilon
    measured = measured_epsilon(result)
    delta = result.settings.delta
    if declared is not None and measured > declared:
        return Finding(
            RULES["MIA004"],
            "error",
            f"the declared ε = {declared:g} is refuted: the audit measured "
            f"ε ≥ {measured:.2f} at δ = {delta:g}",
            "dp",
        )
    if declared is None and (leaks or result.sensitive_data):
        why = (
            "the training data are marked sensitive"
            if result.sensitive_data
            else "membership leakage was detected"
        )
        return Finding(
            RULES["MIA004"],
            RULES["MIA004"].level,
            f"no DP ε declared, {why}; the audit measured ε ≥ {measured:.2f} at δ = {delta:g}",
            "dp",
        )
    return None
