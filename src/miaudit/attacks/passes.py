"""Scoring passes over the texts of a language-model audit, declared by the attacks that read
them — the language-model counterpart of :mod:`miaudit.attacks.probing`.

Every language-model audit scores each text once with the target (the token statistics every
LM attack may read). An attack that needs more — the texts lowercased, a reference model's
loss, the loss of masked-LM neighbours, perturbed copies — declares a :class:`TextPass` in its
``passes``. The audit collects the passes of the attacks it runs, runs each once (passes that
make the same signal are one pass) if the resources it names were given, and adds what each
returns to the signals. A pass whose resources are missing is not run; the attack's own
requirements say why it cannot run (``cannot_run``).

Resources are named as the audit's language-model settings are (``reference_lm``,
``masked_lm``: the fields of ``LanguageModelOptions``), so the pipeline hands a pass what it
names without knowing what it is.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from miaudit.targets.lm import CausalLMTarget, TokenStats

__all__ = ["PassInput", "TextPass", "run_passes"]

#: Scores ``texts`` with ``model`` (a causal LM), reporting progress as ``what``.
Scorer = Callable[[Any, list[str], str], "TokenStats"]


@dataclass(frozen=True, eq=False)
class PassInput:
    """What a pass may use: the target, every text in audit order (members, non-members,
    then population), the target's token statistics on them, the resources given (by name),
    and ``score(model, texts, what)``, which scores texts with a causal LM and reports its
    progress."""

    target: CausalLMTarget
    texts: list[str]
    stats: TokenStats
    resources: Mapping[str, Any]
    score: Scorer


class TextPass(ABC):
    """One pass over the texts that makes one signal (one value per text)."""

    #: The signal this pass makes; passes with the same signal run once.
    signal: str
    #: The resources it needs (names of the audit's language-model settings).
    resources: tuple[str, ...] = ()

    def ready(self, resources: Mapping[str, Any]) -> bool:
        """Whether every resource it needs was given."""
        return all(resources.get(name) is not None for name in self.resources)

    @abstractmethod
    def run(self, data: PassInput) -> np.ndarray:
        """The signal: one float per text of ``data.texts``, in order."""


def run_passes(passes: list[TextPass], data: PassInput) -> dict[str, np.ndarray]:
    """Run each pass whose resources were given, once per signal (the first declared of
    passes that make the same signal); the signals they make."""
    unique: dict[str, TextPass] = {}
    for each in passes:
        unique.setdefault(each.signal, each)
    signals = {}
    for signal, each in unique.items():
        if not each.ready(data.resources):
            continue
        values = np.asarray(each.run(data), dtype=np.float64)
        if values.shape != (len(data.texts),):  # a bug in the pass, not input
            raise RuntimeError(f"pass {signal} returned shape {values.shape}")
        signals[signal] = values
    return signals
