"""Privacy auditing with one training run (Steinke, Nasr & Jagielski 2023): m canaries, each
included in the training set with probability ½ by a coin the auditor keeps; one model is
trained; the auditor guesses IN for the most member-like canaries and OUT for the least, and
the number of correct guesses gives a sound lower bound on the training's ε — no retraining.
For a model that trains once a week, the only affordable DP audit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from miaudit.attacks import AttackInput, create
from miaudit.attacks.threshold import SignalAttack
from miaudit.data import RecordSet
from miaudit.errors import InputError
from miaudit.metrics import one_run_audit_bound
from miaudit.signals.classifier import compute_signals
from miaudit.targets.interface import ClassifierTarget, label_indices
from miaudit.training.recipe import Recipe, SklearnRecipe


@dataclass(frozen=True)
class OneRunResult:
    """The ε lower bound (at ``delta``, holding with probability ≥ ``confidence``), the k
    guesses per side that gave it, the correct guesses out of the guesses, the canaries, and
    the accountant's ε if the recipe trained with DP-SGD."""

    epsilon: float
    delta: float
    confidence: float
    k: int
    correct: int
    guesses: int
    canaries: int
    included: int
    attack: str
    dp_epsilon: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": "one-run audit (Steinke, Nasr & Jagielski 2023)",
            "epsilon_lower_bound": self.epsilon,
            "delta": self.delta,
            "confidence": self.confidence,
            "guesses_per_side": self.k,
            "correct": self.correct,
            "guesses": self.guesses,
            "canaries": self.canaries,
            "canaries_included": self.included,
            "attack": self.attack,
            "dp_epsilon": self.dp_epsilon,
        }


def one_run_audit(
    model: Any,
    train: tuple[Any, Any],
    canaries: tuple[Any, Any],
    *,
    attack: str = "loss",
    seed: int = 0,
    delta: float = 1e-5,
    confidence: float = 0.95,
    guesses: list[int] | None = None,
) -> OneRunResult:
    """Train ``model`` (a scikit-learn estimator or a :class:`~miaudit.training.Recipe`) once on
    ``train`` plus a random half of ``canaries`` and bound its ε from ``attack`` 's guesses on
    the canaries. More canaries give a tighter bound (m = 1,000 is a start)."""
    recipe = model if isinstance(model, Recipe) else SklearnRecipe(model)
    scorer = create(attack)
    if not isinstance(scorer, SignalAttack):
        raise InputError(
            f"one-run auditing scores canaries with a threshold attack (loss, confidence, "
            f"logit-confidence, margin, ...), not {attack!r}"
        )
    x_train, y_train = np.asarray(train[0]), np.asarray(train[1])
    x_can, y_can = np.asarray(canaries[0]), np.asarray(canaries[1])
    m = len(y_can)
    if m < 20:
        raise InputError(f"one-run auditing needs at least 20 canaries, got {m}")
    included = np.random.default_rng(seed).random(m) < 0.5
    classes = np.unique(np.concatenate([y_train, y_can]))
    target = recipe.fit(
        np.concatenate([x_train, x_can[included]]),
        np.concatenate([y_train, y_can[included]]),
        seed,
        classes,
    )
    if not isinstance(target, ClassifierTarget):
        raise InputError("one-run auditing needs a classifier")
    outputs = target.outputs(RecordSet.from_arrays(x_can, y_can, name="canaries"))
    signals = compute_signals(outputs, label_indices(y_can, target.classes))
    if scorer.signal not in signals:
        raise InputError(f"the model's {outputs.kind.value} do not give the {attack} signal")
    data = AttackInput(signals, np.zeros(m, dtype=np.int8), seed)
    scores = scorer.scores(data)
    eps, k, correct, made = one_run_audit_bound(scores, included, delta, confidence, guesses)
    return OneRunResult(
        eps,
        delta,
        confidence,
        k,
        correct,
        made,
        m,
        int(included.sum()),
        attack,
        getattr(target, "dp_epsilon", None),
    )
