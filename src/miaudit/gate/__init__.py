"""The gate: policy conditions (``--fail-on``) and baselines, both producing checks, and the
verdict that sets the exit code."""

from miaudit.gate.baseline import Baseline
from miaudit.gate.options import GateOptions
from miaudit.gate.policy import (
    ATTACK_METRICS,
    MODEL_METRICS,
    Condition,
    evaluate,
    parse_conditions,
    required_fprs,
)
from miaudit.results import Check, Verdict

__all__ = [
    "ATTACK_METRICS",
    "MODEL_METRICS",
    "Baseline",
    "Check",
    "Condition",
    "GateOptions",
    "Verdict",
    "evaluate",
    "parse_conditions",
    "required_fprs",
]
