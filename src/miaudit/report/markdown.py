"""``report.md``: a short summary fit for a pull-request comment — its sections in order, each
a list of lines (:mod:`miaudit.report.sections`)."""

from __future__ import annotations

from typing import ClassVar

from miaudit.assess import ATLAS, OWASP, Assessment, assess
from miaudit.metrics import TprAtFpr
from miaudit.report.evidence import table_groups, tie_notes
from miaudit.report.interface import ReportFormat
from miaudit.report.sections import View, parts, register_layout, renders
from miaudit.report.text import estimate, fpr_label, md_cell, measured_fpr, tpr
from miaudit.results import AttackResult, AuditResult

_cell = md_cell


register_layout(
    "md",
    (
        "summary",
        "attacks",
        "skipped_attacks",
        "access_levels",
        "methods",
        "reference_models",
        "notes",
        "unresolved",
        "gate",
        "findings",
        "audit_questions",
        "footer",
    ),
    extras_after="audit_questions",
)


class MarkdownFormat(ReportFormat):
    name: ClassVar[str] = "md"
    filename: ClassVar[str] = "report.md"

    def render(self, result: AuditResult, assessment: Assessment | None = None) -> str:
        view = View(result, assessment or assess(result))
        return "\n".join(line for part in parts(view, "md") for line in part)


@renders("summary", "md")
def _summary(result: AuditResult, view: View) -> list[str]:
    """The risk in plain words, the next step, and what was audited."""
    risk, plain = view.assessment.risk, view.assessment.plain
    return [
        "## miaudit membership-inference audit",
        "",
        f"**Risk: {risk.level}.** {_cell(plain.headline)}",
        "",
        f"**What to do next:** {_cell(plain.next_step)}",
        "",
        f"<sub>Why this risk level: {_cell(risk.reason)}.</sub>",
        "",
        f"Target: `{result.target.get('kind')}` exposing {result.target.get('exposes')}; "
        f"{result.n_members:,} members, {result.n_nonmembers:,} non-members"
        + (f", {result.n_population:,} population records" if result.n_population else "")
        + f". Intervals are {result.settings.confidence:.0%}; each TPR is followed by the FPR "
        "its threshold reached on held-out non-members.",
    ]


@renders("attacks", "md")
def _attacks(result: AuditResult, view: View) -> list[str]:
    """The table of attacks (identical ones share a row) and the notes on ties."""
    fprs = result.settings.fprs
    lines = [
        "",
        "| attack | AUC | "
        + " | ".join(f"TPR @ {fpr_label(f)} FPR" for f in fprs)
        + " | advantage | ε ≥ |",
        "|---|---|" + "---|" * len(fprs) + "---|---|",
    ]
    groups = table_groups(result)
    for group in groups:
        a = group.first
        lines.append(
            f"| {_cell(group.label)} | {estimate(a.auc)} | "
            + " | ".join(_rate(a.tpr(f)) for f in fprs)
            + f" | {estimate(a.advantage)} | {a.epsilon.value:.2f} |"
        )
    return lines + [line for n in tie_notes(result, groups) for line in ("", f"_{_cell(n)}_")]


@renders("skipped_attacks", "md")
def _skipped(result: AuditResult, view: View) -> list[str]:
    if not result.skipped:
        return []
    return ["", "Not run:", ""] + [f"- **{s.name}**: {_cell(s.reason)}" for s in result.skipped]


@renders("access_levels", "md")
def _access_levels(result: AuditResult, view: View) -> list[str]:
    levels = result.by_access()
    if not levels:
        return []
    return [
        "",
        "| what the attacker reads | strongest attack | AUC | queries per record |",
        "|---|---|---|---|",
    ] + [
        f"| {_cell(access)} | {a.name} | {estimate(a.auc)} | {_queries(a)} |"
        for access, a in levels
    ]


@renders("methods", "md")
def _methods(result: AuditResult, view: View) -> list[str]:
    """How the attacks that probe the model did so."""
    probed = [a for a in result.attacks if a.method]
    return [""] * bool(probed) + [f"- {a.name}: {_cell(a.method)}" for a in probed]


@renders("findings", "md")
def _findings(result: AuditResult, view: View) -> list[str]:
    found = view.assessment.findings
    if not found:
        return []
    return ["", f"| finding ({ATLAS}, OWASP {OWASP}) | level | detail |", "|---|---|---|"] + [
        f"| {f.rule.id} {f.rule.name} | {f.level} | {_cell(f.message)} |" for f in found
    ]


@renders("audit_questions", "md")
def _questions(result: AuditResult, view: View) -> list[str]:
    return ["", "| audit question | answer | detail |", "|---|---|---|"] + [
        f"| {q.question} | **{q.answer}** | {_cell(q.detail)} |" for q in view.assessment.questions
    ]


@renders("footer", "md")
def _footer(result: AuditResult, view: View) -> list[str]:
    return [
        "",
        f"<sub>miaudit {result.version} · seed {result.settings.seed} · "
        f"δ = {result.settings.delta:g} · thresholds calibrated on "
        f"{result.settings.calibration}</sub>",
        "",
    ]


def _rate(t: TprAtFpr | None) -> str:
    """``13.0% [5.1%, 25.6%] at FPR 9.8%``."""
    at = measured_fpr(t)
    return tpr(t) + (f" {at}" if at else "")


def _queries(attack: AttackResult) -> str:
    q = attack.queries_per_record
    return "—" if q is None else f"{q:.3g}"


@renders("reference_models", "md")
def _reference_models(result: AuditResult, view: View) -> list[str]:
    ref = result.reference
    if not ref:
        return []
    if ref.get("source", "trained") == "trained":
        return [
            "",
            f"Reference models: {ref['n_models']} ({ref['trained']} trained, "
            f"{ref['cache_hits']} from cache).",
        ]
    return ["", f"Reference models: {ref['n_models']}, outputs from {_cell(ref['source'])}."]


@renders("notes", "md")
def _notes(result: AuditResult, view: View) -> list[str]:
    return [line for note in result.notes for line in ("", f"> **Note:** {_cell(note)}")]


@renders("unresolved", "md")
def _unresolved(result: AuditResult, view: View) -> list[str]:
    """Why some rates are not resolvable (the first reason given)."""
    reason = next(
        (t.tpr.reason for a in result.attacks for t in a.tpr_at_fpr if t.tpr.value is None),
        None,
    )
    found = any(t.tpr.value is None for a in result.attacks for t in a.tpr_at_fpr)
    return ["", f"_{_cell(reason or '')}._"] if found else []


@renders("gate", "md")
def _gate(result: AuditResult, view: View) -> list[str]:
    """The failed checks, and how many passed."""
    gate = result.gate
    if gate is None or not gate.checks:
        return []
    state = "passed" if gate.passed else ("failed (soft)" if gate.soft else "failed")
    lines = [
        "",
        f"**Gate: {state}**"
        + (f" — compared with baseline `{gate.baseline}`" if gate.baseline else ""),
        "",
        "| check | result | what was compared |",
        "|---|---|---|",
    ]
    lines += [
        f"| {_cell(c.name)} | {'pass' if c.passed else '**FAIL**'} | {_cell(c.detail)} |"
        for c in gate.checks
        if not c.passed
    ]
    passed = [c for c in gate.checks if c.passed]
    if passed:
        lines.append(f"| {len(passed)} other checks | pass | |")
    return lines
