"""Report formats, by name — one module per format — and the functions that render and write
them. Formats receive a result and its assessment (computed once per call); results never
import a format."""

from __future__ import annotations

import json as _json  # the name "json" is the format module below
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from miaudit._io import atomic_write_text
from miaudit.assess import Assessment, assess
from miaudit.errors import InputError
from miaudit.report.csv import CsvFormat
from miaudit.report.html import HtmlFormat
from miaudit.report.interface import ReportFormat
from miaudit.report.json import JsonFormat, report_dict
from miaudit.report.junit import JunitFormat
from miaudit.report.markdown import MarkdownFormat
from miaudit.report.sarif import SarifFormat
from miaudit.results import AuditResult, register_presenter

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


def to_dict(result: AuditResult) -> dict[str, Any]:
    """Exactly ``report.json``."""
    return report_dict(result, assess(result))


def render(result: AuditResult, fmt: str, assessment: Assessment | None = None) -> str:
    """The report in one format (``assessment``: ``assess(result)``, if already made)."""
    return get_format(fmt).render(result, assessment or assess(result))


def write(
    result: AuditResult,
    out_dir: str | Path,
    formats: Sequence[str] = DEFAULT_FORMATS,
    assessment: Assessment | None = None,
) -> list[Path]:
    """Write each format into ``out_dir`` (created if needed), atomically; return the paths."""
    writers = [get_format(f) for f in formats]  # an unknown format fails before any file
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    assessment = assessment or assess(result)
    return [atomic_write_text(out / w.filename, w.render(result, assessment)) for w in writers]


def save_json(result: AuditResult, path: str | Path) -> Path:
    """``report.json`` at ``path`` (a baseline for later runs), atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write_text(path, _json.dumps(to_dict(result), indent=2))


class _Presenter:
    """What :meth:`AuditResult.to_dict`, ``render`` and ``write`` delegate to."""

    to_dict = staticmethod(to_dict)
    render = staticmethod(render)

    @staticmethod
    def write(result: AuditResult, out_dir: str | Path, formats: Sequence[str]) -> list[Path]:
        return write(result, out_dir, formats)


register_presenter(_Presenter())

__all__ = [
    "DEFAULT_FORMATS",
    "FORMATS",
    "ReportFormat",
    "get_format",
    "render",
    "save_json",
    "to_dict",
    "write",
]
