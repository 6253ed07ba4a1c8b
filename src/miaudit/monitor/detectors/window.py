"""Counts per second within the last ``period`` seconds: the state of the rate detectors."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from miaudit.monitor.detectors.base import Detector, Query


@dataclass
class PerSecond:
    """``[second, count]`` for each second with a query, oldest first."""

    seconds: deque[list[int]] = field(default_factory=deque)


class RateDetector(Detector):
    """A detector whose score is a count within the last ``Settings.period`` seconds; a
    subclass says what one query adds (:meth:`amount`)."""

    State = PerSecond
    #: The column of this count in states saved before version 2 (``[second, queries,
    #: full-output records]``).
    legacy_column: ClassVar[int]

    def amount(self, query: Query) -> int:
        raise NotImplementedError

    def update(self, state: PerSecond, query: Query, score: float) -> float:
        second, amount = int(query.time), self.amount(query)
        total, seconds = score + amount, state.seconds
        if seconds and seconds[-1][0] >= second:  # this second (or logged late)
            seconds[-1][1] += amount
        else:
            seconds.append([second, amount])
        while seconds[0][0] <= second - self.settings.period:
            total -= seconds.popleft()[1]
        return float(total)

    @classmethod
    def state_to_dict(cls, state: PerSecond) -> dict[str, Any]:
        return {"seconds": list(state.seconds)}

    @classmethod
    def state_from_dict(cls, data: Mapping[str, Any]) -> PerSecond:
        rows = data.get("seconds", [])
        column = cls.legacy_column if rows and len(rows[0]) == 3 else 1
        return PerSecond(deque([int(row[0]), int(row[column])] for row in rows))
