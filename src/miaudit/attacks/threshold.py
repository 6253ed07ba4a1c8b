"""Population (threshold) attacks: the score is one signal, oriented so higher = member.

The threshold itself is chosen by the metrics on calibration data — population records when the
audit has them (Ye et al. 2022, "Enhanced Membership Inference Attacks", attack P), otherwise a
held-out half of the non-members — never on the records it is reported on.
"""

from __future__ import annotations

import numpy as np

from miaudit.attacks.interface import Attack, AttackInput
from miaudit.attacks.passes import TextPass
from miaudit.attacks.requirements import Access, Requirements


class SignalAttack(Attack):
    """Threshold attack on a single signal; ``sign`` is -1 for signals lower on members;
    ``passes``: the scoring passes that make the signal (language models), if the target's
    own outputs do not."""

    def __init__(
        self,
        name: str,
        signal: str,
        sign: float,
        description: str,
        requires: Requirements | None = None,
        passes: tuple[TextPass, ...] = (),
    ) -> None:
        self.name = name
        self.description = description
        self.signal = signal
        self.sign = sign
        self.requires = requires or Requirements(signals=(signal,))
        self.passes = passes

    def scores(self, data: AttackInput) -> np.ndarray:
        return self.sign * np.asarray(data.signals[self.signal], dtype=np.float64)


THRESHOLD_ATTACKS = (
    SignalAttack("loss", "loss", -1.0, "cross-entropy loss of the true class (Yeom et al. 2018)"),
    SignalAttack(
        "confidence", "confidence", 1.0, "probability of the true class (Salem et al. 2019)"
    ),
    SignalAttack(
        "entropy", "entropy", -1.0, "entropy of the prediction, label-free (Salem et al. 2019)"
    ),
    SignalAttack(
        "modified-entropy",
        "modified_entropy",
        -1.0,
        "modified prediction entropy (Song & Mittal 2021, eq. 4)",
    ),
    SignalAttack(
        "logit-confidence",
        "logit_confidence",
        1.0,
        "logit-scaled confidence log(p_y/(1-p_y)) (Carlini et al. 2022)",
    ),
    SignalAttack(
        "margin", "margin", 1.0, "hinge: true-class log-probability minus the best other class"
    ),
    SignalAttack(
        "gap",
        "correct",
        1.0,
        "label-only baseline: member iff correctly classified (Yeom et al. 2018)",
        Requirements(access=Access.LABEL, signals=("correct",)),
    ),
)
