"""A comparison as JSON (schema ``miaudit.compare/1``, docs/compare-schema.md), Markdown, a
self-contained HTML page with the utility–privacy plot, SARIF 2.1.0 and JUnit XML — plug-ins of
:class:`miaudit.formats.Format` over a :class:`ComparisonReport`, registered in ``FORMATS``.

SARIF: each variant's audit findings (the rules MIA001–MIA005 of the audit report, its policy
checks included), the message and fingerprint prefixed with the variant's name, located on the
comparison's config file. JUnit: one test case per variant, its privacy and utility figures and
whether it meets the policy as its output, and, with a policy, one ``recommendation`` case,
failed when no variant meets it: failures exactly when the command exits 1."""

from __future__ import annotations

import dataclasses
import html
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from miaudit import junit, sarif
from miaudit._version import __version__
from miaudit.assess import RULES, assess
from miaudit.formats import Format, Formats
from miaudit.report.markdown import md_cell
from miaudit.report.plots import _data_uri, _figure
from miaudit.report.sarif import INFORMATION_URI, sarif_results, sarif_rule, source_uri
from miaudit.results.audit import fpr_key

#: A miaudit.defences.compare.Comparison and its VariantResult (not imported: compare imports
#: this module, and the architecture forbids cycles).
Comparison = Any
VariantResult = Any


@dataclass(frozen=True)
class ComparisonReport:
    """What a comparison's formats render: the comparison, and the config file it was made
    from (the location of its SARIF results; ``compare.toml`` when not known)."""

    comparison: Comparison
    source: str | None = None


def _estimate(value: Any) -> dict[str, Any]:
    return {"value": value.value, "ci": list(value.ci) if value.ci else None}


def _variant(c: Comparison, v: VariantResult) -> dict[str, Any]:
    strongest = v.result.strongest()
    tprs = {}
    for fpr in c.fprs:
        value, ci, attack = v.worst_tpr(fpr)
        tprs[fpr_key(fpr)] = {"value": value, "ci": list(ci) if ci else None, "attack": attack}
    epsilon = max((a.epsilon.value for a in v.result.attacks), default=0.0)
    gdp = max((a.epsilon_gdp.epsilon for a in v.result.attacks if a.epsilon_gdp), default=0.0)
    return {
        "name": v.name,
        "recipe": v.recipe,
        "utility": {
            "test_accuracy": _estimate(v.result.model.test_accuracy),
            "train_accuracy": _estimate(v.result.model.train_accuracy),
        },
        "privacy": {
            "attack": strongest.name if strongest else None,
            "auc": _estimate(strongest.auc) if strongest else None,
            "tpr_at_fpr": tprs,
            "epsilon_lower_bound": epsilon,
            "epsilon_lower_bound_gdp": gdp,
            "exposes": v.result.exposure.value if v.result.exposure else None,
        },
        "dp_epsilon": v.dp_epsilon,
        "pareto": v.name in c.pareto,
        "meets_policy": None if v.verdict is None else v.verdict.passed,
        "train_seconds": v.train_seconds,
        "attacks_run": [a.name for a in v.result.attacks],
    }


def to_dict(c: Comparison) -> dict[str, Any]:
    return {
        "schema": "miaudit.compare/1",
        "settings": {**c.settings, "fprs": list(c.fprs)},
        "policy": list(c.conditions),
        "leakage_measure": c.leakage,
        "variants": [_variant(c, v) for v in c.variants],
        "recommended": c.recommended,
        "recommendation": c.recommendation,
    }


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def _interval(entry: dict[str, Any] | None) -> str:
    if entry is None or entry["value"] is None:
        return "—"
    return f"{entry['value']:.3f} [{entry['ci'][0]:.3f}, {entry['ci'][1]:.3f}]"


