"""Observation: query the target on every record and turn its outputs into signals.

One function per kind of target (classifier, language model), one result type: the rest of the
pipeline does not know which kind it audits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from miaudit.audit.options import LanguageModelOptions
from miaudit.audit.progress import Progress
from miaudit.data import MEMBER, NONMEMBER, POPULATION, RecordSet, TextRecords
from miaudit.signals.classifier import compute_signals
from miaudit.signals.lm import lm_signals
from miaudit.targets.interface import OutputKind, Target, label_indices
from miaudit.targets.lm import CausalLMTarget, TokenStats

#: Language-model attacks that need a second scoring pass, and the signal each reads.
_LOWERCASE, _REFERENCE, _NEIGHBOURHOOD = "lowercase", "reference", "neighbourhood"


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
    saturated = 0
    if target.exposes.kind is OutputKind.PROBABILITIES and "confidence" in signals:
        saturated = int((signals["confidence"][membership != POPULATION] >= 1.0).sum())
    return Observation(
        signals=signals,
        membership=membership,
        ids=np.concatenate([s.ids for s in audited]),
        labels=np.concatenate([s.labels for s in audited]).astype(str),
        correct=signals["correct"],
        total=np.ones(len(membership), dtype=np.int64),
        label_index=label_indices(np.concatenate([s.labels for s in sets]), target.classes),
        saturated=saturated,
    )


def observe_language_model(
    target: CausalLMTarget,
    sets: list[TextRecords],
    membership: np.ndarray,
    chosen: Sequence[str],
    options: LanguageModelOptions,
    progress: Progress,
) -> Observation:
    texts = np.concatenate([s.texts for s in sets])
    ids = np.concatenate([s.ids for s in sets])
    names = [f"record {i}" for i in ids]

    def query(model: CausalLMTarget, batch: list[str], what: str) -> TokenStats:
        return model.token_stats(batch, names, progress.task(what, len(batch)))

    stats = query(target, list(texts), "scoring texts with the model")
    lowercase = None
    if _LOWERCASE in chosen and any(t != t.lower() for t in texts):
        lowercase = query(target, [t.lower() for t in texts], "scoring lowercased texts")
    reference = None
    if options.reference_lm is not None and _REFERENCE in chosen:
        reference = query(
            options.reference_lm, list(texts), "scoring texts with the reference model"
        )
    near = None
    masked = options.masked_lm
    if masked is not None and _NEIGHBOURHOOD in chosen:
        made = masked.neighbours(list(texts))
        flat = [t for group in made for t in group]
        near = query(target, flat, f"scoring {masked.n} neighbours per text")
    signals = lm_signals(
        stats,
        list(texts),
        lowercase,
        reference,
        near,
        masked.n if masked is not None else 0,
    )
    if _LOWERCASE in chosen and lowercase is None:
        # every text is its own lowercase form: the perplexity ratio is exactly 1
        signals["lowercase_ratio"] = np.ones(len(texts))
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
