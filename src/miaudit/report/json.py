"""``report.json``: the versioned ``miaudit.report/1`` object (docs/report-schema.md)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, ClassVar

from miaudit.report.interface import ReportFormat

if TYPE_CHECKING:
    from miaudit.result import AuditResult


class JsonFormat(ReportFormat):
    name: ClassVar[str] = "json"
    filename: ClassVar[str] = "report.json"

    def render(self, result: AuditResult) -> str:
        return json.dumps(result.to_dict(), indent=2, allow_nan=False) + "\n"
