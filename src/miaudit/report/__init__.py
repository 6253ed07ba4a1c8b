"""Report formats, by name. One module per format; :func:`get_format` finds them."""

from __future__ import annotations

from miaudit.errors import InputError
from miaudit.report.csv import CsvFormat
from miaudit.report.html import HtmlFormat
from miaudit.report.interface import ReportFormat
from miaudit.report.json import JsonFormat
from miaudit.report.junit import JunitFormat
from miaudit.report.markdown import MarkdownFormat
from miaudit.report.sarif import SarifFormat

FORMATS: dict[str, ReportFormat] = {
    f.name: f
    for f in (
        JsonFormat(),
        HtmlFormat(),
        MarkdownFormat(),
        CsvFormat(),
        SarifFormat(),
        JunitFormat(),
    )
}
#: Written when no format is asked for; ``--format all`` writes every format.
DEFAULT_FORMATS = ("json", "html", "md", "csv")


def get_format(name: str) -> ReportFormat:
    try:
        return FORMATS[name]
    except KeyError:
        raise InputError(
            f"unknown report format {name!r}; available: {', '.join(FORMATS)}"
        ) from None


__all__ = ["DEFAULT_FORMATS", "FORMATS", "ReportFormat", "get_format"]
