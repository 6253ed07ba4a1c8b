"""``report.sarif``: SARIF 2.1.0 for code scanning (GitHub, GitLab, Azure DevOps).

One rule per finding kind (report/findings.py) with a stable id, level and
``security-severity``, tags for MITRE ATLAS and OWASP; each result carries
``partialFingerprints`` so code scanning tracks it across runs, and is located on the file the
audit was configured from.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import ClassVar

from miaudit import sarif
from miaudit._taxonomy import ATLAS, ATLAS_TAG, ATLAS_URL, OWASP, OWASP_TAG
from miaudit.assess import RULES, Assessment, Rule, assess
from miaudit.report.interface import ReportFormat
from miaudit.results import AuditResult

SARIF_SCHEMA = sarif.SCHEMA_URI
INFORMATION_URI = ATLAS_URL
TAGS = ("security", "privacy", "membership-inference", ATLAS_TAG, OWASP_TAG)


def source_uri(source: str | None) -> str:
    """The audited file as a repository-relative URI (relative to the working directory)."""
    if not source:
        return "miaudit.toml"
    path = Path(source).resolve()
    with contextlib.suppress(ValueError):  # ValueError: on another drive
        path = Path(os.path.relpath(path, Path.cwd()))
    return path.as_posix()


def sarif_rule(rule: Rule) -> sarif.Rule:
    """An audit finding's rule (assess/findings.py) as a SARIF rule."""
    return sarif.Rule(
        rule.id,
        rule.name,
        rule.summary,
        description=rule.help,
        help=rule.help,
        help_markdown=rule.help,
        help_uri=INFORMATION_URI,
        level=rule.level,
        severity=rule.severity,
        tags=TAGS,
    )


def sarif_results(assessment: Assessment, uri: str, prefix: str = "") -> list[sarif.Result]:
    """The findings of an audit as SARIF results located on ``uri`` (``prefix``: put before
    each message and fingerprint, e.g. a variant's name)."""
    where = sarif.Location(uri, region=(1, 1))
    return [
        sarif.Result(
            f.rule.id,
            f.level,
            prefix + f.message,
            where,
            {"miauditFinding/v1": prefix + f.fingerprint},
            {"atlas": ATLAS, "owasp": OWASP},
        )
        for f in assessment.findings
    ]


class SarifFormat(ReportFormat):
    name: ClassVar[str] = "sarif"
    filename: ClassVar[str] = "report.sarif"

    def render(self, result: AuditResult, assessment: Assessment | None = None) -> str:
        assessment = assessment or assess(result)
        run = sarif.Run(
            "miaudit",
            [sarif_rule(r) for r in RULES.values()],
            sarif_results(assessment, source_uri(result.source)),
            version=result.version,
            semantic_version=result.version,
            information_uri=INFORMATION_URI,
            automation_id="miaudit/membership-inference/",
            end_time=result.created.replace("+00:00", "Z"),
        )
        return sarif.render(run)
