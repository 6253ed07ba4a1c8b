"""CI integration: GitHub Actions annotations and job summary.

Under GitHub Actions (``GITHUB_ACTIONS=true``) every finding becomes an ``::error`` or
``::warning`` workflow command located on the audited file, and the Markdown report is
appended to the job summary (``$GITHUB_STEP_SUMMARY``). Elsewhere this does nothing.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, TextIO

from miaudit._io import append_text
from miaudit.assess import Assessment, assess
from miaudit.report import render
from miaudit.report.sarif import source_uri

if TYPE_CHECKING:
    from miaudit.results import AuditResult


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotations(result: AuditResult, assessment: Assessment | None = None) -> list[str]:
    """The workflow commands for this result's findings (``note`` findings are left out)."""
    file = _escape_property(source_uri(result.source))
    lines = []
    for finding in (assessment or assess(result)).findings:
        if finding.level == "note":
            continue
        command = "error" if finding.level == "error" else "warning"
        title = _escape_property(f"miaudit {finding.rule.id}: {finding.rule.summary}")
        lines.append(
            f"::{command} file={file},line=1,title={title}::{_escape_data(finding.message)}"
        )
    return lines


def github_actions(
    result: AuditResult, stream: TextIO | None = None, assessment: Assessment | None = None
) -> bool:
    """Emit annotations and the job summary if running under GitHub Actions; return whether
    it did."""
    if os.environ.get("GITHUB_ACTIONS") != "true":
        return False
    out = stream or sys.stdout
    for line in annotations(result):
        print(line, file=out)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        append_text(summary, render(result, "md", assessment) + "\n")
    return True
