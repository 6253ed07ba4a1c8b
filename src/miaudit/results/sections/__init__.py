"""Sections: typed parts of an audit result beyond its built-in ones, added without editing
the result, the reader or any format.

A section is a frozen dataclass that subclasses :class:`Section`, names its ``kind`` (its key
in ``report.json`` and in the report layer's renderer registry) and its ``title``, and is
registered with :func:`register_section`::

    @register_section
    @dataclass(frozen=True)
    class DatasetInference(Section):
        kind: ClassVar[str] = "dataset_inference"
        title: ClassVar[str] = "Dataset inference"

        p_value: float
        n_suspect: int

A section of miaudit's own is one module in this package (``results/sections/<kind>.py``): every
module here is imported with the package, so its sections are registered before any
``report.json`` is read. A section of another package registers when that package is imported.

A result carries sections in ``AuditResult.sections``. ``report.json`` holds each under its
kind, written by :func:`miaudit.results.serial.dump` and read back by
:func:`miaudit.results.serial.load` (both derived from the fields); every format shows it
(by its renderers in :mod:`miaudit.report.sections`, or generically from its fields).
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Mapping
from typing import Any, ClassVar, TypeVar

from miaudit.results.serial import LoadError, Serialisable

S = TypeVar("S", bound="Section")

_KIND = re.compile(r"[a-z][a-z0-9_]*")


class Section(Serialisable):
    """A typed part of a result: subclass it as a frozen dataclass (module docstring). Its
    ``to_dict`` and ``from_dict`` are derived from its fields."""

    #: The key in ``report.json`` and in the renderer registry (lower case, ``_`` between
    #: words, like the report's own keys).
    kind: ClassVar[str]
    #: The heading a reader sees.
    title: ClassVar[str]


#: Every section type by kind: what ``report.json``'s keys are read back as.
SECTION_TYPES: dict[str, type[Section]] = {}


def register_section(cls: type[S]) -> type[S]:
    """Register a section type by its ``kind`` (a class decorator); the same class again is a
    no-op, another class of the same kind an error."""
    kind = getattr(cls, "kind", None)
    if not isinstance(kind, str) or not _KIND.fullmatch(kind):
        raise ValueError(
            f"{cls.__name__}.kind must be a lower-case name like 'dataset_inference', got {kind!r}"
        )
    if not isinstance(getattr(cls, "title", None), str):
        raise ValueError(f"{cls.__name__}.title must be the heading a reader sees")
    held = SECTION_TYPES.get(kind)
    if held is not None and held.__qualname__ != cls.__qualname__:
        raise ValueError(f"section kind {kind!r} is taken by {held.__module__}.{held.__name__}")
    SECTION_TYPES[kind] = cls
    return cls


def unregister_section(kind: str) -> None:
    """Forget the section type ``kind`` (a plug-in's tests undo their registration)."""
    SECTION_TYPES.pop(kind, None)


def sections_in(data: Mapping[str, Any]) -> tuple[Section, ...]:
    """The registered sections a ``report.json`` object holds, in the file's order (keys no
    registered section claims are the report's own, or a newer miaudit's: left alone). A
    section that does not fit its type raises :class:`~miaudit.results.serial.LoadError`
    naming it (its kind, then the field)."""
    return tuple(_section(k, v) for k, v in data.items() if k in SECTION_TYPES)


def _section(kind: str, raw: Any) -> Section:
    try:
        return SECTION_TYPES[kind].from_dict(raw)
    except LoadError as exc:
        raise exc.within(kind) from None


def _import_package_sections() -> None:
    """Register the sections defined in this package's modules (after the names above, which
    they import)."""
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")


_import_package_sections()
