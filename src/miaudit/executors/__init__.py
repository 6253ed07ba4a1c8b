"""Executors: ``Executor.map`` in this process, a local process pool, or a Ray cluster.

One small interface (:mod:`.interface`), one file per implementation (:mod:`.inline`,
:mod:`.local`, :mod:`.ray`) and a registry by name (:func:`create`, :class:`ExecutorName`).
Reference-model training, ``compare``, the label-only probes and sharded target scoring all
run on it. To add an executor: a file with an :class:`Executor` subclass, a value in
:class:`ExecutorName` and its line in the registry's factories.
"""

from __future__ import annotations

from miaudit.executors.interface import (
    Executor,
    check_picklable,
    in_worker,
    picklable,
    unchanged,
)
from miaudit.executors.registry import NAMES, ExecutorName, create

__all__ = [
    "NAMES",
    "Executor",
    "ExecutorName",
    "check_picklable",
    "create",
    "in_worker",
    "picklable",
    "unchanged",
]
