"""Audit results: plain frozen dataclasses that serialise to the ``miaudit.report/1`` schema.

``AuditResult.to_dict()`` *is* ``report.json`` (see ``docs/report-schema.md``). Per-record
scores ride along for plots and ``scores.csv`` but are never part of the JSON.

How each field is written — its key, the object it is nested in, an estimate written flat as
``auc`` and ``auc_ci`` — is declared once, in its ``wire(...)`` metadata; writing and reading
back are both derived from it (:mod:`miaudit.results.serial`). Parts beyond these fields are
typed sections (:mod:`miaudit.results.sections`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol

import numpy as np
from pydantic import ConfigDict

from miaudit._lazy import PRESENTER_LOADERS
from miaudit.metrics import EpsilonBound, Estimate, GdpBound, TprAtFpr
from miaudit.results.gate import Verdict
from miaudit.results.sections import Section, sections_in
from miaudit.results.serial import NON_NEGATIVE, SIGNED_UNIT, UNIT, Serialisable, wire
from miaudit.targets.exposure import Exposure

SCHEMA = "miaudit.report/1"
#: Attacks that never query the model (they measure the data split, not the model): reported,
#: but never the "strongest attack" and not in a gate's worst case unless named.
MODEL_FREE_ATTACKS = frozenset({"blind-baseline"})


def fpr_key(fpr: float) -> str:
    """The JSON key for an FPR: ``0.001`` → ``"0.001"``."""
    return f"{fpr:g}" if fpr >= 1e-4 else repr(fpr)


@dataclass(frozen=True)
class ModelUtility(Serialisable):
    """Accuracy on members (train) and non-members (held out), and their difference."""

    train_accuracy: Estimate = field(metadata=wire(flat=True, bounds=UNIT))
    test_accuracy: Estimate = field(metadata=wire(flat=True, bounds=UNIT))
    generalization_gap: Estimate = field(metadata=wire(flat=True, bounds=SIGNED_UNIT))


@dataclass(frozen=True)
class RecordRisk(Serialisable):
    """A member the attack singles out: its score and conformal p-value of being a non-member."""

    id: str
    label: str
    score: float
    p_value: float = field(metadata=wire(bounds=UNIT))
    #: The start of the record's text (language models), for a reader who cannot look ids up.
    snippet: str = field(default="", metadata=wire(omit_default=True))


@dataclass(frozen=True)
class ClassSlice(Serialisable):
    """The attack restricted to records of one true class."""

    label: str
    n_members: int = field(metadata=wire(bounds=NON_NEGATIVE))
    n_nonmembers: int = field(metadata=wire(bounds=NON_NEGATIVE))
    auc: Estimate = field(metadata=wire(flat=True, reason_key="reason", bounds=UNIT))


@dataclass(frozen=True)
class AttackResult(Serialisable):
    """Every metric for one attack."""

    name: str
    description: str
    auc: Estimate = field(metadata=wire(flat=True, bounds=UNIT))
    tpr_at_fpr: tuple[TprAtFpr, ...] = field(metadata=wire(keyed_by="fpr", key_format=fpr_key))
    advantage: Estimate = field(metadata=wire(flat=True, bounds=SIGNED_UNIT))
    balanced_accuracy: Estimate = field(metadata=wire(flat=True, bounds=UNIT))
    advantage_threshold: float
    #: Written with its value repeated first, as ``epsilon_lower_bound``.
    epsilon: EpsilonBound = field(
        metadata=wire(before=(("epsilon_lower_bound", lambda a: a.epsilon.value),))
    )
    #: The ROC curve, written as ``roc: {fpr, tpr}`` (as many of each).
    roc_fpr: tuple[float, ...] = field(metadata=wire(key="fpr", group="roc", bounds=UNIT))
    roc_tpr: tuple[float, ...] = field(
        metadata=wire(key="tpr", group="roc", bounds=UNIT, same_length_as="roc_fpr")
    )
    at_risk: tuple[RecordRisk, ...]
    slices: tuple[ClassSlice, ...]
    #: Where this attack's thresholds were chosen when not where the audit's settings say
    #: ("": as the settings say).
    calibrated_by: str = field(default="", metadata=wire(omit_default=True))
    #: The threat model: what the attacker reads from the model ("predicted label",
    #: "probabilities or logits", ... and whether reference models trained by the auditor),
    #: and how many queries it spends per audited record.
    access: str = field(default="", metadata=wire(omit_default=True))
    queries_per_record: float | None = field(
        default=None, metadata=wire(omit_default=True, bounds=NON_NEGATIVE)
    )
    #: How an attack that probes the model did so, and how its settings were chosen.
    method: str = field(default="", metadata=wire(omit_default=True))
    #: The ε lower bound read through a Gaussian trade-off curve (sound if the training is
    #: μ-GDP, as DP-SGD nearly is); ``epsilon`` needs no such assumption.
    epsilon_gdp: GdpBound | None = field(default=None, metadata=wire(omit_default=True))

    def tpr(self, fpr: float) -> TprAtFpr | None:
        return next((t for t in self.tpr_at_fpr if abs(t.fpr - fpr) < 1e-12), None)


@dataclass(frozen=True)
class SkippedAttack(Serialisable):
    """An attack the audit could not run, and why."""

    name: str
    reason: str


@dataclass(frozen=True)
class AuditSettings(Serialisable):
    seed: int
    delta: float = field(metadata=wire(bounds=UNIT))
    confidence: float = field(metadata=wire(bounds=UNIT))
    fprs: tuple[float, ...] = field(metadata=wire(bounds=UNIT))
    calibration: str


@dataclass(frozen=True, eq=False)
class ScoreTable:
    """Per-record scores for every attack that ran (members, non-members; not population)."""

    __pydantic_config__: ClassVar[ConfigDict] = ConfigDict(arbitrary_types_allowed=True)

    ids: np.ndarray
    labels: np.ndarray
    membership: np.ndarray
    scores: dict[str, np.ndarray]


def _exposure(target: Any) -> Exposure | None:
    """The typed exposure a report's ``target.exposes`` names (``None`` if it names none)."""
    if not isinstance(target, Mapping):
        return None  # refused as the target is read
    try:
        return Exposure.parse(str(target.get("exposes")))
    except ValueError:
        return None


