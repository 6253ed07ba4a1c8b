"""``report.junit.xml``: one test case per gate check, so any CI shows pass/fail per check.

Policy checks (``--fail-on``) and baseline comparisons are test cases of their own; a failed
check is a ``<failure>`` whose message says what was compared. With no checks at all the suite
holds one passing case recording that the audit ran.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import ClassVar

from miaudit.assess import Assessment
from miaudit.report.interface import ReportFormat
from miaudit.results import AuditResult


class JunitFormat(ReportFormat):
    name: ClassVar[str] = "junit"
    filename: ClassVar[str] = "report.junit.xml"

    def render(self, result: AuditResult, assessment: Assessment) -> str:
        checks = list(result.gate.checks) if result.gate is not None else []
        failures = sum(not c.passed for c in checks)
        suites = ET.Element(
            "testsuites",
            name="miaudit",
            tests=str(max(len(checks), 1)),
            failures=str(failures),
            errors="0",
        )
        suite = ET.SubElement(
            suites,
            "testsuite",
            name="miaudit membership inference",
            tests=str(max(len(checks), 1)),
            failures=str(failures),
            errors="0",
            skipped="0",
            timestamp=result.created,
        )
        properties = ET.SubElement(suite, "properties")
        risk = assessment.risk
        for name, value in (
            ("risk", risk.level),
            ("target", str(result.target.get("kind"))),
            ("members", str(result.n_members)),
            ("nonmembers", str(result.n_nonmembers)),
            ("baseline", result.gate.baseline or "" if result.gate else ""),
        ):
            ET.SubElement(properties, "property", name=name, value=value)
        for check in checks:
            case = ET.SubElement(
                suite, "testcase", name=check.name, classname=f"miaudit.{check.kind}"
            )
            if not check.passed:
                failure = ET.SubElement(
                    case, "failure", message=check.detail, type=f"{check.kind} check failed"
                )
                failure.text = check.detail
            else:
                ET.SubElement(case, "system-out").text = check.detail
        if not checks:
            case = ET.SubElement(
                suite, "testcase", name="membership-inference audit", classname="miaudit.audit"
            )
            ET.SubElement(case, "system-out").text = (
                f"{len(result.attacks)} attacks ran; risk {risk.level}: {risk.reason}. No "
                "policy or baseline was set (--fail-on, --baseline)."
            )
        ET.indent(suites)
        return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"
