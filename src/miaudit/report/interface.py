"""What a report format is: one small class that renders an :class:`AuditResult` to text."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from miaudit.result import AuditResult


class ReportFormat(ABC):
    """A report format: ``name`` for ``--format``, ``filename`` inside the report folder."""

    name: ClassVar[str]
    filename: ClassVar[str]

    @abstractmethod
    def render(self, result: AuditResult) -> str:
        """The whole report as text."""
