"""The one format interface: a :class:`Format` renders one kind of subject (an audit result, a
scan, the monitor's alerts, a comparison of defences) to the text of one file, and a
:class:`Formats` registry holds a subject's formats by name, for ``--format`` and for writing.

Each subject has its registry in the package that owns it: ``miaudit.report.FORMATS`` (audit
reports), ``miaudit.scan.formats.FORMATS``, ``miaudit.monitor.alerts.FORMATS`` and
``miaudit.defences.render.FORMATS``. The CLI's ``--format`` choices come from them, so a format
registered there (``register``, or ``miaudit.report.register_format``) is a choice at once.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import ClassVar, Generic, TypeVar

from miaudit._io import atomic_write_text
from miaudit.errors import InputError

S = TypeVar("S")
F = TypeVar("F", bound="Format")  # type: ignore[type-arg]


class Format(ABC, Generic[S]):
    """One output format of a subject ``S``: ``name`` is what ``--format`` takes,
    ``filename`` the file it is written to inside the output folder."""

    name: ClassVar[str]
    filename: ClassVar[str]

    @abstractmethod
    def render(self, subject: S, /) -> str:
        """The whole file, as text."""


class Formats(Mapping[str, Format[S]]):
    """The formats of one subject by name, in the order they were registered (the order
    ``all`` writes them in). ``subject`` names the subject in messages (``report``,
    ``scan``, …)."""

    def __init__(self, subject: str, formats: Iterable[Format[S]] = ()) -> None:
        self.subject = subject
        self._formats: dict[str, Format[S]] = {}
        for fmt in formats:
            self.register(fmt)

    def register(self, fmt: F | type[F], *, replace: bool = False) -> F | type[F]:
        """Add ``fmt`` (an instance, or a class made with no arguments) under its ``name``;
        returns ``fmt``, so it serves as a class decorator. A name already taken is refused
        unless ``replace``."""
        instance = fmt() if isinstance(fmt, type) else fmt
        name, filename = getattr(instance, "name", ""), getattr(instance, "filename", "")
        if not isinstance(name, str) or not name or "," in name or name == "all":
            raise InputError(
                f"a {self.subject} format needs a name other than 'all', without commas; "
                f"{type(instance).__name__} has {name!r}"
            )
        if not isinstance(filename, str) or not filename or Path(filename).name != filename:
            raise InputError(
                f"{self.subject} format {name!r}: filename must be a plain file name, "
                f"got {filename!r}"
            )
        if name in self._formats and not replace:
            raise InputError(
                f"a {self.subject} format named {name!r} is already registered; choose "
                "another name or pass replace=True"
            )
        self._formats[name] = instance
        return fmt

    def unregister(self, name: str) -> None:
        """Remove the format ``name`` (a plug-in's tests undo their registration with it)."""
        del self._formats[self.lookup(name).name]

    def lookup(self, name: str) -> Format[S]:
        """The format ``name``; an unknown name is an ``InputError`` listing the known ones."""
        try:
            return self._formats[name]
        except KeyError:
            raise InputError(
                f"unknown {self.subject} format {name!r}; available: {', '.join(self._formats)}"
            ) from None

    def __getitem__(self, name: str) -> Format[S]:
        return self._formats[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._formats)

    def __len__(self) -> int:
        return len(self._formats)

    def __repr__(self) -> str:
        return f"Formats({self.subject!r}, {list(self._formats)})"

    def select(self, names: Sequence[str]) -> list[Format[S]]:
        """The formats named (``["all"]``: every one), all checked before any is used."""
        if list(names) == ["all"]:
            return list(self._formats.values())
        return [self.lookup(n) for n in names]

    def write(self, subject: S, directory: str | Path, names: Sequence[str]) -> list[Path]:
        """Render ``subject`` in each format named and write the files into ``directory``
        (created if needed), each atomically; return their paths. An unknown name fails before
        any file is written."""
        chosen = self.select(names)
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        return [atomic_write_text(out / f.filename, f.render(subject)) for f in chosen]


__all__ = ["Format", "Formats"]
