"""Observation: query the target on every record and turn its outputs into signals.

One function per kind of target (classifier, language model), one result type: the rest of the
pipeline does not know which kind it audits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from miaudit.attacks import Attack
from miaudit.attacks.passes import PassInput, run_passes
from miaudit.audit.options import LanguageModelOptions
from miaudit.audit.progress import Progress
from miaudit.data import MEMBER, NONMEMBER, POPULATION, RecordSet, TextRecords
from miaudit.signals.classifier import compute_signals, saturated
from miaudit.signals.lm import lm_signals
from miaudit.targets.interface import OutputKind, Target, label_indices
from miaudit.targets.lm import CausalLMTarget, TokenStats


@dataclass(frozen=True, eq=False)
class Observation:
    """Signals of every record (members, non-members, then population) and who is who.

    ``correct`` / ``total`` count what the model got right per record (a class, or the tokens
    of a text): the utility figures. ``labels`` are the audited records' class labels (slices);
    ``notes`` what a reader must know about these outputs."""

    signals: dict[str, np.ndarray]
    membership: np.ndarray
    ids: np.ndarray
    labels: np.ndarray
    correct: np.ndarray
    total: np.ndarray
    label_index: np.ndarray | None = None
    texts: np.ndarray | None = None
    tokens: TokenStats | None = None
    saturated: int = 0

    @property
    def n_audit(self) -> int:
        return int((self.membership != POPULATION).sum())

    @property
    def n_members(self) -> int:
        return int((self.membership == MEMBER).sum())


def membership_of(sets: Sequence[RecordSet | TextRecords | None]) -> np.ndarray:
    """1 for members, 0 for non-members, -1 for population records, in that order."""
    sizes = [len(s) if s is not None else 0 for s in sets]
    return np.concatenate(
        [
            np.full(n, value, np.int8)
            for n, value in zip(sizes, (MEMBER, NONMEMBER, POPULATION), strict=True)
        ]
    )


def observe_classifier(
    target: Target,
    sets: list[RecordSet],
    membership: np.ndarray,
    temperatures: tuple[float, ...],
    progress: Progress,
) -> Observation:
    parts = []
    for records in sets:
        advance = progress.task(f"querying the model on {records.name}", len(records))
        outputs = target.outputs(records, advance)
        index = label_indices(records.labels, target.classes)
        parts.append(compute_signals(outputs, index, temperatures))
    signals = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    audited = sets[:2]
    cut_off = 0
    if target.exposes.kind is OutputKind.PROBABILITIES:
        cut_off = saturated(signals, membership != POPULATION)
    return Observation(
        signals=signals,
        membership=membership,
        ids=np.concatenate([s.ids for s in audited]),
        labels=np.concatenate([s.labels for s in audited]).astype(str),
        correct=signals["correct"],
        total=np.ones(len(membership), dtype=np.int64),
        label_index=label_indices(np.concatenate([s.labels for s in sets]), target.classes),
        saturated=cut_off,
    )


def observe_language_model(
    target: CausalLMTarget,
    sets: list[TextRecords],
    membership: np.ndarray,
    chosen: Sequence[Attack],
    options: LanguageModelOptions,
    progress: Progress,
) -> Observation:
    """Score every text with the target, then run the passes the ``chosen`` attacks declare
    (:mod:`miaudit.attacks.passes`) with the resources ``options`` hold, by field name."""
    texts = np.concatenate([s.texts for s in sets])
    ids = np.concatenate([s.ids for s in sets])
    names = [f"record {i}" for i in ids]

    def score(model: Any, batch: list[str], what: str) -> TokenStats:
        return model.token_stats(batch, names, progress.task(what, len(batch)))

    stats = score(target, list(texts), "scoring texts with the model")
    resources = {f.name: getattr(options, f.name) for f in fields(options)}
    signals = lm_signals(stats, list(texts))
    passes = [p for attack in chosen for p in attack.passes]
    signals.update(run_passes(passes, PassInput(target, list(texts), stats, resources, score)))
    n_audit = int((membership != POPULATION).sum())
    return Observation(
        signals=signals,
        membership=membership,
        ids=ids[:n_audit],
        labels=np.full(n_audit, "text", dtype=object).astype(str),
        correct=np.add.reduceat(stats.correct.astype(np.int64), stats.offsets[:-1]),
        total=stats.counts(),
        texts=texts,
        tokens=stats,
    )
