"""``report.sarif``: SARIF 2.1.0 for code scanning (GitHub, GitLab, Azure DevOps).

One rule per finding kind (report/findings.py) with a stable id, level and
``security-severity``, tags for MITRE ATLAS and OWASP; each result carries
``partialFingerprints`` so code scanning tracks it across runs, and is located on the file the
audit was configured from.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any, ClassVar

from miaudit.assess import ATLAS, OWASP, RULES, Assessment
from miaudit.report.interface import ReportFormat
from miaudit.results import AuditResult

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://atlas.mitre.org/techniques/AML.T0024.000"


def source_uri(source: str | None) -> str:
    """The audited file as a repository-relative URI (relative to the working directory)."""
    if not source:
        return "miaudit.toml"
    path = Path(source).resolve()
    with contextlib.suppress(ValueError):  # ValueError: on another drive
        path = Path(os.path.relpath(path, Path.cwd()))
    return path.as_posix()


def _rule(rule: Any) -> dict[str, Any]:
    return {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule.help},
        "help": {"text": rule.help, "markdown": rule.help},
        "helpUri": INFORMATION_URI,
        "defaultConfiguration": {"level": rule.level},
        "properties": {
            "security-severity": f"{rule.severity:.1f}",
            "tags": [
                "security",
                "privacy",
                "membership-inference",
                f"MITRE-ATLAS/{ATLAS}",
                f"OWASP-ML/{OWASP}",
            ],
        },
    }


class SarifFormat(ReportFormat):
    name: ClassVar[str] = "sarif"
    filename: ClassVar[str] = "report.sarif"

    def render(self, result: AuditResult, assessment: Assessment) -> str:
        rules = list(RULES.values())
        index = {r.id: i for i, r in enumerate(rules)}
        uri = source_uri(result.source)
        results = [
            {
                "ruleId": f.rule.id,
                "ruleIndex": index[f.rule.id],
                "level": f.level,
                "message": {"text": f.message},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": uri},
                            "region": {"startLine": 1, "startColumn": 1},
                        }
                    }
                ],
                "partialFingerprints": {"miauditFinding/v1": f.fingerprint},
                "properties": {"atlas": ATLAS, "owasp": OWASP},
            }
            for f in assessment.findings
        ]
        sarif = {
            "$schema": SARIF_SCHEMA,
            "version": "2.1.0",
            "runs": [
                {
                    "tool": {
                        "driver": {
                            "name": "miaudit",
                            "version": result.version,
                            "semanticVersion": result.version,
                            "informationUri": INFORMATION_URI,
                            "rules": [_rule(r) for r in rules],
                        }
                    },
                    "automationDetails": {"id": "miaudit/membership-inference/"},
                    "results": results,
                    "invocations": [
                        {
                            "executionSuccessful": True,
                            "endTimeUtc": result.created.replace("+00:00", "Z"),
                        }
                    ],
                }
            ],
        }
        return json.dumps(sarif, indent=2) + "\n"
