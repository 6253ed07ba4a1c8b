"""Interpretation of a result, computed once: the risk level, the findings a CI system flags,
and the four audit questions."""

from __future__ import annotations

from dataclasses import dataclass

from miaudit.assess.findings import ATLAS, OWASP, RULES, Finding, Rule, findings
from miaudit.assess.plain import PlainSummary, plain_summary
from miaudit.assess.questions import Answer, audit_questions
from miaudit.assess.risk import RiskLevel, risk_level
from miaudit.results import AuditResult


@dataclass(frozen=True)
class Assessment:
    """What an audit means: its risk level, findings and answers."""

    risk: RiskLevel
    findings: tuple[Finding, ...]
    questions: tuple[Answer, ...]
    #: The first screen in plain words: what an attacker could learn, and the next step.
    plain: PlainSummary


def assess(result: AuditResult) -> Assessment:
    """The one interpretation of ``result`` that every report format shows."""
    risk = risk_level(result)
    return Assessment(
        risk,
        tuple(findings(result, risk)),
        tuple(audit_questions(result)),
        plain_summary(result, risk.level, result.subjects),
    )


__all__ = [
    "ATLAS",
    "OWASP",
    "RULES",
    "Answer",
    "Assessment",
    "Finding",
    "PlainSummary",
    "RiskLevel",
    "Rule",
    "assess",
    "audit_questions",
    "findings",
    "plain_summary",
    "risk_level",
]
