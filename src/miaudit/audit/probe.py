"""The probing step: attacks that query the target themselves (perturbed copies, gradients) do
so once, after observation; what they find joins the observed signals.

Label-only probes run side by side on an executor's worker processes when that cannot change
what they find: each probe is seeded by itself, so on a target whose answer to a record
depends on that record alone (a scikit-learn model: :data:`STATELESS`) the probes give the same
signals in any order and any process. A target that keeps state between queries (fresh noise
per query from one generator, a query counter, a remote endpoint and its rate limits) is
probed here, one attack after another, as it always was.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from miaudit.attacks import Attack, Available, Probe, ProbingAttack, cannot_run
from miaudit.attacks.probing import CannotProbe
from miaudit.attacks.requirements import Access
from miaudit.audit.inputs import AuditSets
from miaudit.audit.observe import Observation
from miaudit.audit.progress import Progress
from miaudit.executors import Executor, create, picklable
from miaudit.results import SkippedAttack
from miaudit.targets.interface import Target, WhiteBox
from miaudit.targets.sklearn import SklearnTarget

#: Targets whose answer to a record depends on that record alone, so that probes may run in
#: any order, in other processes (exact types: a subclass may add state).
STATELESS: tuple[type[Target], ...] = (SklearnTarget,)
#: Fewer records than this (all sets together) are probed here: their probes take less time
#: than starting worker processes does (about 0.2 s; 1,000 records: 0.4 s here, 0.6 s apart).
SIDE_BY_SIDE_RECORDS = 2000


@dataclass
class Probing:
    """The observation with the probes' signals added, each probe, and the probing attacks
    that could not probe (and why)."""

    observation: Observation
    probes: dict[str, Probe] = field(default_factory=dict)
    skipped: list[SkippedAttack] = field(default_factory=list)

    def queries_per_record(self, name: str) -> float | None:
        """Queries an attack sent per record it scored (``None``: it did not probe)."""
        probe = self.probes.get(name)
        if probe is None:
            return None
        return probe.queries / len(self.observation.membership)


def probing_executor(name: str | None) -> Executor:
    """Where the probes may run side by side, for the audit's executor ``name``: a local
    process pool, unless ``inline`` was chosen. Never a Ray cluster: its nodes need not reach
    the target, and the probes' queries come from where the audit runs."""
    return create("inline" if name == "inline" else "local")


def probe_step(
    model: Target,
    sets: AuditSets,
    chosen: list[Attack],
    observation: Observation,
    seed: int,
    named: bool,
    progress: Progress,
    executor: Executor | None = None,
) -> Probing:
    """Run every chosen probing attack that can probe this target. ``named``: the user chose
    the attacks (otherwise attacks that send many queries per record skip a remote target).
    ``executor``: where label-only probes may run side by side (``None``: here, in turn); the
    signals are the same either way."""
    found = Probing(observation)
    available = Available(
        exposes=model.exposes.value,
        signals=frozenset(observation.signals),
        queryable=model.queryable,
        white_box=isinstance(model, WhiteBox),
    )
    outcomes: dict[str, Probe | str] = {}
    runnable: list[ProbingAttack] = []
    for attack in chosen:
        if isinstance(attack, ProbingAttack):
            reason = _refusal(attack, model, available, named)
            if reason is None:
                runnable.append(attack)
            else:
                outcomes[attack.name] = reason
    side_by_side = _side_by_side(model, sets, runnable, executor)
    if side_by_side:
        assert executor is not None
        outcomes.update(_probe_apart(model, sets, side_by_side, seed, progress, executor))
    apart = {a.name for a in side_by_side}
    for attack in runnable:
        if attack.name not in apart:
            outcomes[attack.name] = _probe_here(model, sets, attack, seed, progress)
    signals = dict(observation.signals)
    for attack in chosen:  # the serial order, whatever order the probes finished in
        outcome = outcomes.get(attack.name)
        if isinstance(outcome, Probe):
            found.probes[attack.name] = outcome
            signals.update(outcome.signals)
        elif outcome is not None:
            found.skipped.append(SkippedAttack(attack.name, outcome))
    for name, values in signals.items():
        if values.shape != observation.membership.shape:  # a bug, not input
            raise RuntimeError(f"probe signal {name} has shape {values.shape}")
    found.observation = replace(observation, signals=signals)
    return found


def _refusal(attack: ProbingAttack, model: Target, available: Available, named: bool) -> str | None:
    """Why ``attack`` cannot probe ``model`` (``None``: it can)."""
    reason = cannot_run(replace(attack.requires, signals=()), available)
    if reason is None and model.remote and attack.requires.queries and not named:
        reason = (
            "not run by default on a remote endpoint: it sends many queries per record; "
            f"name it to run it (CLI: --attacks {attack.name},...; config: audit.attacks = "
            f'["{attack.name}", ...]; Python: attacks=["{attack.name}", ...])'
        )
    return reason


def _probe_here(
    model: Target, sets: AuditSets, attack: ProbingAttack, seed: int, progress: Progress
) -> Probe | str:
    """One attack's probe in this process (a string: why it could not probe)."""
    total = int(sum(len(s) for s in sets.present))
    advance = progress.task(f"{attack.name}: probing the model", total)
    try:
        return attack.probe(model, sets.present, sets.population, seed, advance)
    except CannotProbe as exc:
        return str(exc)


def _side_by_side(
    model: Target, sets: AuditSets, runnable: list[ProbingAttack], executor: Executor | None
) -> list[ProbingAttack]:
    """The label-only probes to run on ``executor`` at once: two or more of them, on enough
    records, on a stateless target that (with the records) can travel to worker processes;
    else none."""
    label_only = [a for a in runnable if a.requires.access is Access.LABEL]
    if executor is None or not executor.pickles(len(label_only)) or len(label_only) < 2:
        return []
    if sum(len(s) for s in sets.present) < SIDE_BY_SIDE_RECORDS:
        return []
    if type(model) not in STATELESS or not picklable((model, sets, label_only)):
        return []
    return label_only


def _probe_in_worker(
    shared: tuple[Target, AuditSets, int], attack: ProbingAttack
) -> tuple[str, Probe | str]:
    model, sets, seed = shared
    try:
        return attack.name, attack.probe(model, sets.present, sets.population, seed)
    except CannotProbe as exc:
        return attack.name, str(exc)


def _probe_apart(
    model: Target,
    sets: AuditSets,
    attacks: list[ProbingAttack],
    seed: int,
    progress: Progress,
    executor: Executor,
) -> dict[str, Probe | str]:
    """The probes of ``attacks``, each in a worker process (the target and the records sent
    once per worker); each attack's progress completes when its probe does."""
    total = int(sum(len(s) for s in sets.present))
    advances: dict[str, Any] = {
        a.name: progress.task(f"{a.name}: probing the model", total) for a in attacks
    }
    outcomes: dict[str, Probe | str] = {}
    for name, outcome in executor.map(_probe_in_worker, attacks, (model, sets, seed)):
        outcomes[name] = outcome
        advances[name](total)
    return outcomes


def unprobed(chosen: list[Attack], probing: Probing) -> list[Attack]:
    """The chosen attacks less the probing attacks that could not probe."""
    dropped = {s.name for s in probing.skipped}
    return [a for a in chosen if a.name not in dropped]


__all__ = ["Probing", "probe_step", "probing_executor", "unprobed"]
