"""What a report format is: the house's one :class:`~miaudit.formats.Format`, for audit
results. A report format renders a result and its assessment to text."""

from __future__ import annotations

from abc import abstractmethod
from typing import ClassVar

from miaudit.assess import Assessment
from miaudit.formats import Format
from miaudit.results import AuditResult


class ReportFormat(Format[AuditResult]):
    """A report format: ``name`` for ``--format``, ``filename`` inside the report folder.

    ``render(result, assessment)``: ``miaudit.report`` passes ``assess(result)``, made once for
    every format it writes; implementations may accept ``assessment=None`` and assess the
    result themselves, so that ``fmt.render(result)`` (the generic form) works too."""

    name: ClassVar[str]
    filename: ClassVar[str]

    @abstractmethod
    def render(self, result: AuditResult, assessment: Assessment | None = None) -> str:
        """The whole report as text."""
