"""``report.md``: a short summary fit for a pull-request comment."""

from __future__ import annotations

from typing import ClassVar

from miaudit.assess import ATLAS, OWASP, Assessment
from miaudit.metrics import TprAtFpr
from miaudit.report.evidence import table_groups, tie_notes
from miaudit.report.interface import ReportFormat
from miaudit.report.text import estimate, fpr_label, measured_fpr, tpr
from miaudit.results import AttackResult, AuditResult


def md_cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


_cell = md_cell


class MarkdownFormat(ReportFormat):
    name: ClassVar[str] = "md"
    filename: ClassVar[str] = "report.md"

    def render(self, result: AuditResult, assessment: Assessment) -> str:
        lines = _summary(result, assessment) + _context(result) + _gate(result)
        found = assessment.findings
        if found:
            lines += ["", f"| finding ({ATLAS}, OWASP {OWASP}) | level | detail |", "|---|---|---|"]
            lines += [
                f"| {f.rule.id} {f.rule.name} | {f.level} | {_cell(f.message)} |" for f in found
            ]
        lines += ["", "| audit question | answer | detail |", "|---|---|---|"]
        lines += [
            f"| {q.question} | **{q.answer}** | {_cell(q.detail)} |" for q in assessment.questions
        ]
        lines += [
            "",
            f"<sub>miaudit {result.version} · seed {result.settings.seed} · "
            f"δ = {result.settings.delta:g} · thresholds calibrated on "
            f"{result.settings.calibration}</sub>",
            "",
        ]
        return "\n".join(lines)


def _summary(result: AuditResult, assessment: Assessment) -> list[str]:
    """The risk in plain words, the next step, and the table of attacks."""
    risk, plain = assessment.risk, assessment.plain
    fprs = result.settings.fprs
    lines = [
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
    lines += [line for n in tie_notes(result, groups) for line in ("", f"_{_cell(n)}_")]
    if result.skipped:
        lines += ["", "Not run:", ""]
        lines += [f"- **{s.name}**: {_cell(s.reason)}" for s in result.skipped]
    levels = result.by_access()
    if levels:
        lines += [
            "",
            "| what the attacker reads | strongest attack | AUC | queries per record |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| {_cell(access)} | {a.name} | {estimate(a.auc)} | {_queries(a)} |"
            for access, a in levels
        ]
    probed = [a for a in result.attacks if a.method]
    lines += [""] * bool(probed) + [f"- {a.name}: {_cell(a.method)}" for a in probed]
    return lines


def _rate(t: TprAtFpr | None) -> str:
    """``13.0% [5.1%, 25.6%] at FPR 9.8%``."""
    at = measured_fpr(t)
    return tpr(t) + (f" {at}" if at else "")


def _queries(attack: AttackResult) -> str:
    q = attack.queries_per_record
    return "—" if q is None else f"{q:.3g}"


def _context(result: AuditResult) -> list[str]:
    """Reference models, notes, and why some rates are not resolvable."""
    lines: list[str] = []
    if result.reference:
        ref = result.reference
        if ref.get("source", "trained") == "trained":
            lines += [
                "",
                f"Reference models: {ref['n_models']} ({ref['trained']} trained, "
                f"{ref['cache_hits']} from cache).",
            ]
        else:
            lines += [
                "",
                f"Reference models: {ref['n_models']}, outputs from {_cell(ref['source'])}.",
            ]
    for note in result.notes:
        lines += ["", f"> **Note:** {_cell(note)}"]
    reason = next(
        (t.tpr.reason for a in result.attacks for t in a.tpr_at_fpr if t.tpr.value is None),
        None,
    )
    found = any(t.tpr.value is None for a in result.attacks for t in a.tpr_at_fpr)
    if found:
        lines += ["", f"_{_cell(reason or '')}._"]
    return lines


def _gate(result: AuditResult) -> list[str]:
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
