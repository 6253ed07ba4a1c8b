"""Where the audit reports progress."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol


class Progress(Protocol):
    """``task(description, total)`` returns an advance callback. The CLI passes rich progress
    bars; the Python API defaults to silence."""

    def task(self, description: str, total: int) -> Callable[[int], None]: ...


class Silent:
    def task(self, description: str, total: int) -> Callable[[int], None]:
        return lambda _n: None
