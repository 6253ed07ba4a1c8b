"""The gate's verdict as data: one :class:`Check` per policy condition or baseline comparison."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from miaudit.results.serial import Serialisable, wire


@dataclass(frozen=True)
class Check(Serialisable):
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


@dataclass(frozen=True)
class Verdict(Serialisable):
    """Every check; the gate fails if one fails (``soft``: reported, exit 0 nonetheless)."""

    checks: tuple[Check, ...] = field(
        default=(), metadata=wire(before=(("passed", lambda v: v.passed),))
    )
    baseline: str | None = None
    tolerance: float = 0.0
    soft: bool = field(default=False, metadata=wire(key="soft_fail"))

    __wire_order__: ClassVar[tuple[str, ...]] = (
        "passed",
        "soft_fail",
        "baseline",
        "tolerance",
        "checks",
    )

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def breaches(self) -> tuple[str, ...]:
        return tuple(c.detail for c in self.checks if not c.passed)
