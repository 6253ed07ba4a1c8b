"""Audit results: plain frozen dataclasses that serialise to the ``miaudit.report/1`` schema.

``AuditResult.to_dict()`` *is* ``report.json`` (see ``docs/report-schema.md``). Per-record
scores ride along for plots and ``scores.csv`` but are never part of the JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from miaudit.metrics import EpsilonBound, Estimate, GdpBound, TprAtFpr
from miaudit.results.gate import Verdict
from miaudit.targets.exposure import Exposure

SCHEMA = "miaudit.report/1"
#: Attacks that never query the model (they measure the data split, not the model): reported,
#: but never the "strongest attack" and not in a gate's worst case unless named.
MODEL_FREE_ATTACKS = frozenset({"blind-baseline"})


@dataclass(frozen=True)
class ModelUtility:
    """Accuracy on members (train) and non-members (held out), and their difference."""

    train_accuracy: Estimate
    test_accuracy: Estimate
    generalization_gap: Estimate

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key in ("train_accuracy", "test_accuracy", "generalization_gap"):
            estimate: Estimate = getattr(self, key)
            out[key] = estimate.value
            out[f"{key}_ci"] = list(estimate.ci) if estimate.ci else None
        return out


@dataclass(frozen=True)
class RecordRisk:
    """A member the attack singles out: its score and conformal p-value of being a non-member."""

    id: str
    label: str
    score: float
    p_value: float
    #: The start of the record's text (language models), for a reader who cannot look ids up.
    snippet: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "label": self.label,
            "score": self.score,
            "p_value": self.p_value,
            **({"snippet": self.snippet} if self.snippet else {}),
        }


@dataclass(frozen=True)
class ClassSlice:
    """The attack restricted to records of one true class."""

    label: str
    n_members: int
    n_nonmembers: int
    auc: Estimate

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "n_members": self.n_members,
            "n_nonmembers": self.n_nonmembers,
            "auc": self.auc.value,
            "auc_ci": list(self.auc.ci) if self.auc.ci else None,
            **({"reason": self.auc.reason} if self.auc.value is None else {}),
        }


@dataclass(frozen=True)
class AttackResult:
    """Every metric for one attack."""

    name: str
    description: str
    auc: Estimate
    tpr_at_fpr: tuple[TprAtFpr, ...]
    advantage: Estimate
    balanced_accuracy: Estimate
    advantage_threshold: float
    epsilon: EpsilonBound
    roc_fpr: tuple[float, ...]
    roc_tpr: tuple[float, ...]
    at_risk: tuple[RecordRisk, ...]
    slices: tuple[ClassSlice, ...]
    #: Where this attack's thresholds were chosen when not where the audit's settings say
    #: ("": as the settings say).
    calibrated_by: str = ""
    #: The threat model: what the attacker reads from the model ("predicted label",
    #: "probabilities or logits", ... and whether reference models trained by the auditor),
    #: and how many queries it spends per audited record.
    access: str = ""
    queries_per_record: float | None = None
    #: How an attack that probes the model did so, and how its settings were chosen.
    method: str = ""
    #: The ε lower bound read through a Gaussian trade-off curve (sound if the training is
    #: μ-GDP, as DP-SGD nearly is); ``epsilon`` needs no such assumption.
    epsilon_gdp: GdpBound | None = None

    def tpr(self, fpr: float) -> TprAtFpr | None:
        return next((t for t in self.tpr_at_fpr if abs(t.fpr - fpr) < 1e-12), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "auc": self.auc.value,
            "auc_ci": list(self.auc.ci) if self.auc.ci else None,
            "tpr_at_fpr": {fpr_key(t.fpr): t.to_dict() for t in self.tpr_at_fpr},
            "advantage": self.advantage.value,
            "advantage_ci": list(self.advantage.ci) if self.advantage.ci else None,
            "balanced_accuracy": self.balanced_accuracy.value,
            "balanced_accuracy_ci": (
                list(self.balanced_accuracy.ci) if self.balanced_accuracy.ci else None
            ),
            "advantage_threshold": self.advantage_threshold,
            "epsilon_lower_bound": self.epsilon.value,
            "epsilon": self.epsilon.to_dict(),
            "roc": {"fpr": list(self.roc_fpr), "tpr": list(self.roc_tpr)},
            "at_risk": [r.to_dict() for r in self.at_risk],
            "slices": [s.to_dict() for s in self.slices],
            **({"calibrated_by": self.calibrated_by} if self.calibrated_by else {}),
            **({"access": self.access} if self.access else {}),
            **(
                {"queries_per_record": self.queries_per_record}
                if self.queries_per_record is not None
                else {}
            ),
            **({"method": self.method} if self.method else {}),
            **({"epsilon_gdp": self.epsilon_gdp.to_dict()} if self.epsilon_gdp else {}),
        }


@dataclass(frozen=True)
class SkippedAttack:
    """An attack the audit could not run, and why."""

    name: str
    reason: str


@dataclass(frozen=True)
class AuditSettings:
    seed: int
    delta: float
    confidence: float
    fprs: tuple[float, ...]
    calibration: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "delta": self.delta,
            "confidence": self.confidence,
            "fprs": list(self.fprs),
            "calibration": self.calibration,
        }


@dataclass(frozen=True, eq=False)
class ScoreTable:
    """Per-record scores for every attack that ran (members, non-members; not population)."""

    ids: np.ndarray
    labels: np.ndarray
    membership: np.ndarray
    scores: dict[str, np.ndarray]


def fpr_key(fpr: float) -> str:
    """The JSON key for an FPR: ``0.001`` → ``"0.001"``."""
    return f"{fpr:g}" if fpr >= 1e-4 else repr(fpr)


def _access_rank(access: str) -> tuple[int, str]:
    """Least access first: labels, then scores, then anything with reference models, then
    the model's parameters."""
    if "white-box" in access:
        return 3, access
    rank = 0 if access.startswith("predicted label") else 2 if "reference" in access else 1
    return rank, access


