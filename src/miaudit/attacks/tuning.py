"""Attacks that tune themselves without reading the audited membership labels.

Leave-one-reference-out replay: reference model ``j`` plays the target. Its signals on every
record are the "target's" outputs, the records it trained on are the members and the records it
could have trained on but did not are the non-members (its design row — known by construction,
whoever the audited members are); the other M − 1 models are the references. Every candidate
setting of the attack is scored on a few such replays, pooled into one ROC, and the one with
the highest TPR at the lowest FPR the pooled replays resolve wins (ties: the TPR at the next
FPR, then the current setting). The audited membership labels never enter: a replay's labels
are overwritten from the design, and only which records are population records is read.

Which records play which role follows the design: when the reference models trained on audited
records, those are the replay's audited records and the population is its comparison set
(population records the replayed model trained on are left out); when only population records
were trained on (``"population"`` design, or one model), roles swap.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from miaudit.attacks.interface import MEMBER, NONMEMBER, POPULATION, Attack, AttackInput
from miaudit.attacks.requirements import more_references

METHOD = (
    "leave-one-reference-out replay: each of {replays} reference models in turn plays the "
    "target, its own training records the members and the records it left out the "
    "non-members, the other {others} models the references; the setting with the highest "
    "TPR at {fpr:g} FPR on the replays' pooled scores is chosen (the audited membership labels are "
    "not read)"
)


@dataclass(frozen=True)
class Tuning:
    """What tuning did for one attack, for the report."""

    chosen: dict[str, Any]
    default: dict[str, Any]
    fixed: tuple[str, ...] = ()
    method: str = ""
    #: Why nothing was tuned ("" when it was).
    skipped: str = ""
    fpr: float | None = None
    objective_chosen: float | None = None
    objective_default: float | None = None
    candidates: int = 0
    replays: int = 0

    def to_dict(self) -> dict[str, Any]:
        if self.skipped:
            return {"tuned": False, "reason": self.skipped, "used": self.chosen}
        return {
            "tuned": True,
            "chosen": self.chosen,
            "default": self.default,
            "user_set": list(self.fixed),
            "method": self.method,
            "objective": {
                "fpr": self.fpr,
                "chosen_tpr": self.objective_chosen,
                "default_tpr": self.objective_default,
            },
            "candidates": self.candidates,
            "replays": self.replays,
        }


@dataclass(frozen=True, eq=False)
class Replay:
    """One reference model as the target: the attack's input and the truth."""

    data: AttackInput
    members: np.ndarray
    nonmembers: np.ndarray


def replays(data: AttackInput, limit: int, needs_in: bool = False) -> list[Replay]:
    """Up to ``limit`` replays, reference models chosen at random (seeded by ``data.seed``).
    Only ``data.membership == POPULATION`` is read from the audit's labels.

    A replay keeps the records the other models can score: OUT for at least one of them
    (and, ``needs_in``, audited records IN for at least one) — with few models, a record IN
    for the one model left out would otherwise stop every replay."""
    if data.reference is None or data.reference_in is None:
        return []
    trained_on = data.reference_in
    n_models = trained_on.shape[0]
    if n_models < 2:
        return []
    population = data.membership == POPULATION
    role = ~population if trained_on[:, ~population].any() else population
    chosen = np.random.default_rng(data.seed).permutation(n_models)[:limit]
    out = []
    for j in sorted(int(m) for m in chosen):
        truth = trained_on[j]
        others = np.arange(n_models) != j
        n_in = trained_on[others].sum(axis=0)
        keep = (role | ~truth) & (n_in < n_models - 1)  # the comparison set: OUT for j
        if needs_in:
            keep &= ~role | (n_in > 0)
        membership = np.where(role, np.where(truth, MEMBER, NONMEMBER), POPULATION)[keep]
        replay = AttackInput(
            signals={k: v[j, keep] for k, v in data.reference.items()},
            membership=membership,
            seed=data.seed,
            reference={k: v[np.ix_(others, keep)] for k, v in data.reference.items()},
            reference_in=trained_on[np.ix_(others, keep)],
            label_index=None if data.label_index is None else data.label_index[keep],
            texts=None if data.texts is None else data.texts[keep],
            tokens=data.tokens,
        )
        out.append(Replay(replay, membership == MEMBER, membership == NONMEMBER))
    return out


