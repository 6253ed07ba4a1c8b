"""The gate: turn a result plus ``--fail-on`` conditions into a verdict and an exit code.

A condition is ``[ATTACK:]METRIC OP NUMBER``, e.g. ``auc>0.6``, ``tpr@0.001>0.01``,
``loss:advantage>=0.1``, ``gap>0.05``. Without an attack name, a per-attack metric is taken over
the strongest attack for that metric (the worst case). A breached condition fails the gate; a
condition the audit cannot evaluate (an unresolvable TPR) is an input error, never a pass.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from miaudit.errors import InputError
from miaudit.results import MODEL_FREE_ATTACKS, AttackResult, AuditResult, Check, Verdict

if TYPE_CHECKING:
    from miaudit.gate.baseline import Baseline

_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
}
_PATTERN = re.compile(
    r"^\s*(?:(?P<attack>[a-z][a-z0-9-]*):)?(?P<metric>[a-z_]+(?:@[0-9.eE-]+)?)\s*"
    r"(?P<op>>=|<=|>|<)\s*(?P<value>[-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*$"
)
ATTACK_METRICS = ("auc", "advantage", "balanced_accuracy", "epsilon", "tpr")
MODEL_METRICS = ("gap", "train_accuracy", "test_accuracy")


@dataclass(frozen=True)
class Condition:
    """One ``--fail-on`` condition: the gate fails when it is true."""

    text: str
    metric: str
    op: str
    value: float
    attack: str | None = None
    fpr: float | None = None


def parse_conditions(expressions: Iterable[str]) -> list[Condition]:
    """Parse conditions; a malformed one is an :class:`InputError` naming it."""
    conditions = []
    for text in expressions:
        text = text.strip()
        if not text:
            continue
        match = _PATTERN.match(text)
        if not match:
            raise InputError(
                f"--fail-on: cannot parse {text!r}; expected [ATTACK:]METRIC OP NUMBER, "
                f"e.g. auc>0.6 or tpr@0.001>0.01"
            )
        metric, _, fpr_text = match["metric"].partition("@")
        fpr = None
        if metric == "tpr":
            try:
                fpr = float(fpr_text)
            except ValueError:
                raise InputError(f"--fail-on: {text!r}: write tpr@FPR, e.g. tpr@0.01") from None
            if not 0 < fpr < 1:
                raise InputError(f"--fail-on: {text!r}: the FPR must be in (0, 1)")
        elif fpr_text or metric not in ATTACK_METRICS + MODEL_METRICS:
            raise InputError(
                f"--fail-on: unknown metric {match['metric']!r} in {text!r}; use "
                f"{', '.join((*ATTACK_METRICS[:-1], 'tpr@FPR', *MODEL_METRICS))}"
            )
        if match["attack"] and metric in MODEL_METRICS:
            raise InputError(f"--fail-on: {metric} is a model metric; drop the attack name")
        conditions.append(
            Condition(text, metric, match["op"], float(match["value"]), match["attack"], fpr)
        )
    return conditions


def _attack_value(attack: AttackResult, condition: Condition) -> float | None:
    if condition.metric == "tpr":
        assert condition.fpr is not None
        found = attack.tpr(condition.fpr)
        return None if found is None else found.tpr.value
    if condition.metric == "epsilon":
        return attack.epsilon.value
    estimate = getattr(attack, condition.metric)
    return estimate.value


def _unresolved(attack: AttackResult, condition: Condition) -> str:
    found = attack.tpr(condition.fpr) if condition.fpr is not None else None
    reason = found.tpr.reason if found is not None else "not computed"
    return f"--fail-on {condition.text!r} cannot be evaluated for {attack.name}: {reason}"


def _label(condition: Condition) -> str:
    return condition.metric + (f"@{condition.fpr:g}" if condition.fpr is not None else "")


def _policy_check(result: AuditResult, condition: Condition) -> Check:
    compare = _OPERATORS[condition.op]
    label = _label(condition)
    if condition.metric in MODEL_METRICS:
        name = "generalization_gap" if condition.metric == "gap" else condition.metric
        value = getattr(result.model, name).value
        breached = value is not None and compare(value, condition.value)
        shown = "n/a" if value is None else f"{value:.4g}"
        return Check(
            condition.text,
            "policy",
            not breached,
            f"{condition.text}: {condition.metric} = {shown}"
            + ("" if breached else f" — within the limit {condition.value:g}"),
            condition.metric,
            None,
            value,
            condition.value,
        )
    attacks = [a for a in result.attacks if a.name not in MODEL_FREE_ATTACKS]
    if condition.attack is not None:
        found = result.attack(condition.attack)
        if found is None:
            raise InputError(
                f"--fail-on {condition.text!r}: attack {condition.attack!r} "
                "did not run in this audit"
            )
        attacks = [found]
    if not attacks:
        raise InputError(f"--fail-on {condition.text!r}: no attack ran")
    values = []
    for attack in attacks:
        value = _attack_value(attack, condition)
        if value is None:
            raise InputError(_unresolved(attack, condition))
        values.append((value, attack.name))
    # the worst case for this condition: the largest value for > / >=, the smallest for < / <=
    value, worst = (max if condition.op.startswith(">") else min)(values)
    breached = compare(value, condition.value)
    scope = "" if condition.attack else f" over {len(attacks)} attacks"
    detail = (
        f"{condition.text}: {worst} {label} = {value:.4g}"
        + (f" (worst{scope})" if scope else "")
        + ("" if breached else f" — within the limit {condition.value:g}")
    )
    return Check(
        condition.text, "policy", not breached, detail, label, worst, value, condition.value
    )


def evaluate(
    result: AuditResult,
    conditions: Iterable[Condition],
    baseline: Baseline | None = None,
    tolerance: float = 0.0,
    soft: bool = False,
) -> Verdict:
    """Check every condition, and every metric against ``baseline`` if given; raise
    :class:`InputError` if a condition cannot be evaluated."""
    checks = [_policy_check(result, c) for c in conditions]
    if baseline is not None:
        checks += baseline.compare(result, tolerance)
    return Verdict(tuple(checks), baseline.source if baseline else None, tolerance, soft)


def required_fprs(conditions: Iterable[Condition]) -> list[float]:
    """FPRs the conditions ask about, so the audit computes them."""
    return sorted({c.fpr for c in conditions if c.fpr is not None})
