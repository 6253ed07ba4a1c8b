"""Attacks that query the target themselves — perturbed copies of each record, or (white-box)
the model's gradients — instead of reading the one output per record the audit observed.

The audit calls :meth:`ProbingAttack.probe` once, before the attack loop; what it returns
becomes signals like any other, plus the queries it spent and what it chose (and on which
data) for the report.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from miaudit.attacks.interface import Attack, AttackInput
from miaudit.data import RecordSet
from miaudit.errors import InputError
from miaudit.targets.interface import ProgressCallback, Target


class CannotProbe(InputError):
    """This target or these records cannot be probed this way (the attack is skipped, with
    this message as the reason); other input errors stop the audit."""


@dataclass(frozen=True)
class Probe:
    """What probing found: one value per record for each signal (members, non-members, then
    population), the queries sent to the target in all, and a line for the report on what
    was chosen and how."""

    signals: dict[str, np.ndarray]
    queries: int
    note: str
    details: dict[str, Any] = field(default_factory=dict)


class ProbingAttack(Attack):
    """An attack whose signals come from its own queries (:meth:`probe`)."""

    #: The signal :meth:`probe` produces and :meth:`scores` reads.
    signal: str

    @abstractmethod
    def probe(
        self,
        target: Target,
        sets: list[Any],
        population: Any | None,
        seed: int,
        advance: ProgressCallback | None = None,
    ) -> Probe:
        """Query ``target`` about every record of ``sets`` (members, non-members, population).
        Anything chosen here is chosen on ``population`` or, without one, on every audited
        record pooled — never on who is a member."""

    def scores(self, data: AttackInput) -> np.ndarray:
        return np.asarray(data.signals[self.signal], dtype=np.float64)


def pooled(sets: list[RecordSet]) -> tuple[np.ndarray | pd.DataFrame, np.ndarray]:
    """Every record's features and labels, in order, as one table."""
    features = [s.features for s in sets]
    if any(isinstance(f, pd.DataFrame) for f in features):
        if not all(isinstance(f, pd.DataFrame) for f in features):
            raise InputError("some record sets are tables and some are arrays; pass one kind")
        joined: np.ndarray | pd.DataFrame = pd.concat(features, ignore_index=True)
    else:
        joined = np.concatenate([np.asarray(f, dtype=np.float64) for f in features])
    return joined, np.concatenate([np.asarray(s.labels) for s in sets])


def take(features: np.ndarray | pd.DataFrame, rows: np.ndarray) -> np.ndarray | pd.DataFrame:
    """Rows ``rows`` of an array or a table."""
    if isinstance(features, pd.DataFrame):
        return features.iloc[rows].reset_index(drop=True)
    return features[rows]
