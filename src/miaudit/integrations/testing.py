"""Membership-inference checks inside a team's own test suite.

    from miaudit.testing import assert_no_membership_leakage

    def test_model_does_not_leak(tmp_path):
        assert_no_membership_leakage(model, (x_train, y_train), (x_test, y_test),
                                     max_auc=0.6, report_dir=tmp_path)

The pytest plugin (installed with miaudit) also offers the fixture ``miaudit_leakage``: the
same function with ``report_dir`` set to the test's temporary folder.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from miaudit.audit import Records, audit
from miaudit.errors import InputError
from miaudit.gate import evaluate, parse_conditions
from miaudit.report import write
from miaudit.results import AuditResult


def assert_no_membership_leakage(
    model: Any,
    members: Records,
    nonmembers: Records,
    *,
    population: Records | None = None,
    max_auc: float | None = None,
    max_tpr: Mapping[float, float] | None = None,
    max_advantage: float | None = None,
    max_epsilon: float | None = None,
    max_gap: float | None = None,
    attacks: Sequence[str] | None = None,
    report_dir: str | Path | None = None,
    seed: int = 0,
    **audit_options: Any,
) -> AuditResult:
    """Audit ``model`` and raise ``AssertionError`` if any limit is exceeded (over the
    strongest attack); return the result otherwise. ``max_tpr`` maps an FPR to the highest
    TPR allowed there, e.g. ``{0.01: 0.05}``. The report is written to ``report_dir`` (a new
    temporary folder if not given) and the failure message names it."""
    conditions = [
        f"{name}>{limit!r}"
        for name, limit in (
            ("auc", max_auc),
            ("advantage", max_advantage),
            ("epsilon", max_epsilon),
            ("gap", max_gap),
        )
        if limit is not None
    ]
    conditions += [f"tpr@{fpr!r}>{limit!r}" for fpr, limit in (max_tpr or {}).items()]
    if not conditions:
        raise InputError(
            "assert_no_membership_leakage: set at least one limit (max_auc, "
            "max_tpr, max_advantage, max_epsilon or max_gap)"
        )
    parsed = parse_conditions(conditions)
    fprs = sorted({0.001, 0.01, 0.1} | {c.fpr for c in parsed if c.fpr is not None})
    result = audit(
        model,
        members,
        nonmembers,
        population,
        attacks=attacks,
        seed=seed,
        fprs=fprs,
        **audit_options,
    )
    verdict = evaluate(result, parsed)
    result = dataclasses.replace(result, gate=verdict)
    out = Path(report_dir) if report_dir is not None else Path(tempfile.mkdtemp(prefix="miaudit-"))
    write(result, out, ["json", "html", "md"])
    if not verdict.passed:
        strongest = result.strongest()
        lines = ["membership-inference leakage above the limits:"]
        lines += [f"  - {breach}" for breach in verdict.breaches]
        if strongest is not None:
            lines.append(
                f"strongest attack: {strongest.name}, AUC {strongest.auc.value:.3f} "
                f"[{strongest.auc.ci[0]:.3f}, {strongest.auc.ci[1]:.3f}]"
                if strongest.auc.ci
                else f"strongest attack: {strongest.name}"
            )
        lines.append(
            f"model: train accuracy {result.model.train_accuracy.value:.1%}, held-out "
            f"{result.model.test_accuracy.value:.1%}"
        )
        lines.append(f"report: {out / 'report.html'}")
        raise AssertionError("\n".join(lines))
    return result
