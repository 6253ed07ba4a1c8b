"""``report.json``: the versioned ``miaudit.report/1`` object (docs/report-schema.md).

The object is the report's sections in order (:mod:`miaudit.report.sections`), each adding its
keys. The result's own data come from :func:`miaudit.results.serial.dump` — the same field
declarations :func:`miaudit.results.result_from_dict` reads them back by; the assessment and
what is derived from the data (access levels, the measured ε) are written here and not read
back.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from miaudit.assess import ATLAS, OWASP, Assessment, assess
from miaudit.report.interface import ReportFormat
from miaudit.report.sections import View, parts, register_layout, renders
from miaudit.results import SCHEMA, AuditResult
from miaudit.results.serial import dump

register_layout(
    "json",
    (
        "header",
        "model",
        "records",
        "settings",
        "reference_models",
        "notes",
        "sensitive_data",
        "source",
        "gate",
        "risk",
        "summary",
        "subjects",
        "class_names",
        "attacks",
        "access_levels",
        "skipped_attacks",
        "differential_privacy",
        "audit_questions",
        "findings",
    ),
    extras_after="differential_privacy",
)


def report_dict(result: AuditResult, assessment: Assessment) -> dict[str, Any]:
    """The whole report as JSON-ready data: the result's own data and its assessment."""
    out: dict[str, Any] = {}
    for part in parts(View(result, assessment, {"data": dump(result)}), "json"):
        taken = out.keys() & part.keys()
        if taken:
            raise ValueError(f"report.json already has {sorted(taken)}: rename the section")
        out.update(part)
    return out


def _data(view: View) -> dict[str, Any]:
    """The result's own data, as the serialiser writes (and reads) them."""
    return view.shared["data"]


@renders("header", "json")
def _header(result: AuditResult, view: View) -> dict[str, Any]:
    data = _data(view)
    return {"schema": SCHEMA, **{k: data[k] for k in ("miaudit_version", "created", "target")}}


def _field(key: str) -> None:
    """A built-in section that is one key of the result's data, written as it is."""
    renders(key, "json")(lambda result, view: {key: _data(view)[key]})


for _key in (
    "model",
    "records",
    "settings",
    "reference_models",
    "notes",
    "sensitive_data",
    "source",
    "gate",
    "subjects",
    "class_names",
    "attacks",
    "skipped_attacks",
):
    _field(_key)


@renders("risk", "json")
def _risk(result: AuditResult, view: View) -> dict[str, Any]:
    return {"risk": view.assessment.risk.to_dict()}


@renders("summary", "json")
def _summary(result: AuditResult, view: View) -> dict[str, Any]:
    # the first screen in plain words (every figure in it is also in "attacks")
    return {"summary": view.assessment.plain.to_dict()}


@renders("access_levels", "json")
def _access_levels(result: AuditResult, view: View) -> dict[str, Any]:
    # the threat model: the strongest attack at each level of access the audit used
    return {
        "access_levels": [
            {
                "access": access,
                "strongest": a.name,
                "auc": a.auc.value,
                "auc_ci": list(a.auc.ci) if a.auc.ci else None,
            }
            for access, a in result.by_access()
        ]
    }


@renders("differential_privacy", "json")
def _differential_privacy(result: AuditResult, view: View) -> dict[str, Any]:
    # the DP claim beside what the audit measured and the most an audit this size can show
    written = _data(view)["differential_privacy"]
    return {
        "differential_privacy": {
            "declared_epsilon": written["declared_epsilon"],
            "measured_lower_bound": max((a.epsilon.value for a in result.attacks), default=0.0),
            "ceiling": written["ceiling"],
            "delta": result.settings.delta,
            # read through a Gaussian trade-off curve: sound if the training is μ-GDP (DP-SGD)
            "gdp_lower_bound": max(
                (a.epsilon_gdp.epsilon for a in result.attacks if a.epsilon_gdp), default=0.0
            ),
        }
    }


@renders("audit_questions", "json")
def _questions(result: AuditResult, view: View) -> dict[str, Any]:
    return {"audit_questions": [q.to_dict() for q in view.assessment.questions]}


@renders("findings", "json")
def _findings(result: AuditResult, view: View) -> dict[str, Any]:
    return {
        "findings": [
            {
                "rule": f.rule.id,
                "name": f.rule.name,
                "level": f.level,
                "message": f.message,
                "mitre_atlas": ATLAS,
                "owasp_ml": OWASP,
            }
            for f in view.assessment.findings
        ]
    }


class JsonFormat(ReportFormat):
    name: ClassVar[str] = "json"
    filename: ClassVar[str] = "report.json"

    def render(self, result: AuditResult, assessment: Assessment | None = None) -> str:
        report = report_dict(result, assessment or assess(result))
        return json.dumps(report, indent=2, allow_nan=False) + "\n"
