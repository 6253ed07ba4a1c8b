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
from miaudit.formats import Formats
from miaudit.report.csv import CsvFormat
from miaudit.report.html import HtmlFormat
from miaudit.report.interface import ReportFormat
from miaudit.report.json import JsonFormat, report_dict
from miaudit.report.junit import JunitFormat
from miaudit.report.markdown import MarkdownFormat
from miaudit.report.sarif import SarifFormat
from miaudit.results import AuditResult, register_presenter

#: The report formats by name (a :class:`~miaudit.formats.Formats` registry: a mapping).
FORMATS: Formats[AuditResult] = Formats(
    "report",
    (JsonFormat(), HtmlFormat(), MarkdownFormat(), CsvFormat(), SarifFormat(), JunitFormat()),
)
#: Written when no format is asked for; ``--format all`` writes every format.
DEFAULT_FORMATS = ("json", "html", "md", "csv")


def register_format(
    fmt: ReportFormat | type[ReportFormat], *, replace: bool = False
) -> ReportFormat | type[ReportFormat]:
    """Add a report format (an instance, or a class made with no arguments; usable as a class
    decorator): ``miaudit.report.write``, ``render`` and ``miaudit audit --format NAME`` take it
    from then on. A name already taken is refused unless ``replace``."""
    if not isinstance(fmt, ReportFormat) and not (
        isinstance(fmt, type) and issubclass(fmt, ReportFormat)
    ):
        raise InputError(f"a report format must be a ReportFormat, got {fmt!r}")
    return FORMATS.register(fmt, replace=replace)


def get_format(name: str) -> ReportFormat:
    """The report format ``name``; an unknown name is an ``InputError`` listing the others."""
    return FORMATS.lookup(name)  # type: ignore[return-value]


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
    "register_format",
    "render",
    "save_json",
    "to_dict",
    "write",
]
