"""``scan.json`` (schema ``miaudit.scan/1``), ``scan.sarif`` (SARIF 2.1.0) and
``scan.junit.xml`` — like the audit's gate outputs."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from miaudit.errors import InputError
from miaudit.scan.probe import ScanResult
from miaudit.scan.rules import OWASP, RULES

FILES = {"json": "scan.json", "sarif": "scan.sarif", "junit": "scan.junit.xml"}
INFORMATION_URI = "https://atlas.mitre.org/techniques/AML.T0024.000"


def _sarif(result: ScanResult) -> str:
    rules = list(RULES.values())
    index = {r.id: i for i, r in enumerate(rules)}
    sarif = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "miaudit-scan",
                        "informationUri": INFORMATION_URI,
                        "rules": [
                            {
                                "id": r.id,
                                "name": r.name,
                                "shortDescription": {"text": r.summary},
                                "help": {"text": r.remediation},
                                "properties": {
                                    "tags": [
                                        "security",
                                        "privacy",
                                        f"MITRE-ATLAS/{r.atlas}",
                                        f"OWASP-ML/{OWASP}",
                                    ]
                                },
                            }
                            for r in rules
                        ],
                    }
                },
                "results": [
                    {
                        "ruleId": f.rule,
                        "ruleIndex": index[f.rule],
                        "level": f.level,
                        "message": {"text": f.message},
                        "locations": [
                            {"physicalLocation": {"artifactLocation": {"uri": result.url}}}
                        ],
                        "partialFingerprints": {"miauditScan/v1": f"{f.rule}:{result.url}"},
                        "properties": {"evidence": f.evidence},
                    }
                    for f in result.findings
                ],
            }
        ],
    }
    return json.dumps(sarif, indent=2) + "\n"


def _junit(result: ScanResult, fail_level: str) -> str:
    from miaudit.scan.rules import LEVELS

    found = {f.rule: f for f in result.findings}
    cases = []
    failures = 0
    for rule in RULES.values():
        f = found.get(rule.id)
        failing = (
            f is not None
            and fail_level != "none"
            and LEVELS.index(f.level) >= LEVELS.index(fail_level)
        )
        body = ""
        if failing:
            failures += 1
            body = (
                f"<failure message={quoteattr(f.message)} type={quoteattr(f.level)}>"
                f"{escape(rule.remediation)}</failure>"
            )
        elif f is not None:
            body = f"<system-out>{escape(f.level + ': ' + f.message)}</system-out>"
        cases.append(
            f'  <testcase classname="miaudit.scan" name={quoteattr(rule.id + " " + rule.name)}>'
            f"{body}</testcase>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<testsuite name="miaudit scan" tests="{len(RULES)}" failures="{failures}">\n'
        + "\n".join(cases)
        + "\n</testsuite>\n"
    )


def render(result: ScanResult, fmt: str, fail_level: str = "error") -> str:
    if fmt == "json":
        return result.to_json()
    if fmt == "sarif":
        return _sarif(result)
    if fmt == "junit":
        return _junit(result, fail_level)
    raise InputError(f"unknown scan format {fmt!r}; use {', '.join(FILES)}")


def write(
    result: ScanResult, directory: Path, formats: Sequence[str], fail_level: str = "error"
) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in formats:
        path = directory / FILES[fmt]
        path.write_text(render(result, fmt, fail_level), encoding="utf-8")
        paths.append(path)
    return paths
