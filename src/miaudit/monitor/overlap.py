"""Training-set overlap per key: how many of a key's logged queries hit training records.

Ordinary users query fresh records, so their overlap is near the share of training records in
the population they draw from; a membership-inference campaign queries candidates of which
about half are members. This module only measures (``miaudit monitor overlap``); the
``training-overlap`` detector (:mod:`miaudit.monitor.detectors`) turns it into evidence with a
calibrated threshold.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from miaudit.monitor.index import TrainingIndex
from miaudit.querylog import QueryRecord


@dataclass(frozen=True)
class KeyOverlap:
    """One key's queries with an input, and how many of them hit the training index."""

    key: str
    queries: int
    hits: int

    @property
    def share(self) -> float:
        return self.hits / self.queries if self.queries else 0.0


def overlap_by_key(records: Iterable[QueryRecord], index: TrainingIndex) -> list[KeyOverlap]:
    """Every key's overlap with the training records, in one streaming pass (memory: one
    counter pair per key). Queries without a kept input (refused, or past retention) are not
    counted."""
    counts: dict[str, list[int]] = {}
    for record in records:
        if record.input is None:
            continue
        tally = counts.setdefault(record.key, [0, 0])
        tally[0] += 1
        tally[1] += index.contains(record.input)
    return [KeyOverlap(key, q, h) for key, (q, h) in sorted(counts.items())]
