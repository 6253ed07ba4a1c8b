"""A report is a sequence of sections; each format shows each section through a renderer
registered for its ``(kind, format)``.

The formats here are ``json`` (a renderer returns the keys it adds to ``report.json``),
``html`` (a fragment of the page), ``md`` and ``text`` (lines; ``text`` is the terminal
summary). Each format declares its built-in sections in order (:func:`register_layout`): they
show the result's own fields, so their renderers receive the result. The extra, typed
sections a result carries (``AuditResult.sections``, :mod:`miaudit.results.sections`) follow
the built-in section named by :func:`place` (else the format's default place), in the
result's order; their renderers receive the section. A section with no renderer for a format
is shown generically: under its kind in ``report.json``, and as its title and fields in the
others.

To add a section: a frozen dataclass registered with
:func:`~miaudit.results.sections.register_section` (one file: ``results/sections/<kind>.py``
in miaudit) and, to show it otherwise than generically, its renderers (one file:
``report/sections/<kind>.py``; every module of this package is imported with it)::

    @renders("dataset_inference", "md")
    def _markdown(section: DatasetInference, view: View) -> list[str]:
        return ["", f"**Dataset inference:** p = {section.p_value:.3g}"]

    place("dataset_inference", after="attacks")
"""

from __future__ import annotations

import importlib
import json
import pkgutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar, get_args

from markupsafe import escape

from miaudit.assess import Assessment
from miaudit.report.text import md_text
from miaudit.results import AuditResult, Section

#: The formats built from sections.
SectionFormat = Literal["json", "html", "md", "text"]
SECTION_FORMATS: tuple[str, ...] = get_args(SectionFormat)

#: A renderer: ``(data, view)`` → a ``dict`` of ``report.json`` keys (``json``), an HTML
#: fragment with its text escaped (``html``: ``markupsafe.escape``) or a list of lines
#: (``md``, with a section's text escaped by :func:`~miaudit.report.text.md_text`; ``text``).
#: ``data`` is the section for an extra section, the result itself for a built-in one.
Renderer = Callable[[Any, "View"], Any]
R = TypeVar("R", bound=Renderer)


@dataclass
class View:
    """What every renderer of one rendering sees: the result, its assessment, and what the
    format computed once for its renderers (``shared``: e.g. the HTML template's variables)."""

    result: AuditResult
    assessment: Assessment
    shared: dict[str, Any] = field(default_factory=dict)


_RENDERERS: dict[tuple[str, str], Renderer] = {}
_LAYOUTS: dict[str, tuple[str, ...]] = {}
#: Where extra sections go in a format without a place of their own ("": at the end).
_DEFAULT_AFTER: dict[str, str] = {}
_AFTER: dict[str, str] = {}


def _check_format(fmt: str) -> None:
    if fmt not in SECTION_FORMATS:
        raise ValueError(f"sections render as {', '.join(SECTION_FORMATS)}; got {fmt!r}")


def register_renderer(kind: str, fmt: str, renderer: Renderer) -> None:
    """Show sections of ``kind`` in ``fmt`` with ``renderer`` (a later one replaces it)."""
    _check_format(fmt)
    _RENDERERS[(kind, fmt)] = renderer


def renders(kind: str, *formats: str) -> Callable[[R], R]:
    """Decorator form of :func:`register_renderer`, for one or more formats."""

    def register(renderer: R) -> R:
        for fmt in formats:
            register_renderer(kind, fmt, renderer)
        return renderer

    return register


def place(kind: str, after: str) -> None:
    """Show extra sections of ``kind`` right after the built-in section ``after`` in every
    format that has one (elsewhere: at the format's default place)."""
    _AFTER[kind] = after


def register_layout(fmt: str, kinds: tuple[str, ...], extras_after: str = "") -> None:
    """The built-in sections of ``fmt``, in order, and the one extra sections follow by
    default (``""``: the end)."""
    _check_format(fmt)
    if extras_after and extras_after not in kinds:
        raise ValueError(f"{fmt}: {extras_after!r} is not one of its sections")
    _LAYOUTS[fmt] = kinds
    _DEFAULT_AFTER[fmt] = extras_after


def forget(kind: str) -> None:
    """Remove the renderers and the place of ``kind`` (a plug-in's tests undo theirs)."""
    for key in [key for key in _RENDERERS if key[0] == kind]:
        del _RENDERERS[key]
    _AFTER.pop(kind, None)


def parts(view: View, fmt: str) -> Iterator[Any]:
    """Each section of the report in ``fmt``, rendered, in order."""
    _check_format(fmt)
    for kind, data in _ordered(view.result, fmt):
        renderer = _RENDERERS.get((kind, fmt))
        if renderer is None:
            if not isinstance(data, Section):
                raise LookupError(f"the built-in {fmt} section {kind!r} has no renderer")
            renderer = _GENERIC[fmt]
        yield renderer(data, view)


def _ordered(result: AuditResult, fmt: str) -> Iterator[tuple[str, Any]]:
    layout = _LAYOUTS.get(fmt, ())
    default = _DEFAULT_AFTER.get(fmt, "")

    def anchor(section: Section) -> str:
        after = _AFTER.get(section.kind, "")
        return after if after in layout else default

    for kind in layout:
        yield kind, result
        for section in result.sections:
            if anchor(section) == kind:
                yield section.kind, section
    for section in result.sections:
        if anchor(section) not in layout:
            yield section.kind, section


def text_lines(result: AuditResult, assessment: Assessment) -> list[str]:
    """The terminal summary's lines for the result's sections (the CLI prints them)."""
    return [line for part in parts(View(result, assessment), "text") for line in part]


# ---------------------------------------------------------------- the generic renderers
def _fields(section: Section) -> list[tuple[str, str]]:
    """Each top-level entry of the section's JSON, its value as short text."""
    return [
        (key, value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))
        for key, value in section.to_dict().items()
    ]


def _generic_json(section: Section, view: View) -> dict[str, Any]:
    return {section.kind: section.to_dict()}


def _generic_html(section: Section, view: View) -> str:
    rows = "".join(
        f"<tr><th>{escape(key)}</th><td>{escape(value)}</td></tr>\n"
        for key, value in _fields(section)
    )
    return f"<h3>{escape(section.title)}</h3>\n<table>\n{rows}</table>\n\n"


def _generic_markdown(section: Section, view: View) -> list[str]:
    cell = md_text  # a section's text is not miaudit's: no inline HTML passes through
    rows = [f"| {cell(key)} | {cell(value)} |" for key, value in _fields(section)]
    return ["", f"**{cell(section.title)}**", "", "| field | value |", "|---|---|", *rows]


def _generic_text(section: Section, view: View) -> list[str]:
    return [f"{section.title}: " + "; ".join(f"{k} {v}" for k, v in _fields(section))]


_GENERIC: dict[str, Renderer] = {
    "json": _generic_json,
    "html": _generic_html,
    "md": _generic_markdown,
    "text": _generic_text,
}


def _import_package_renderers() -> None:
    """Register the renderers defined in this package's modules (after the names above,
    which they import)."""
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")


_import_package_renderers()
