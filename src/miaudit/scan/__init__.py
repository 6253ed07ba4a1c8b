"""The scanner: grade what a live prediction endpoint exposes, from the outside
(``miaudit scan URL``)."""

from miaudit.scan.formats import render, write
from miaudit.scan.membership import membership_probe
from miaudit.scan.probe import SCHEMA, ScanResult, scan
from miaudit.scan.rules import LEVELS, RULES, ScanFinding, ScanRule

__all__ = [
    "LEVELS",
    "RULES",
    "SCHEMA",
    "ScanFinding",
    "ScanResult",
    "ScanRule",
    "membership_probe",
    "render",
    "scan",
    "write",
]
