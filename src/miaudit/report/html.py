"""``report.html``: a self-contained page (no network) a privacy officer can read."""

from __future__ import annotations

from typing import ClassVar

import jinja2

from miaudit.assess import Assessment
from miaudit.assess.plain import is_language_model
from miaudit.report import text
from miaudit.report.evidence import table_groups, tie_notes
from miaudit.report.interface import ReportFormat
from miaudit.report.plots import histogram_plot, roc_plot
from miaudit.results import AuditResult

_ENVIRONMENT = jinja2.Environment(
    loader=jinja2.PackageLoader("miaudit", "report/templates"),
    autoescape=True,  # every record id and label shown is escaped
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


class HtmlFormat(ReportFormat):
    name: ClassVar[str] = "html"
    filename: ClassVar[str] = "report.html"

    def render(self, result: AuditResult, assessment: Assessment) -> str:
        attacks = sorted(result.attacks, key=lambda a: -(a.auc.value or 0))
        strongest = result.strongest()
        slices = (
            sorted(strongest.slices, key=lambda s: -(s.auc.value or 0))[:30] if strongest else []
        )
        template = _ENVIRONMENT.get_template("report.html.j2")
        unresolved = {
            t.fpr: t for a in attacks[:1] for t in a.tpr_at_fpr if t.tpr.value is None
        }.values()
        groups = table_groups(result)
        return template.render(
            result=result,
            attacks=attacks,
            groups=groups,
            tie_notes=tie_notes(result, groups),
            unresolved=list(unresolved),
            plain=assessment.plain,
            language_model=is_language_model(result),
            strongest=strongest,
            slices=slices,
            n_slices=len(strongest.slices) if strongest else 0,
            risk=assessment.risk,
            findings=assessment.findings,
            questions=assessment.questions,
            roc_plot=roc_plot(result),
            histogram_plot=histogram_plot(result),
            fmt=text,
        )
