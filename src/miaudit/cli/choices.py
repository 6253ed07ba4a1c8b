"""Click choices from the one declaration of each value set — a ``str`` Enum, a ``Literal`` or
a registry in the module that owns it — so no command writes a list of values again
(``tests/test_architecture.py`` checks that the CLI holds no copy of a declared set)."""

from __future__ import annotations

from enum import Enum
from typing import Any, get_args

import click

from miaudit.errors import InputError


def values_of(declaration: Any) -> tuple[str, ...]:
    """The values of a value set's one declaration: a ``str`` Enum or a ``Literal``."""
    if isinstance(declaration, type) and issubclass(declaration, Enum):
        return tuple(str(member.value) for member in declaration)
    values = get_args(declaration)
    if not values or not all(isinstance(v, str) for v in values):
        raise TypeError(f"{declaration!r} is not a str Enum or a Literal of strings")
    return values


def choice(declaration: Any) -> click.Choice:
    """A click choice built from a value set's declaration (never a list written again)."""
    return click.Choice(values_of(declaration))


def format_help() -> str:
    """``--format``'s help, from the registry of report formats."""
    from miaudit.report import DEFAULT_FORMATS, FORMATS  # only the commands that report

    return f"Comma-separated: {','.join(FORMATS)} or all (default: {','.join(DEFAULT_FORMATS)})."


def parse_classes(text: str) -> Any:
    """``--classes``: a count (``3``) or labels (``a,b,c``; integers stay integers)."""
    items = [c.strip() for c in text.split(",") if c.strip()]
    if not items:
        raise InputError("--classes: give the number of classes or a list, e.g. 0,1")
    if len(items) == 1 and items[0].isdigit():
        return int(items[0])
    if all(c.lstrip("-").isdigit() for c in items):
        return [int(c) for c in items]
    return items
