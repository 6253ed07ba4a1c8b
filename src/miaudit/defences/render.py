"""A comparison as JSON (schema ``miaudit.compare/1``, docs/compare-schema.md), Markdown and a
self-contained HTML page with the utility–privacy plot."""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from miaudit._io import atomic_write_text
from miaudit.errors import InputError
from miaudit.report.markdown import md_cell
from miaudit.report.plots import _data_uri, _figure
from miaudit.results.audit import fpr_key

#: A miaudit.defences.compare.Comparison and its VariantResult (not imported: compare imports
#: this module, and the architecture forbids cycles).
Comparison = Any
VariantResult = Any

FORMATS = {"json": "compare.json", "md": "compare.md", "html": "compare.html"}


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


def render(c: Comparison, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(to_dict(c), indent=2, allow_nan=False) + "\n"
    if fmt == "md":
        return markdown(c)
    if fmt == "html":
        return html_page(c)
    raise InputError(f"unknown comparison format {fmt!r}; use json, md or html")


def write(c: Comparison, directory: Path, formats: Sequence[str]) -> list[Path]:
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise InputError(f"unknown comparison formats {unknown}; use json, md or html")
    directory.mkdir(parents=True, exist_ok=True)
    return [atomic_write_text(directory / FORMATS[f], render(c, f)) for f in formats]
