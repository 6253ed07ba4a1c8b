"""``scan.json`` (schema ``miaudit.scan/1``), ``scan.sarif`` (SARIF 2.1.0) and
``scan.junit.xml`` — like the audit's gate outputs, made by the house's SARIF and JUnit
builders and written atomically. The formats are plug-ins of :class:`miaudit.formats.Format`
over a :class:`ScanReport` (the scan and the level that fails it), registered in ``FORMATS``;
``miaudit scan --format`` takes its choices from there."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from miaudit import junit, sarif
from miaudit._taxonomy import ATLAS, ATLAS_TAG, ATLAS_URL, OWASP_TAG
from miaudit._version import __version__
from miaudit.errors import InputError
from miaudit.formats import Format, Formats
from miaudit.scan.probe import ScanResult
from miaudit.scan.rules import LEVELS, RULES, ScanRule

INFORMATION_URI = ATLAS_URL
#: The levels ``--fail-level`` takes: a finding at or above it fails the scan (``none``: never).
FAIL_LEVELS = (*reversed(LEVELS), "none")


@dataclass(frozen=True)
class ScanReport:
    """What a scan's formats render: the scan, and the level from which a finding fails it
    (``error``, ``warning``, ``note`` or ``none``)."""

    result: ScanResult
    fail_level: str = "error"

    def __post_init__(self) -> None:
        if self.fail_level not in FAIL_LEVELS:
            raise InputError(
                f"fail level must be one of {', '.join(FAIL_LEVELS)}, got {self.fail_level!r}"
            )

    def fails(self, level: str) -> bool:
        """Whether a finding at ``level`` fails the scan."""
        return self.fail_level != "none" and LEVELS.index(level) >= LEVELS.index(self.fail_level)


class ScanFormat(Format[ScanReport]):
    """A format of ``miaudit scan``'s results."""


class ScanJson(ScanFormat):
    name: ClassVar[str] = "json"
    filename: ClassVar[str] = "scan.json"

    def render(self, subject: ScanReport, /) -> str:
        return subject.result.to_json()


def _sarif_rule(rule: ScanRule) -> sarif.Rule:
    mitigation = () if rule.atlas == ATLAS else (f"MITRE-ATLAS/{rule.atlas}",)
    return sarif.Rule(
        rule.id,
        rule.name,
        rule.summary,
        description=rule.summary,
        help=rule.remediation,
        severity=rule.severity,
        tags=("security", "privacy", ATLAS_TAG, *mitigation, OWASP_TAG),
    )


class ScanSarif(ScanFormat):
    """One rule per thing an endpoint can give away (MIA101–MIA105), one result per finding,
    located on the endpoint: its path, relative to the base ``ENDPOINT`` (scheme and host)."""

    name: ClassVar[str] = "sarif"
    filename: ClassVar[str] = "scan.sarif"

    def render(self, subject: ScanReport, /) -> str:
        result = subject.result
        where, bases = sarif.location(result.url, "ENDPOINT")
        results = [
            sarif.Result(
                f.rule,
                f.level,
                f.message,
                where,
                {"miauditScan/v1": f"{f.rule}:{result.url}"},
                {"evidence": f.evidence},
            )
            for f in result.findings
        ]
        run = sarif.Run(
            "miaudit-scan",
            [_sarif_rule(r) for r in RULES.values()],
            results,
            version=__version__,
            information_uri=INFORMATION_URI,
            end_time=result.created.replace("+00:00", "Z"),
            base_uris=bases,
        )
        return sarif.render(run)


class ScanJunit(ScanFormat):
    """One test case per rule: failed by a finding at or above the fail level, passed (with
    the finding as its output) below it or without one."""

    name: ClassVar[str] = "junit"
    filename: ClassVar[str] = "scan.junit.xml"

    def render(self, subject: ScanReport, /) -> str:
        found = {f.rule: f for f in subject.result.findings}
        cases = []
        for rule in RULES.values():
            f = found.get(rule.id)
            name = f"{rule.id} {rule.name}"
            if f is not None and subject.fails(f.level):
                failure = junit.Failure(f.message, f.level, rule.remediation)
                cases.append(junit.TestCase(name, "miaudit.scan", failure=failure))
            else:
                output = None if f is None else f"{f.level}: {f.message}"
                cases.append(junit.TestCase(name, "miaudit.scan", output=output))
        properties = (
            ("target", subject.result.url),
            ("queries", str(subject.result.queries)),
            ("fail_level", subject.fail_level),
        )
        suite = junit.TestSuite("miaudit scan", cases, subject.result.created, properties)
        return junit.render(suite)


#: The scan's formats by name.
FORMATS: Formats[ScanReport] = Formats("scan", (ScanJson(), ScanSarif(), ScanJunit()))
#: Format name → file name (kept for callers of the earlier module).
FILES = {name: fmt.filename for name, fmt in FORMATS.items()}


def render(result: ScanResult, fmt: str, fail_level: str = "error") -> str:
    """The scan in one format (``fail_level``: from which level a finding fails the JUnit
    case)."""
    return FORMATS.lookup(fmt).render(ScanReport(result, fail_level))


def write(
    result: ScanResult, directory: Path, formats: Sequence[str], fail_level: str = "error"
) -> list[Path]:
    """Write each format into ``directory`` (created if needed), atomically; return the
    paths."""
    return FORMATS.write(ScanReport(result, fail_level), directory, formats)
