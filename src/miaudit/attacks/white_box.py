"""White-box attacks, for the model's owner: the gradient of the loss on a training record is
smaller — the model has already fitted it (Nasr et al. 2019; MIMIR's gradnorm for language
models)."""

from __future__ import annotations

from typing import Any

import numpy as np

from miaudit.attacks.probing import CannotProbe, Probe, ProbingAttack
from miaudit.attacks.requirements import Access, Requirements
from miaudit.errors import InputError
from miaudit.targets.interface import Modality, ProgressCallback, WhiteBox


class GradientNormAttack(ProbingAttack):
    """Minus the L2 norm of the per-record gradient of the loss with respect to every
    trainable parameter."""

    signal = "gradient_norm"

    def __init__(self, modality: Modality = Modality.CLASSIFIER) -> None:
        language = modality is Modality.LANGUAGE_MODEL
        self.name = "lm-gradient-norm" if language else "gradient-norm"
        self.description = (
            "minus the norm of the loss gradient w.r.t. the parameters (white-box; "
            + ("MIMIR's gradnorm)" if language else "Nasr et al. 2019)")
        )
        self.requires = Requirements(
            modality=modality, access=Access.WHITE_BOX, signals=(self.signal,)
        )
        # a backward pass through a large language model per text: run only when named
        self.default = not language

    def probe(
        self,
        target: Any,
        sets: list[Any],
        population: Any | None,
        seed: int,
        advance: ProgressCallback | None = None,
    ) -> Probe:
        if not isinstance(target, WhiteBox):  # pragma: no cover - cannot_run checks first
            raise InputError(f"{self.name} needs white-box access to the model")
        try:
            norms = np.concatenate([target.gradient_norms(s, advance) for s in sets])
        except InputError as exc:  # e.g. a TorchScript file: nothing to differentiate
            raise CannotProbe(str(exc)) from exc
        if not np.all(np.isfinite(norms)):
            raise CannotProbe(f"{self.name}: the model's gradients are not finite")
        note = "one forward and backward pass per record, on the model's own parameters"
        return Probe({self.signal: norms}, len(norms), note)

    def scores(self, data: Any) -> np.ndarray:
        return -np.asarray(data.signals[self.signal], dtype=np.float64)
