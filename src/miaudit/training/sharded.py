"""Scoring a target over an executor's workers: the records cut into contiguous shards, each
worker building (or loading) the target once from a picklable factory and answering for the
shards it is given, the answers put back together in record order.

This is how a large model is scored on several GPUs or Ray workers: the factory (a
module-level function, or a ``functools.partial`` of one, e.g. of
``CausalLMTarget.from_pretrained``) travels to each worker once, the model is loaded there once,
and only records and answers travel afterwards. The answers are those of one unsharded call:
a target answers each record on its own (rows of a classifier's outputs, a text's token
statistics), so how the records are cut does not change them — to the last bit for models
that compute row by row (trees), and up to rounding for batched linear algebra (BLAS may sum in
another order for another batch size: cut shards in multiples of the target's batch size,
``multiple``, and even the rounding is the same; a language model pads a batch to its longest
text, so its statistics agree up to rounding).
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from miaudit.errors import InputError
from miaudit.executors import Executor
from miaudit.targets.interface import Outputs, Target
from miaudit.targets.lm import TokenStats


def _load(factory: Callable[[], Target]) -> Target:
    """A worker's state: the target, built once from its factory."""
    target = factory()
    if not isinstance(target, Target):
        raise InputError(
            f"the target factory returned a {type(target).__name__}, not a miaudit target; "
            "return one (e.g. SklearnTarget(...), CausalLMTarget.from_pretrained(...))"
        )
    return target


def _answer(target: Target, shard: Any) -> Any:
    return target.outputs(shard)


def shard_records(records: Any, shards: int, multiple: int = 1) -> list[Any]:
    """``records`` (a ``RecordSet`` or ``TextRecords``) cut into at most ``shards``
    contiguous pieces of near-equal size, in order, each (but the last) a multiple of
    ``multiple`` records: every per-record field (an array or a table with one row per
    record) is sliced, everything else kept."""
    n = len(records)
    size = max(1, math.ceil(n / max(1, shards)))
    size = math.ceil(size / multiple) * multiple
    per_record = [
        f.name
        for f in dataclasses.fields(records)
        if isinstance(getattr(records, f.name), np.ndarray | pd.DataFrame)
        and len(getattr(records, f.name)) == n
    ]
    pieces = []
    for start in range(0, n, size):
        rows = slice(start, min(start + size, n))
        sliced = {}
        for name in per_record:
            value = getattr(records, name)
            sliced[name] = (
                value.iloc[rows].reset_index(drop=True)
                if isinstance(value, pd.DataFrame)
                else value[rows]
            )
        pieces.append(dataclasses.replace(records, **sliced))
    return pieces


def join_answers(parts: Sequence[Any]) -> Any:
    """One answer from the answers of consecutive shards: classifier :class:`Outputs` row
    after row, a language model's :class:`TokenStats` text after text."""
    first = parts[0]
    if isinstance(first, Outputs):
        values = np.concatenate([p.values for p in parts])
        return Outputs(first.kind, values, first.n_classes, any(p.partial for p in parts))
    if isinstance(first, TokenStats):
        counts = np.concatenate([p.counts() for p in parts])
        return TokenStats(
            np.r_[0, np.cumsum(counts)].astype(first.offsets.dtype),
            *(np.concatenate([getattr(p, k) for p in parts]) for k in TOKEN_FIELDS),
        )
    if isinstance(first, np.ndarray):
        return np.concatenate(parts)
    raise InputError(f"cannot join shards of {type(first).__name__} answers")


TOKEN_FIELDS = ("logp", "mean", "std", "correct")


def sharded_outputs(
    factory: Callable[[], Target],
    records: Any,
    executor: Executor,
    shards: int | None = None,
    multiple: int = 1,
) -> Any:
    """``factory().outputs(records)``, computed over ``executor``'s workers: ``records`` cut
    into ``shards`` contiguous pieces (default: the executor's workers, or one per core),
    each worker calling ``factory`` once and answering every piece it is given; each piece
    but the last holds a multiple of ``multiple`` records (the target's batch size, to
    round as one call does). ``factory`` must be picklable for executors that leave this
    process (a module-level function or a ``functools.partial`` of one)."""
    if len(records) == 0:
        raise InputError("no records to score")
    count = shards if shards is not None else executor.workers or os.cpu_count() or 1
    if int(count) < 1 or int(multiple) < 1:
        raise InputError(f"shards and multiple must be at least 1, got {shards}, {multiple}")
    pieces = shard_records(records, int(count), int(multiple))
    return join_answers(executor.map_ordered(_answer, pieces, factory, _load))
