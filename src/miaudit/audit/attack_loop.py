"""The attack loop: for each chosen attack, the one check of what it needs, then its scores."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from miaudit.attacks import Attack, AttackInput, Available, cannot_run
from miaudit.attacks.tuning import Tuning, tune
from miaudit.audit.observe import Observation
from miaudit.audit.progress import Progress
from miaudit.audit.reference import References
from miaudit.results import SkippedAttack
from miaudit.training.reference import ReferenceSignals


@dataclass
class AttackRun:
    """Every attack's scores (members, non-members, then the population kept), the attacks that
    could not run and why, and each attack's variant."""

    scores: dict[str, np.ndarray] = field(default_factory=dict)
    skipped: list[SkippedAttack] = field(default_factory=list)
    variants: dict[str, str | None] = field(default_factory=dict)
    tuning: dict[str, Tuning] = field(default_factory=dict)


def _inputs(
    observation: Observation, references: References, seed: int
) -> tuple[AttackInput, AttackInput]:
    """What attacks see: the records kept, and — for attacks that learn from every reference
    row — all of them."""
    ref = references.signals
    o = observation
    full = AttackInput(
        o.signals,
        o.membership,
        seed,
        ref.signals if ref is not None else None,
        ref.trained_on if ref is not None else None,
        o.label_index,
        o.texts,
        o.tokens,
    )
    used = references.used
    if ref is None or used is None or used.all():
        return full, full
    kept = ReferenceSignals(
        {k: v[:, used] for k, v in ref.signals.items()},
        ref.trained_on[:, used],
        ref.cache_hits,
        ref.trained,
    )
    data = AttackInput(
        {k: v[used] for k, v in o.signals.items()},
        o.membership[used],
        seed,
        kept.signals,
        kept.trained_on,
        None if o.label_index is None else o.label_index[used],
        None if o.texts is None else o.texts[used],
        o.tokens,
    )
    return data, full


def run_attacks(
    chosen: list[Attack],
    observation: Observation,
    references: References,
    available: Available,
    seed: int,
    progress: Progress,
    fprs: tuple[float, ...] | None = None,
) -> AttackRun:
    """Run every attack that can run; say why the others cannot. With ``fprs``, attacks that
    have parameters to choose tune them first (:mod:`miaudit.attacks.tuning`) for TPR at the
    lowest of ``fprs`` the replays resolve."""
    data, full = _inputs(observation, references, seed)
    used = references.used
    run = AttackRun()
    advance = progress.task("running attacks", len(chosen))
    for attack in chosen:
        reason = cannot_run(attack.requires, available) or attack.unusable(data)
        if reason:
            run.skipped.append(SkippedAttack(attack.name, reason))
            advance(1)
            continue
        source = full if attack.trains_on_reference_rows and references.signals else data
        if fprs is not None and source.reference is not None:
            attack, tuning = tune(attack, source, fprs)
            if tuning is not None:
                run.tuning[attack.name] = tuning
        run.variants[attack.name] = attack.variant(source)
        scores = attack.scores(source)
        if source is full and used is not None:
            scores = scores[used]
        if scores.shape != data.membership.shape or not np.all(np.isfinite(scores)):
            raise RuntimeError(f"attack {attack.name} returned invalid scores")  # a bug, not input
        run.scores[attack.name] = scores
        advance(1)
    return run