def table(c: Comparison) -> tuple[list[str], list[list[str]]]:
    """The comparison table as plain text cells, the same for Markdown and HTML."""
    fprs = [fpr_key(f) for f in c.fprs]
    header = [
        "variant",
        "held-out accuracy",
        "strongest attack",
        "AUC",
        *(f"TPR @ {f} FPR" for f in fprs),
        "ε lower bound",
        "DP ε",
        "Pareto",
        "train s",
    ]
    rows = []
    for v in to_dict(c)["variants"]:
        p = v["privacy"]
        rows.append(
            [
                v["name"],
                _interval(v["utility"]["test_accuracy"]),
                p["attack"] or "—",
                _interval(p["auc"]),
                *(_pct(p["tpr_at_fpr"][f]["value"]) for f in fprs),
                f"{p['epsilon_lower_bound']:.2f}",
                "—" if v["dp_epsilon"] is None else f"{v['dp_epsilon']:g}",
                "yes" if v["pareto"] else "",
                f"{v['train_seconds']:.2f}",
            ]
        )
    return header, rows


def _summary(c: Comparison) -> str:
    return (
        f"Leakage on the Pareto front: {c.leakage} (the worst attack). "
        f"Recommended: {c.recommended or 'none'} — {c.recommendation}."
    )


def markdown(c: Comparison) -> str:
    header, rows = table(c)
    lines = [
        "# Defences compared: privacy beside utility",
        "",
        _summary(c),
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(md_cell(x) for x in row) + " |" for row in rows),
        "",
        "Variants: " + "; ".join(f"{md_cell(v.name)}: {md_cell(v.recipe)}" for v in c.variants),
    ]
    return "\n".join(lines) + "\n"


def plot(c: Comparison) -> str:
    """Held-out accuracy against leakage, the Pareto front joined, as an SVG data URI."""
    figure = _figure(7.0, 4.4)
    axes = figure.add_subplot()
    points = sorted((c.leakage_of(v), v.accuracy, v.name) for v in c.variants)
    for x, y, name in points:
        front = name in c.pareto
        axes.scatter([x], [y], s=40, color="#c0392b" if front else "#7f8c8d", zorder=3)
        axes.annotate(name, (x, y), textcoords="offset points", xytext=(5, 4), fontsize=8)
    front_points = [(x, y) for x, y, n in points if n in c.pareto]
    if len(front_points) > 1:
        axes.plot(*zip(*front_points, strict=True), color="#c0392b", linewidth=1, zorder=2)
    label = (
        "AUC of the strongest attack"
        if c.leakage == "auc"
        else f"worst attack's TPR at {c.leakage[4:]} FPR"
    )
    axes.set_xlabel(f"leakage: {label}")
    axes.set_ylabel("held-out accuracy")
    axes.grid(alpha=0.3)
    return _data_uri(figure)


def html_page(c: Comparison) -> str:
    header, rows = table(c)
    head = "".join(f"<th>{html.escape(cell)}</th>" for cell in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>" for row in rows
    )
    recipes = "".join(
        f"<li><b>{html.escape(v.name)}</b>: {html.escape(v.recipe)}</li>" for v in c.variants
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>miaudit: defences compared"
        "</title><style>body{font-family:system-ui,sans-serif;margin:2em;max-width:75em}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;"
        "font-size:0.9em}th{background:#f4f4f4}</style></head><body>"
        "<h1>Defences compared: privacy beside utility</h1>"
        f"<p>{html.escape(_summary(c))}</p>"
        f"<img alt='held-out accuracy against leakage' src='{plot(c)}'>"
        f"<table><tr>{head}</tr>{body}</table><ul>{recipes}</ul>"
        f"<p>Policy: {html.escape(' and '.join(c.conditions) or 'none')}.</p></body></html>\n"
    )


class ComparisonFormat(Format[ComparisonReport]):
    """A format of ``miaudit compare``'s results."""


class ComparisonJson(ComparisonFormat):
    name: ClassVar[str] = "json"
    filename: ClassVar[str] = "compare.json"

    def render(self, subject: ComparisonReport, /) -> str:
        return json.dumps(to_dict(subject.comparison), indent=2, allow_nan=False) + "\n"


