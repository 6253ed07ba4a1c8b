"""The gate's settings, declared once and validated when built."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from miaudit.errors import InputError
from miaudit.gate.policy import Condition, parse_conditions, required_fprs


@dataclass(frozen=True)
class GateOptions:
    """``fail_on``: conditions such as ``auc>0.6``; ``baseline``: a saved report the audit must
    not significantly exceed (by more than ``tolerance``); ``save_baseline``: where to save this
    audit as one; ``soft_fail``: report a failure but exit 0."""

    fail_on: tuple[str, ...] = ()
    baseline: str | Path | None = None
    save_baseline: str | Path | None = None
    tolerance: float = 0.0
    soft_fail: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "fail_on", tuple(self.fail_on))
        if not 0 <= self.tolerance < 1:
            raise InputError(
                f"tolerance must be in [0, 1) (how far above the baseline's interval a new one "
                f"must lie to fail), got {self.tolerance}"
            )
        parse_conditions(self.fail_on)  # a malformed condition fails before any work

    @property
    def conditions(self) -> list[Condition]:
        return parse_conditions(self.fail_on)

    @property
    def fprs(self) -> list[float]:
        """FPRs the conditions ask about, so the audit computes them."""
        return required_fprs(self.conditions)
