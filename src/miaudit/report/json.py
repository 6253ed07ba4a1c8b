"""``report.json``: the versioned ``miaudit.report/1`` object (docs/report-schema.md)."""

from __future__ import annotations

import json
from typing import Any, ClassVar

from miaudit.assess import ATLAS, OWASP, Assessment
from miaudit.report.interface import ReportFormat
from miaudit.results import SCHEMA, AuditResult


def report_dict(result: AuditResult, assessment: Assessment) -> dict[str, Any]:
    """The whole report as JSON-ready data: the result's own data and its assessment."""
    return {
        "schema": SCHEMA,
        "miaudit_version": result.version,
        "created": result.created,
        "target": result.target,
        "model": result.model.to_dict(),
        "records": {
            "n_members": result.n_members,
            "n_nonmembers": result.n_nonmembers,
            "n_population": result.n_population,
        },
        "settings": result.settings.to_dict(),
        "reference_models": result.reference,
        "notes": list(result.notes),
        "sensitive_data": result.sensitive_data,
        "source": result.source,
        "gate": result.gate.to_dict() if result.gate is not None else None,
        "risk": assessment.risk.to_dict(),
        # the first screen in plain words (every figure in it is also in "attacks")
        "summary": assessment.plain.to_dict(),
        "subjects": result.subjects,
        "class_names": result.class_names,
        "attacks": [a.to_dict() for a in result.attacks],
        # the threat model: the strongest attack at each level of access the audit used
        "access_levels": [
            {
                "access": access,
                "strongest": a.name,
                "auc": a.auc.value,
                "auc_ci": list(a.auc.ci) if a.auc.ci else None,
            }
            for access, a in result.by_access()
        ],
        "skipped_attacks": [{"name": s.name, "reason": s.reason} for s in result.skipped],
        # the DP claim beside what the audit measured and the most an audit this size can show
        "differential_privacy": {
            "declared_epsilon": result.declared_dp_epsilon,
            "measured_lower_bound": max((a.epsilon.value for a in result.attacks), default=0.0),
            "ceiling": result.epsilon_ceiling,
            "delta": result.settings.delta,
            # read through a Gaussian trade-off curve: sound if the training is μ-GDP (DP-SGD)
            "gdp_lower_bound": max(
                (a.epsilon_gdp.epsilon for a in result.attacks if a.epsilon_gdp), default=0.0
            ),
        },
        "audit_questions": [q.to_dict() for q in assessment.questions],
        "findings": [
            {
                "rule": f.rule.id,
                "name": f.rule.name,
                "level": f.level,
                "message": f.message,
                "mitre_atlas": ATLAS,
                "owasp_ml": OWASP,
            }
            for f in assessment.findings
        ],
    }


class JsonFormat(ReportFormat):
    name: ClassVar[str] = "json"
    filename: ClassVar[str] = "report.json"

    def render(self, result: AuditResult, assessment: Assessment) -> str:
        return json.dumps(report_dict(result, assessment), indent=2, allow_nan=False) + "\n"