def _access_rank(access: str) -> tuple[int, str]:
    """Least access first: labels, then scores, then anything with reference models, then
    the model's parameters."""
    if "white-box" in access:
        return 3, access
    rank = 0 if access.startswith("predicted label") else 2 if "reference" in access else 1
    return rank, access


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _reference_problem(ref: Mapping[str, Any] | None) -> str | None:
    """What is wrong with a ``reference_models`` object read back (the keys the formats
    show), if anything."""
    if not ref:
        return None
    source = ref.get("source", "trained")
    if not isinstance(source, str):
        return "'source' must be a string"
    counts = ("n_models", "trained", "cache_hits") if source == "trained" else ("n_models",)
    for key in counts:
        if not _count(ref.get(key)):
            return f"{key!r} must be a count (a whole number, at least 0)"
    if "train_size" in ref and not _count(ref["train_size"]):
        return "'train_size' must be a count (a whole number, at least 0)"
    for key in ("variants", "tuning"):
        if not isinstance(ref.get(key, {}), Mapping):
            return f"{key!r} must be an object"
    if not all(isinstance(t, Mapping) for t in ref.get("tuning", {}).values()):
        return "each entry of 'tuning' must be an object"
    return None


@dataclass(frozen=True)
class AuditResult:
    """The outcome of one audit. Render it with :meth:`render` or write it with :meth:`write`."""

    version: str = field(metadata=wire(key="miaudit_version"))
    created: str
    target: dict[str, Any]
    model: ModelUtility
    n_members: int = field(metadata=wire(group="records", bounds=NON_NEGATIVE))
    n_nonmembers: int = field(metadata=wire(group="records", bounds=NON_NEGATIVE))
    n_population: int = field(metadata=wire(group="records", bounds=NON_NEGATIVE))
    attacks: tuple[AttackResult, ...]
    skipped: tuple[SkippedAttack, ...] = field(metadata=wire(key="skipped_attacks"))
    settings: AuditSettings
    declared_dp_epsilon: float | None = field(
        default=None,
        metadata=wire(key="declared_epsilon", group="differential_privacy", bounds=NON_NEGATIVE),
    )
    #: The largest ε lower bound an audit of this size can show (perfect separation).
    epsilon_ceiling: float | None = field(
        default=None,
        metadata=wire(key="ceiling", group="differential_privacy", bounds=NON_NEGATIVE),
    )
    #: The owner says the training data are sensitive (medical, financial, personal).
    sensitive_data: bool = False
    #: Reference models used, if any: counts, cache hits, and each attack's chosen variant.
    reference: dict[str, Any] | None = field(
        default=None, metadata=wire(key="reference_models", check=_reference_problem)
    )
    #: Caveats a reader needs to trust the numbers (e.g. saturated probabilities).
    notes: tuple[str, ...] = ()
    #: The gate's verdict once checked; ``None`` before.
    gate: Verdict | None = None
    #: The file the audit was configured from (config, outputs table or model), if any: where
    #: CI findings are located.
    source: str | None = None
    #: What the audited interface returned (typed; ``target["exposes"]`` is its text, from
    #: which it is read back).
    exposure: Exposure | None = field(
        default=None, metadata=wire(skip=True, derive=lambda data: _exposure(data.get("target")))
    )
    #: Names for class labels, from the data (``{"0": "malignant", "1": "benign"}``).
    class_names: dict[str, str] | None = None
    #: What one record is, in the plural, for the plain-words summary ("patients").
    subjects: str = "records"
    #: Typed sections beyond the built-in parts above (see :mod:`miaudit.results.sections`):
    #: each is written under its ``kind`` in ``report.json`` and shown by every format.
    sections: tuple[Section, ...] = field(default=(), metadata=wire(skip=True, derive=sections_in))
    score_table: ScoreTable | None = field(
        default=None, repr=False, compare=False, metadata=wire(skip=True)
    )

    #: Per-record scores are numpy arrays, and sections are checked only as instances.
    __pydantic_config__: ClassVar[ConfigDict] = ConfigDict(arbitrary_types_allowed=True)

    def class_name(self, label: str) -> str:
        """A class label as the data names it (the label itself without names)."""
        return (self.class_names or {}).get(str(label), str(label))

    def attack(self, name: str) -> AttackResult | None:
        return next((a for a in self.attacks if a.name == name), None)

    def section(self, kind: str) -> Section | None:
        """The extra section of this kind, if the result carries one."""
        return next((s for s in self.sections if s.kind == kind), None)

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
    never import a format: the report layer registers itself here when it is imported (the
    facade's loader in :mod:`miaudit._lazy` imports it when a result is first rendered)."""

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
    if not _PRESENTER:  # the report layer, loaded by the facade's loader on first use
        for load in PRESENTER_LOADERS:
            load()
    if not _PRESENTER:
        raise RuntimeError("import miaudit.report to render results")
    return _PRESENTER[0]