def tpr_at(scores: np.ndarray, members: np.ndarray, nonmembers: np.ndarray, fpr: float) -> float:
    """TPR at ``fpr`` as the audit reports it: the threshold is the ⌊fpr·(n+1)⌋-th largest
    non-member score, and members strictly above it are flagged."""
    negative = np.sort(scores[nonmembers])[::-1]
    k = math.floor(fpr * (len(negative) + 1))
    if k < 1:
        return 0.0
    return float(np.mean(scores[members] > negative[k - 1]))


def objective_fprs(fprs: Sequence[float], n_nonmembers: int) -> list[float]:
    """The audit's FPRs the replays resolve (by the audit's own rule: at least one non-member
    beyond the threshold), lowest first; the largest one if none is."""
    resolvable = sorted(f for f in fprs if n_nonmembers >= math.ceil(1.0 / f - 1e-9))
    return resolvable or [max(fprs)]


def candidates(attack: Attack, data: AttackInput) -> list[dict[str, Any]]:
    """Every combination of the searchable values (:meth:`Attack.search_space`: by default
    those each parameter declares ``tunable``) of the parameters the user did not set; the
    current setting first."""
    space = {k: v for k, v in attack.search_space(data).items() if k not in attack.fixed}
    if not space:
        return []
    names = list(space)
    return [dict(zip(names, values, strict=True)) for values in itertools.product(*space.values())]


def _evaluate(
    attack: Attack, setting: dict[str, Any], runs: list[Replay], fprs: list[float]
) -> tuple[float, ...] | None:
    """TPR at each of ``fprs`` on the replays' scores pooled into one ROC (a threshold placed
    among every replay's non-members resolves lower FPRs than any one replay); ``None`` if
    the setting cannot run."""
    candidate = attack.configure(**setting)
    pooled: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for run in runs:
        if candidate.unusable(run.data):
            return None
        scores = candidate.scores(run.data)
        if not np.all(np.isfinite(scores)):
            return None
        pooled.append((scores, run.members, run.nonmembers))
    scores, members, nonmembers = (np.concatenate(x) for x in zip(*pooled, strict=True))
    return tuple(tpr_at(scores, members, nonmembers, f) for f in fprs)


def _no_replay(attack: Attack, data: AttackInput) -> str:
    n_models = 0 if data.reference_in is None else data.reference_in.shape[0]
    if n_models < 2:
        return (
            "tuning replays one reference model as the target against the others: it needs 2 "
            f"or more, this audit has {n_models}"
        )
    side = (
        "IN for none of them (online attacks need both)"
        if attack.needs_in_models
        else ("OUT for none of them")
    )
    return (
        f"no replay possible: with one of the {n_models} reference models as the target, the "
        f"others leave its members or non-members {side}; use {more_references()}"
    )


def tune(attack: Attack, data: AttackInput, fprs: Sequence[float]) -> tuple[Attack, Tuning | None]:
    """``attack`` with its searchable parameters chosen by replay, and what was done
    (``None``: the attack has nothing to tune)."""
    settings = candidates(attack, data)
    current = attack.params()
    if not settings:
        return attack, None
    runs = [
        r
        for r in replays(data, attack.tuning_replays, attack.needs_in_models)
        if r.members.any() and r.nonmembers.any()
    ]
    why = "" if runs else _no_replay(attack, data)
    targets = objective_fprs(fprs, sum(int(r.nonmembers.sum()) for r in runs))
    results = (
        {} if why else {i: _evaluate(attack, s, runs, targets[:2]) for i, s in enumerate(settings)}
    )
    usable = {i: r for i, r in results.items() if r is not None}
    if not why and 0 not in usable:
        why = "the current setting cannot run on a replay (one reference model fewer)"
    fixed = tuple(sorted(attack.fixed))
    if why:
        return attack, Tuning(current, current, fixed, skipped=why)
    best = max(usable, key=lambda i: (usable[i], i == 0))  # ties: the current setting
    tuned = attack.configure(**settings[best])
    tuned.fixed = attack.fixed
    others = runs[0].data.reference_in.shape[0] if runs[0].data.reference_in is not None else 0
    return tuned, Tuning(
        chosen=tuned.params(),
        default=current,
        fixed=fixed,
        method=METHOD.format(replays=len(runs), others=others, fpr=targets[0]),
        fpr=targets[0],
        objective_chosen=usable[best][0],
        objective_default=usable[0][0],
        candidates=len(usable),
        replays=len(runs),
    )
