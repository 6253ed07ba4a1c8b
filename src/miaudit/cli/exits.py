"""Exit codes and the decorator that turns bad input into exit 2 with one line — light, so a
command that needs nothing else of the CLI (``miaudit monitor``, ``miaudit serve``) starts fast."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, TypeVar

from rich.console import Console
from rich.markup import escape

from miaudit.errors import InputError, MissingExtraError

F = TypeVar("F", bound=Callable[..., Any])

EXIT_GATE, EXIT_INPUT = 1, 2


def input_errors_exit_2(command: F) -> F:
    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (InputError, MissingExtraError) as exc:
            Console(stderr=True).print(
                f"[bold red]error:[/] {escape(str(exc))}",
                highlight=False,
                markup=True,
                soft_wrap=True,
            )
            sys.exit(EXIT_INPUT)

    return wrapper  # type: ignore[return-value]
