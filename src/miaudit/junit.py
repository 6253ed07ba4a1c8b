"""The one JUnit XML builder: the audit report, the scanner, the monitor and ``compare`` all
describe their checks as test cases in these small frozen values and :func:`render` them.

The XML is made with ElementTree, never by joining strings: every attribute and text is
escaped, and characters XML 1.0 cannot hold at all (control characters other than tab, newline
and carriage return; lone surrogates) are replaced with U+FFFD, so a hostile message from an
endpoint or a log cannot break the file a CI system parses.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass

#: What XML 1.0 cannot hold (its ``Char`` production, inverted).
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(value: str) -> str:
    """``value`` with every character XML 1.0 cannot hold replaced by U+FFFD."""
    return _NOT_XML.sub("\ufffd", value)


@dataclass(frozen=True)
class Failure:
    """Why a test case failed: a one-line ``message``, its ``type`` and an optional body."""

    message: str
    type: str
    text: str | None = None


@dataclass(frozen=True)
class TestCase:
    """One check: passed unless it has a ``failure`` (or is ``skipped``, with the reason);
    ``output`` is its ``<system-out>``: what was measured."""

    __test__ = False  # not a pytest test class

    name: str
    classname: str
    failure: Failure | None = None
    output: str | None = None
    skipped: str | None = None

    def element(self, parent: ET.Element) -> ET.Element:
        case = ET.SubElement(
            parent, "testcase", name=xml_text(self.name), classname=xml_text(self.classname)
        )
        if self.failure is not None:
            failure = ET.SubElement(
                case,
                "failure",
                message=xml_text(self.failure.message),
                type=xml_text(self.failure.type),
            )
            if self.failure.text is not None:
                failure.text = xml_text(self.failure.text)
        if self.skipped is not None:
            ET.SubElement(case, "skipped", message=xml_text(self.skipped))
        if self.output is not None:
            ET.SubElement(case, "system-out").text = xml_text(self.output)
        return case


@dataclass(frozen=True)
class TestSuite:
    """A suite of test cases, with ``properties`` (name, value) describing the run and the
    time it was made (ISO 8601)."""

    __test__ = False  # not a pytest test class

    name: str
    cases: Sequence[TestCase]
    timestamp: str | None = None
    properties: Sequence[tuple[str, str]] = ()

    @property
    def failures(self) -> int:
        return sum(c.failure is not None for c in self.cases)

    @property
    def skipped(self) -> int:
        return sum(c.skipped is not None and c.failure is None for c in self.cases)

    def element(self, parent: ET.Element | None = None) -> ET.Element:
        attributes = {
            "name": xml_text(self.name),
            "tests": str(len(self.cases)),
            "failures": str(self.failures),
            "errors": "0",
            "skipped": str(self.skipped),
        }
        if self.timestamp is not None:
            attributes["timestamp"] = xml_text(self.timestamp)
        if parent is None:
            suite = ET.Element("testsuite", attributes)
        else:
            suite = ET.SubElement(parent, "testsuite", attributes)
        if self.properties:
            properties = ET.SubElement(suite, "properties")
            for name, value in self.properties:
                ET.SubElement(properties, "property", name=xml_text(name), value=xml_text(value))
        for case in self.cases:
            case.element(suite)
        return suite


@dataclass(frozen=True)
class TestSuites:
    """Several suites under one ``<testsuites>`` root, with their totals."""

    __test__ = False  # not a pytest test class

    name: str
    suites: Sequence[TestSuite]

    def element(self) -> ET.Element:
        root = ET.Element(
            "testsuites",
            name=xml_text(self.name),
            tests=str(sum(len(s.cases) for s in self.suites)),
            failures=str(sum(s.failures for s in self.suites)),
            errors="0",
        )
        for suite in self.suites:
            suite.element(root)
        return root


def render(root: TestSuites | TestSuite) -> str:
    """The JUnit XML document of ``root`` (a ``<testsuites>`` or a single ``<testsuite>``):
    an XML declaration, two-space indentation and a final newline."""
    element = root.element()
    ET.indent(element)
    return ET.tostring(element, encoding="unicode", xml_declaration=True) + "\n"


__all__ = ["Failure", "TestCase", "TestSuite", "TestSuites", "render", "xml_text"]
