"""``report.html``: a self-contained page (no network) a privacy officer can read.

The page (``templates/report.html.j2``: the head and its style) holds the report's sections in
order (:mod:`miaudit.report.sections`); each built-in section is one template,
``templates/section-<kind>.html.j2``, rendered with the variables this format computes once.
"""

from __future__ import annotations

from typing import Any, ClassVar

import jinja2
from markupsafe import Markup

from miaudit.assess import Assessment, assess
from miaudit.assess.plain import is_language_model
from miaudit.report import text
from miaudit.report.evidence import table_groups, tie_notes
from miaudit.report.interface import ReportFormat
from miaudit.report.plots import histogram_plot, roc_plot
from miaudit.report.sections import View, parts, register_layout, register_renderer
from miaudit.results import AuditResult

_OPTIONS: dict[str, Any] = {
    "loader": jinja2.PackageLoader("miaudit", "report/templates"),
    "autoescape": True,  # every record id and label shown is escaped
    "undefined": jinja2.StrictUndefined,
    "trim_blocks": True,
    "lstrip_blocks": True,
}
_ENVIRONMENT = jinja2.Environment(**_OPTIONS)
#: Sections are pieces of one page: each keeps its last newline.
_SECTIONS = jinja2.Environment(keep_trailing_newline=True, **_OPTIONS)

LAYOUT = (
    "header",
    "summary",
    "audit_questions",
    "findings",
    "gate",
    "attacks",
    "skipped_attacks",
    "access_levels",
    "plots",
    "model",
    "reference_models",
    "notes",
    "at_risk",
    "how_to_read",
)
register_layout("html", LAYOUT, extras_after="at_risk")


def _template_section(kind: str) -> None:
    """A built-in section shown by its template, with the page's variables."""
    template = f"section-{kind}.html.j2"

    def render(result: AuditResult, view: View) -> str:
        return _SECTIONS.get_template(template).render(**view.shared)

    register_renderer(kind, "html", render)


for _kind in LAYOUT:
    _template_section(_kind)


class HtmlFormat(ReportFormat):
    name: ClassVar[str] = "html"
    filename: ClassVar[str] = "report.html"

    def render(self, result: AuditResult, assessment: Assessment | None = None) -> str:
        view = View(result, assessment or assess(result), _variables(result))
        view.shared.update(plain=view.assessment.plain, risk=view.assessment.risk)
        view.shared.update(findings=view.assessment.findings)
        view.shared.update(questions=view.assessment.questions)
        body = Markup("".join(parts(view, "html")))  # each part escapes its own data
        return _ENVIRONMENT.get_template("report.html.j2").render(body=body)


def _variables(result: AuditResult) -> dict[str, Any]:
    """What the section templates show, computed once per page."""
    attacks = sorted(result.attacks, key=lambda a: -(a.auc.value or 0))
    strongest = result.strongest()
    slices = sorted(strongest.slices, key=lambda s: -(s.auc.value or 0))[:30] if strongest else []
    unresolved = {
        t.fpr: t for a in attacks[:1] for t in a.tpr_at_fpr if t.tpr.value is None
    }.values()
    groups = table_groups(result)
    return {
        "result": result,
        "attacks": attacks,
        "groups": groups,
        "tie_notes": tie_notes(result, groups),
        "unresolved": list(unresolved),
        "language_model": is_language_model(result),
        "strongest": strongest,
        "slices": slices,
        "n_slices": len(strongest.slices) if strongest else 0,
        "roc_plot": roc_plot(result),
        "histogram_plot": histogram_plot(result),
        "fmt": text,
    }
