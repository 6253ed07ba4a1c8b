"""What an attack is: one job, turning signals into one membership score per record.

Higher score = more likely a member. An attack never computes metrics or writes files, and
declares the signals it needs so the audit can say which attacks cannot run on a target and why.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

MEMBER, NONMEMBER, POPULATION = 1, 0, -1


@dataclass(frozen=True, eq=False)
class AttackInput:
    """Signals for every record (members, non-members, then population), and who is who.

    ``membership`` is 1 for members, 0 for audit non-members and -1 for population records
    (known non-members of the training set that the audit does not score)."""

    signals: Mapping[str, np.ndarray]
    membership: np.ndarray
    seed: int = 0
    #: Reference models' signals, (M, n) per name, and the (M, n) mask of their training rows.
    reference: Mapping[str, np.ndarray] | None = None
    reference_in: np.ndarray | None = None


class Attack(ABC):
    """A membership-inference attack over signals."""

    name: ClassVar[str]
    description: ClassVar[str]
    #: Signals this attack needs; it cannot run if any is missing.
    needs: tuple[str, ...]
    #: Reference models needed (0: the attack uses none).
    min_reference_models: int = 0

    @abstractmethod
    def scores(self, data: AttackInput) -> np.ndarray:
        """One float64 score per record, shape (n,), higher = more likely a member."""

    def missing(self, available: set[str]) -> list[str]:
        """What this attack needs that the audit does not have: signals from the target's
        outputs, or the pseudo-signals ``reference`` (reference models) and ``population``."""
        return [s for s in self.needs if s not in available]

    def variant(self, data: AttackInput) -> str | None:
        """Which variant ran and why, for the report (``None``: nothing to say)."""
        return None