@dataclass(frozen=True)
class AuditResult:
    """The outcome of one audit. Render it with :meth:`render` or write it with :meth:`write`."""

    version: str
    created: str
    target: dict[str, Any]
    model: ModelUtility
    n_members: int
    n_nonmembers: int
    n_population: int
    attacks: tuple[AttackResult, ...]
    skipped: tuple[SkippedAttack, ...]
    settings: AuditSettings
    declared_dp_epsilon: float | None = None
    #: The largest ε lower bound an audit of this size can show (perfect separation).
    epsilon_ceiling: float | None = None
    #: The owner says the training data are sensitive (medical, financial, personal).
    sensitive_data: bool = False
    #: Reference models used, if any: counts, cache hits, and each attack's chosen variant.
    reference: dict[str, Any] | None = None
    #: Caveats a reader needs to trust the numbers (e.g. saturated probabilities).
    notes: tuple[str, ...] = ()
    #: The gate's verdict once checked; ``None`` before.
    gate: Verdict | None = None
    #: The file the audit was configured from (config, outputs table or model), if any: where
    #: CI findings are located.
    source: str | None = None
    #: What the audited interface returned (typed; ``target["exposes"]`` is its text).
    exposure: Exposure | None = None
    #: Names for class labels, from the data (``{"0": "malignant", "1": "benign"}``).
    class_names: dict[str, str] | None = None
    #: What one record is, in the plural, for the plain-words summary ("patients").
    subjects: str = "records"
    score_table: ScoreTable | None = field(default=None, repr=False, compare=False)

    def class_name(self, label: str) -> str:
        """A class label as the data names it (the label itself without names)."""
        return (self.class_names or {}).get(str(label), str(label))

    def attack(self, name: str) -> AttackResult | None:
        return next((a for a in self.attacks if a.name == name), None)

    def strongest(self) -> AttackResult | None:
        """The attack on the model with the highest AUC (ties: the first)."""
        return max(
            (a for a in self.attacks if a.name not in MODEL_FREE_ATTACKS),
            key=lambda a: a.auc.value or 0.0,
            default=None,
        )

    def by_access(self) -> list[tuple[str, AttackResult]]:
        """The strongest attack (highest AUC) at each level of access the audit used, in the
        order the attacks ran — least access first (labels, then scores, then scores with
        reference models): what each kind of API would leak."""
        best: dict[str, AttackResult] = {}
        for a in self.attacks:
            if not a.access or a.name in MODEL_FREE_ATTACKS:
                continue
            held = best.get(a.access)
            if held is None or (a.auc.value or 0.0) > (held.auc.value or 0.0):
                best[a.access] = a
        return sorted(best.items(), key=lambda item: _access_rank(item[0]))

    def to_dict(self) -> dict[str, Any]:
        """Exactly ``report.json`` (schema ``miaudit.report/1``), rendered by
        :mod:`miaudit.report`."""
        return _presenter().to_dict(self)

    def render(self, fmt: str) -> str:
        """The report in one format: ``json``, ``html``, ``md``, ``csv``, ``sarif``, ``junit``."""
        return _presenter().render(self, fmt)

    def write(
        self,
        out_dir: str | Path,
        formats: tuple[str, ...] | list[str] = ("json", "html", "md", "csv"),
    ) -> list[Path]:
        """Write each format into ``out_dir`` (created if needed); return the paths."""
        return _presenter().write(self, out_dir, formats)


class Presenter(Protocol):
    """What :mod:`miaudit.report` provides to the three convenience methods above. Results
    never import a format: the report layer registers itself here when it is imported (and
    ``import miaudit`` imports it)."""

    def to_dict(self, result: AuditResult) -> dict[str, Any]: ...

    def render(self, result: AuditResult, fmt: str) -> str: ...

    def write(
        self, result: AuditResult, out_dir: str | Path, formats: tuple[str, ...] | list[str]
    ) -> list[Path]: ...


_PRESENTER: list[Presenter] = []


def register_presenter(presenter: Presenter) -> None:
    """Called once by :mod:`miaudit.report`."""
    _PRESENTER[:] = [presenter]


def _presenter() -> Presenter:
    if not _PRESENTER:  # only if miaudit.results was imported without the miaudit package
        raise RuntimeError("import miaudit.report to render results")
    return _PRESENTER[0]
