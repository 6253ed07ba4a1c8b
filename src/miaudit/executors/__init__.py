"""Executors: ``Executor.map`` in this process, a local process pool, or a Ray cluster."""

from __future__ import annotations

from enum import Enum


class ExecutorName(str, Enum):
    """Where work runs: the one declaration of the executors (CLI choices, config, docs)."""

    LOCAL = "local"
    INLINE = "inline"
    RAY = "ray"
