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


class Attack(ABC):
    """A membership-inference attack over signals."""

    name: ClassVar[str]
    description: ClassVar[str]
    #: Signals this attack needs; it cannot run if any is missing.
    needs: tuple[str, ...]

    @abstractmethod
    def scores(self, data: AttackInput) -> np.ndarray:
        """One float64 score per record, shape (n,), higher = more likely a member."""

    def missing(self, available: set[str]) -> list[str]:
        """The signals this attack needs that the target's outputs do not provide."""
        return [s for s in self.needs if s not in available]
