"""``report.junit.xml``: one test case per gate check, so any CI shows pass/fail per check.

Policy checks (``--fail-on``) and baseline comparisons are test cases of their own; a failed
check is a ``<failure>`` whose message says what was compared. With no checks at all the suite
holds one passing case recording that the audit ran.
"""

from __future__ import annotations

from typing import ClassVar

from miaudit import junit
from miaudit.assess import Assessment, assess
from miaudit.report.interface import ReportFormat
from miaudit.results import AuditResult, Check


def check_case(check: Check, name: str | None = None) -> junit.TestCase:
    """A gate check as a test case: a failure with the check's detail, or its detail as the
    case's output (``name``: instead of the check's own)."""
    if check.passed:
        return junit.TestCase(name or check.name, f"miaudit.{check.kind}", output=check.detail)
    failure = junit.Failure(check.detail, f"{check.kind} check failed", check.detail)
    return junit.TestCase(name or check.name, f"miaudit.{check.kind}", failure=failure)


class JunitFormat(ReportFormat):
    name: ClassVar[str] = "junit"
    filename: ClassVar[str] = "report.junit.xml"

    def render(self, result: AuditResult, assessment: Assessment | None = None) -> str:
        risk = (assessment or assess(result)).risk
        cases = [check_case(c) for c in (result.gate.checks if result.gate is not None else ())]
        if not cases:
            cases = [
                junit.TestCase(
                    "membership-inference audit",
                    "miaudit.audit",
                    output=f"{len(result.attacks)} attacks ran; risk {risk.level}: "
                    f"{risk.reason}. No policy or baseline was set (--fail-on, --baseline).",
                )
            ]
        properties = (
            ("risk", risk.level),
            ("target", str(result.target.get("kind"))),
            ("members", str(result.n_members)),
            ("nonmembers", str(result.n_nonmembers)),
            ("baseline", result.gate.baseline or "" if result.gate else ""),
        )
        suite = junit.TestSuite("miaudit membership inference", cases, result.created, properties)
        return junit.render(junit.TestSuites("miaudit", [suite]))