class ComparisonMarkdown(ComparisonFormat):
    name: ClassVar[str] = "md"
    filename: ClassVar[str] = "compare.md"

    def render(self, subject: ComparisonReport, /) -> str:
        return markdown(subject.comparison)


class ComparisonHtml(ComparisonFormat):
    name: ClassVar[str] = "html"
    filename: ClassVar[str] = "compare.html"

    def render(self, subject: ComparisonReport, /) -> str:
        return html_page(subject.comparison)


class ComparisonSarif(ComparisonFormat):
    name: ClassVar[str] = "sarif"
    filename: ClassVar[str] = "compare.sarif"

    def render(self, subject: ComparisonReport, /) -> str:
        c = subject.comparison
        uri = source_uri(subject.source) if subject.source else "compare.toml"
        results = [
            found
            for v in c.variants
            for found in sarif_results(
                assess(dataclasses.replace(v.result, gate=v.verdict)), uri, f"{v.name}: "
            )
        ]
        run = sarif.Run(
            "miaudit-compare",
            [sarif_rule(r) for r in RULES.values()],
            results,
            version=__version__,
            semantic_version=__version__,
            information_uri=INFORMATION_URI,
            automation_id="miaudit/compare/",
        )
        return sarif.render(run)


def _meets(v: VariantResult) -> str:
    """Whether variant ``v`` meets the policy, and which checks it fails (empty: no policy)."""
    if v.verdict is None:
        return ""
    failed = [k.detail for k in v.verdict.checks if not k.passed]
    return ". Meets the policy." if not failed else f". Fails the policy: {'; '.join(failed)}."


class ComparisonJunit(ComparisonFormat):
    """One case per variant, passed, with its figures and whether it meets the policy; with a
    policy, one ``recommendation`` case, failed when no variant meets it — failures exactly
    when ``miaudit compare`` exits 1, as in the audit's and the scan's JUnit."""

    name: ClassVar[str] = "junit"
    filename: ClassVar[str] = "compare.junit.xml"

    def render(self, subject: ComparisonReport, /) -> str:
        c = subject.comparison
        header, rows = table(c)
        cases = []
        for v, row in zip(c.variants, rows, strict=True):
            figures = "; ".join(f"{h}: {x}" for h, x in zip(header[1:], row[1:], strict=True))
            cases.append(
                junit.TestCase(
                    v.name, "miaudit.compare", output=f"{v.recipe}. {figures}{_meets(v)}"
                )
            )
        if c.conditions:  # the gate: failed when no variant meets the policy (exit 1)
            none_meets = junit.Failure(c.recommendation, "no variant meets the policy")
            cases.append(
                junit.TestCase(
                    "recommendation",
                    "miaudit.compare",
                    None if c.recommended else none_meets,
                    _summary(c) if c.recommended else None,
                )
            )
        properties = (
            ("policy", " and ".join(c.conditions) or "none"),
            ("leakage_measure", c.leakage),
            ("recommended", c.recommended or ""),
        )
        return junit.render(
            junit.TestSuites(
                "miaudit", [junit.TestSuite("miaudit compare", cases, None, properties)]
            )
        )


#: The comparison's formats by name.
FORMATS: Formats[ComparisonReport] = Formats(
    "comparison",
    (
        ComparisonJson(),
        ComparisonMarkdown(),
        ComparisonHtml(),
        ComparisonSarif(),
        ComparisonJunit(),
    ),
)
#: Written when no format is asked for.
DEFAULT_FORMATS = ("json", "md", "html")


def render(c: Comparison, fmt: str, source: str | None = None) -> str:
    """The comparison in one format (``source``: the config file it was made from)."""
    return FORMATS.lookup(fmt).render(ComparisonReport(c, source))


def write(
    c: Comparison,
    directory: Path,
    formats: Sequence[str] = DEFAULT_FORMATS,
    source: str | None = None,
) -> list[Path]:
    """Write each format into ``directory`` (created if needed), atomically; return the
    paths. An unknown format fails before any file is written."""
    return FORMATS.write(ComparisonReport(c, source), directory, formats)
