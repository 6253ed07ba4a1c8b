"""What the scanner grades: one rule per thing an endpoint can give away."""

from __future__ import annotations

from dataclasses import dataclass

from miaudit._taxonomy import ATLAS, OWASP

LEVELS = ("note", "warning", "error")


@dataclass(frozen=True)
class ScanRule:
    """One thing an endpoint can give away: ``id`` is fixed per rule (never by position);
    ``atlas`` the MITRE ATLAS technique or mitigation it concerns; ``severity`` GitHub's
    ``security-severity`` (0–10) for code scanning."""

    id: str
    name: str
    summary: str
    remediation: str
    atlas: str
    severity: float = 5.0


RULES = {
    r.id: r
    for r in (
        ScanRule(
            "MIA101",
            "unauthenticated-endpoint",
            "The endpoint answers without credentials.",
            "Put the model behind API keys (e.g. `miaudit serve --db … ` with `miaudit keys "
            "add`), so every query is attributable and can be limited and revoked.",
            "AML.M0019",
            7.0,
        ),
        ScanRule(
            "MIA102",
            "confidence-scores-exposed",
            "The endpoint returns confidence scores (probabilities or logits).",
            "Return labels only, or the top class rounded to 1-2 decimals (`--policy "
            "label-only` or `top-k:1,round:2` on a gateway key); audit what remains with "
            "`miaudit audit --output-policy …`.",
            "AML.M0002",
            5.0,
        ),
        ScanRule(
            "MIA103",
            "output-widened-by-client",
            "A client can widen the output (more classes, more decimals, scores instead of "
            "labels) with request parameters.",
            "Ignore output-shaping request parameters at the API, or fix them per key on the "
            "server side.",
            "AML.M0002",
            6.0,
        ),
        ScanRule(
            "MIA104",
            "no-rate-limit",
            "No rate limit was seen within the probe budget.",
            "Limit queries per key (`miaudit keys add --rate 5/s --burst 20 --quota "
            "10000/day`); membership inference needs many queries.",
            "AML.M0004",
            5.0,
        ),
        ScanRule(
            "MIA105",
            "membership-inference-through-endpoint",
            "Membership inference through the endpoint, on records of known membership.",
            "Retrain with a defence that holds up (`miaudit compare`: DP-SGD, regularisation) "
            "or expose less (labels only), then scan again.",
            ATLAS,
            8.0,
        ),
    )
}


@dataclass(frozen=True)
class ScanFinding:
    rule: str
    level: str
    message: str
    evidence: dict[str, object]

    def to_dict(self) -> dict[str, object]:
        rule = RULES[self.rule]
        return {
            "rule": self.rule,
            "name": rule.name,
            "level": self.level,
            "message": self.message,
            "evidence": self.evidence,
            "atlas": rule.atlas,
            "owasp": OWASP,
            "remediation": rule.remediation,
        }
