"""What a report format is: one small class that renders a result and its assessment to text."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

from miaudit.assess import Assessment
from miaudit.results import AuditResult


class ReportFormat(ABC):
    """A report format: ``name`` for ``--format``, ``filename`` inside the report folder."""

    name: ClassVar[str]
    filename: ClassVar[str]

    @abstractmethod
    def render(self, result: AuditResult, assessment: Assessment) -> str:
        """The whole report as text."""
