"""The probing step: attacks that query the target themselves (perturbed copies, gradients) do
so once, after observation; what they find joins the observed signals."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from miaudit.attacks import Attack, Available, Probe, ProbingAttack, cannot_run
from miaudit.attacks.probing import CannotProbe
from miaudit.audit.inputs import AuditSets
from miaudit.audit.observe import Observation
from miaudit.audit.progress import Progress
from miaudit.results import SkippedAttack
from miaudit.targets.interface import Target, WhiteBox


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


def probe_step(
    model: Target,
    sets: AuditSets,
    chosen: list[Attack],
    observation: Observation,
    seed: int,
    named: bool,
    progress: Progress,
) -> Probing:
    """Run every chosen probing attack that can probe this target. ``named``: the user chose
    the attacks (otherwise attacks that send many queries per record skip a remote target)."""
    found = Probing(observation)
    available = Available(
        exposes=model.exposes.value,
        signals=frozenset(observation.signals),
        queryable=model.queryable,
        white_box=isinstance(model, WhiteBox),
    )
    signals = dict(observation.signals)
    for attack in chosen:
        if not isinstance(attack, ProbingAttack):
            continue
        needs = replace(attack.requires, signals=())
        reason = cannot_run(needs, available)
        if reason is None and model.remote and attack.requires.queries and not named:
            reason = (
                "not run by default on a remote endpoint: it sends many queries per record; "
                f"name it to run it (CLI: --attacks {attack.name},...; config: audit.attacks = "
                f'["{attack.name}", ...]; Python: attacks=["{attack.name}", ...])'
            )
        if reason is None:
            total = int(sum(len(s) for s in sets.present))
            advance = progress.task(f"{attack.name}: probing the model", total)
            try:
                probe = attack.probe(model, sets.present, sets.population, seed, advance)
            except CannotProbe as exc:
                reason = str(exc)
            else:
                found.probes[attack.name] = probe
                signals.update(probe.signals)
                continue
        found.skipped.append(SkippedAttack(attack.name, reason))
    for name, values in signals.items():
        if values.shape != observation.membership.shape:  # a bug, not input
            raise RuntimeError(f"probe signal {name} has shape {values.shape}")
    found.observation = replace(observation, signals=signals)
    return found


def unprobed(chosen: list[Attack], probing: Probing) -> list[Attack]:
    """The chosen attacks less the probing attacks that could not probe."""
    dropped = {s.name for s in probing.skipped}
    return [a for a in chosen if a.name not in dropped]


__all__ = ["Probing", "probe_step", "unprobed"]
