"""``scores.csv``: one row per audited record, one score column per attack."""

from __future__ import annotations

import io
from typing import ClassVar

import pandas as pd

from miaudit.assess import Assessment
from miaudit.report.interface import ReportFormat
from miaudit.results import AuditResult


class CsvFormat(ReportFormat):
    name: ClassVar[str] = "csv"
    filename: ClassVar[str] = "scores.csv"

    def render(self, result: AuditResult, assessment: Assessment | None = None) -> str:
        table = result.score_table
        if table is None:
            return "id,label,member\n"
        frame = pd.DataFrame({"id": table.ids, "label": table.labels, "member": table.membership})
        for name, scores in table.scores.items():
            frame[f"score_{name}"] = scores
        buffer = io.StringIO()
        frame.to_csv(buffer, index=False, float_format="%.6g")
        return buffer.getvalue()
