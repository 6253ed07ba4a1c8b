"""Click choices from the one declaration of each value set — a ``str`` Enum, a ``Literal`` or
a registry in the module that owns it — so no command writes a list of values again
(``tests/test_architecture.py`` checks that the CLI holds no copy of a declared set)."""

from __future__ import annotations

from enum import Enum
from typing import Any, get_args

import click

from miaudit.report import DEFAULT_FORMATS, FORMATS


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
    return f"Comma-separated: {','.join(FORMATS)} or all (default: {','.join(DEFAULT_FORMATS)})."
