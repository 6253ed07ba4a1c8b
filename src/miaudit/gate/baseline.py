"""Baselines: a saved audit that a new audit must not be significantly worse than.

A baseline is a ``report.json`` (``--save-baseline FILE`` writes one; any earlier report works
too). For every attack in both audits, the AUC, each TPR at FPR both resolved, and the
advantage — and for the model, the train–test gap — are compared by their intervals: a
**regression** is a new interval whose lower end lies above the baseline interval's upper end
by more than ``tolerance``. Two runs of the same model with different seeds overlap and pass;
the gate only fails on a change the sample sizes can vouch for. The ε lower bound is not
compared: it is itself a one-sided bound with no upper end to compare against.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from miaudit.errors import InputError
from miaudit.results import SCHEMA, AuditResult, Check

Interval = tuple[float, float]


def _interval(entry: Any) -> Interval | None:
    ci = entry.get("ci") if isinstance(entry, dict) else entry
    if not isinstance(ci, list) or len(ci) != 2 or not all(isinstance(v, (int, float)) for v in ci):
        return None
    return float(ci[0]), float(ci[1])


def _metrics(attack: dict[str, Any]) -> dict[str, tuple[float | None, Interval | None]]:
    out: dict[str, tuple[float | None, Interval | None]] = {
        "auc": (attack.get("auc"), _interval(attack.get("auc_ci"))),
        "advantage": (attack.get("advantage"), _interval(attack.get("advantage_ci"))),
    }
    for key, entry in (attack.get("tpr_at_fpr") or {}).items():
        out[f"tpr@{key}"] = (entry.get("value"), _interval(entry))
    return out


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _bad_value(value: Any, ci: Any, where: str) -> str | None:
    """What is wrong with a compared value and its interval (``None``: a number or null and a
    pair of numbers or null)."""
    if value is not None and not _is_number(value):
        return f"{where} must be a number or null, got {value!r:.40}"
    if ci is not None and not (
        isinstance(ci, list) and len(ci) == 2 and all(_is_number(v) for v in ci)
    ):
        return f"{where}'s interval must be two numbers or null, got {ci!r:.40}"
    return None


def _malformed(report: dict[str, Any]) -> str | None:
    """The first field a comparison would read that is not what a saved report holds."""
    for i, attack in enumerate(report["attacks"]):
        if not isinstance(attack, dict) or not isinstance(attack.get("name"), str):
            return f"attacks[{i}] is not an attack with a name"
        where = f"attack {attack['name']!r}"
        for key in ("auc", "advantage"):
            problem = _bad_value(attack.get(key), attack.get(f"{key}_ci"), f"{where} {key}")
            if problem:
                return problem
        rates = attack.get("tpr_at_fpr") or {}
        if not isinstance(rates, dict) or not all(isinstance(e, dict) for e in rates.values()):
            return f"{where} tpr_at_fpr must map each FPR to an entry"
        for key, entry in rates.items():
            problem = _bad_value(entry.get("value"), entry.get("ci"), f"{where} tpr@{key}")
            if problem:
                return problem
    model = report.get("model") or {}
    if not isinstance(model, dict):
        return "model must be an object"
    gap, gap_ci = model.get("generalization_gap"), model.get("generalization_gap_ci")
    return _bad_value(gap, gap_ci, "model generalization_gap")


@dataclass(frozen=True)
class Baseline:
    """A saved report to compare against."""

    report: dict[str, Any]
    source: str

    @classmethod
    def load(cls, path: str | Path) -> Baseline:
        path = Path(path)
        if not path.is_file():
            raise InputError(
                f"baseline {path} does not exist; create one with --save-baseline FILE"
            )
        try:
            report = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InputError(f"baseline {path}: not a JSON report ({exc})") from exc
        if not isinstance(report, dict) or report.get("schema") != SCHEMA:
            raise InputError(f"baseline {path}: not a miaudit report (schema {SCHEMA!r} expected)")
        if not isinstance(report.get("attacks"), list):
            raise InputError(f"baseline {path}: it has no 'attacks' list")
        problem = _malformed(report)
        if problem:
            raise InputError(
                f"baseline {path}: {problem}; save a fresh baseline with --save-baseline FILE"
            )
        return cls(report, str(path))

    def compare(self, result: AuditResult, tolerance: float) -> list[Check]:
        """One check per metric both audits have."""
        if not 0 <= tolerance < 1:
            raise InputError(f"baseline tolerance must be in [0, 1), got {tolerance}")
        new = {
            "attacks": [a.to_dict() for a in result.attacks],
            "model": result.model.to_dict(),
        }
        old_attacks = {a["name"]: a for a in self.report["attacks"] if isinstance(a, dict)}
        common = [a for a in new["attacks"] if a["name"] in old_attacks]
        if not common:
            raise InputError(
                f"baseline {self.source} has none of this audit's attacks "
                f"({', '.join(a['name'] for a in new['attacks'])})"
            )
        checks = []
        for attack in common:
            old_metrics = _metrics(old_attacks[attack["name"]])
            for metric, (value, ci) in _metrics(attack).items():
                if metric in old_metrics:
                    checks.append(
                        self._check(
                            attack["name"], metric, value, ci, *old_metrics[metric], tolerance
                        )
                    )
        old_model, new_model = self.report.get("model") or {}, new["model"]
        checks.append(
            self._check(
                None,
                "gap",
                new_model["generalization_gap"],
                _interval(new_model["generalization_gap_ci"]),
                old_model.get("generalization_gap"),
                _interval(old_model.get("generalization_gap_ci")),
                tolerance,
            )
        )
        return [c for c in checks if c is not None]

    def _check(
        self,
        attack: str | None,
        metric: str,
        value: float | None,
        ci: Interval | None,
        old_value: float | None,
        old_ci: Interval | None,
        tolerance: float,
    ) -> Check | None:
        if ci is None or old_ci is None or value is None or old_value is None:
            return None  # unresolved on one side (e.g. TPR at 0.1% with few non-members)
        who = f"{attack} " if attack else ""
        name = f"no regression: {who}{metric}"
        regressed = ci[0] > old_ci[1] + tolerance
        relation = "lies above" if regressed else "overlaps or lies below"
        detail = (
            f"{who}{metric}: {value:.4g} [{ci[0]:.4g}, {ci[1]:.4g}] vs baseline "
            f"{old_value:.4g} [{old_ci[0]:.4g}, {old_ci[1]:.4g}] — the new interval "
            f"{relation} the baseline's"
            + (f" (+ tolerance {tolerance:g})" if tolerance else "")
            + (": a significant regression" if regressed else "")
        )
        return Check(
            name, "regression", not regressed, detail, metric, attack, value, old_ci[1] + tolerance
        )


__all__ = ["Baseline"]
