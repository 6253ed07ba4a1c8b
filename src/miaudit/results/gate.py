"""The gate's verdict as data: one :class:`Check` per policy condition or baseline comparison."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Check:
    """One gate check — a policy condition or a comparison with the baseline — and its outcome.

    ``detail`` says what was compared and why it passed or failed, for every output format."""

    name: str
    kind: str  # "policy" or "regression"
    passed: bool
    detail: str
    metric: str
    attack: str | None = None
    value: float | None = None
    limit: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Verdict:
    """Every check; the gate fails if one fails (``soft``: reported, exit 0 nonetheless)."""

    checks: tuple[Check, ...] = ()
    baseline: str | None = None
    tolerance: float = 0.0
    soft: bool = False

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def breaches(self) -> tuple[str, ...]:
        return tuple(c.detail for c in self.checks if not c.passed)

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "soft_fail": self.soft,
            "baseline": self.baseline,
            "tolerance": self.tolerance,
            "checks": [c.to_dict() for c in self.checks],
        }
