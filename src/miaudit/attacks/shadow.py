"""The shadow-model attack of Shokri et al. (2017), "Membership Inference Attacks Against Machine
Learning Models", §V.

Reference ("shadow") models are trained like the target on parts of the pool; every (model,
record) pair is a labelled example — IN if the model trained on the record, OUT otherwise — of
what the model's output looks like. One attack classifier per class (§V-C) learns IN from OUT on
those examples and is then applied to the target's output on each record.

The output is described by its label-aware signals (true-class confidence, loss, logit-scaled
confidence, margin, entropy, modified entropy) rather than the raw probability vector: the same
information the per-class attack models of the paper use, but of a fixed width whatever the
number of classes, and exact from logits. Classes with too few examples for a classifier of
their own use one classifier trained on the examples of all classes (the report says how many).
"""

from __future__ import annotations

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier

from miaudit.attacks.interface import Attack, AttackInput
from miaudit.attacks.params import Param
from miaudit.attacks.requirements import Requirements
from miaudit.attacks.threads import fit_threads
from miaudit.signals import SCORE_SIGNALS

#: ``min_class_examples`` that gives every class to the one shared classifier (and its
#: largest value: any larger one means the same).
POOLED = 10**9
#: The most (model, record) examples one attack classifier trains on: 5,000× the default,
#: hours of gradient boosting; a larger value is a typo.
MAX_EXAMPLES = 10**8


class ShadowAttack(Attack):
    """Per-class attack classifiers trained on shadow (reference) models' IN/OUT outputs."""

    name = "shadow"
    description = (
        "per-class attack classifiers trained on shadow models' IN/OUT outputs (Shokri et al. 2017)"
    )
    trains_on_reference_rows = True
    parameters = (
        Param(
            "min_class_examples",
            int,
            100,
            "IN and OUT examples a class needs for an attack classifier of its own "
            f"({POOLED:,}: one classifier shared by all classes)",
            low=1,
            high=POOLED,
            tunable=(100, POOLED),  # per-class classifiers (Shokri et al.) or one for all
        ),
        Param(
            "max_examples",
            int,
            20_000,
            "(model, record) examples per classifier",
            low=2,
            high=MAX_EXAMPLES,
        ),
    )
    min_class_examples: int
    max_examples: int
    POOLED = POOLED
    tuning_replays = 2  # each replay fits the attack classifiers again

    def __init__(self, min_class_examples: int = 100, max_examples: int = 20_000) -> None:
        self.requires = Requirements(signals=SCORE_SIGNALS, reference_models=1)
        self._defaults(min_class_examples=min_class_examples, max_examples=max_examples)

    def _own_classifier(self, trained_in: np.ndarray, rows: np.ndarray) -> bool:
        inside = int(trained_in[:, rows].sum())
        return min(inside, trained_in.shape[0] * len(rows) - inside) >= self.min_class_examples

    def _class_groups(self, data: AttackInput) -> tuple[list[np.ndarray], list[np.ndarray]]:
        assert data.label_index is not None and data.reference_in is not None
        order = np.argsort(data.label_index, kind="stable")
        bounds = np.flatnonzero(np.diff(data.label_index[order])) + 1
        groups = np.split(order, bounds)
        own = [g for g in groups if self._own_classifier(data.reference_in, g)]
        pooled = [g for g in groups if not self._own_classifier(data.reference_in, g)]
        return own, pooled

    def variant(self, data: AttackInput) -> str:
        assert data.reference_in is not None
        own, pooled = self._class_groups(data)
        m = data.reference_in.shape[0]
        models = f"{m} shadow model{'s' if m > 1 else ''}"
        small = f"< {self.min_class_examples} IN or OUT examples"
        if not own and self.min_class_examples >= self.POOLED:
            return f"{models}: one attack classifier for all {len(pooled)} classes"
        if not own:
            return (
                f"{models}: one attack classifier for all {len(pooled)} classes (each has {small})"
            )
        text = f"{models}: an attack classifier for each of {len(own)} classes"
        if pooled:
            text += (
                f"; {len(pooled)} class{'es' if len(pooled) > 1 else ''} with {small} "
                "use one classifier trained on all classes"
            )
        return text

    def _fit(
        self,
        features: np.ndarray,
        trained_in: np.ndarray,
        rows: np.ndarray,
        rng: np.random.Generator,
        seed: int,
    ) -> HistGradientBoostingClassifier:
        """A classifier on the (model, record) examples of ``rows``, subsampled if many."""
        n_models = trained_in.shape[0]
        flat = rng.permutation(n_models * len(rows))[: self.max_examples]
        model_of, record_of = np.divmod(flat, len(rows))
        x = features[model_of, rows[record_of]]
        y = trained_in[model_of, rows[record_of]]
        # Small, regularised trees and a fixed number of rounds: early stopping on a few hundred
        # examples can stop at round 0 and return the prior for every record.
        classifier = HistGradientBoostingClassifier(
            max_iter=100,
            learning_rate=0.05,
            max_leaf_nodes=15,
            min_samples_leaf=40,
            early_stopping=False,
            random_state=seed,
        )
        return classifier.fit(x, y)

    @fit_threads
    def scores(self, data: AttackInput) -> np.ndarray:
        assert data.reference is not None and data.reference_in is not None
        names = [s for s in SCORE_SIGNALS if s != "confidence"]  # loss carries it, exactly
        reference = np.stack([data.reference[s] for s in names], axis=-1)  # (M, N, S)
        target = np.column_stack([data.signals[s] for s in names])  # (N, S)
        rng = np.random.default_rng(data.seed)
        own, pooled = self._class_groups(data)
        out = np.empty(len(target), dtype=np.float64)
        for rows in own:
            classifier = self._fit(reference, data.reference_in, rows, rng, data.seed)
            out[rows] = classifier.predict_proba(target[rows])[:, 1]
        if pooled:  # one classifier on the examples of every class, for the small classes
            everything = np.arange(len(target))
            classifier = self._fit(reference, data.reference_in, everything, rng, data.seed)
            rows = np.concatenate(pooled)
            out[rows] = classifier.predict_proba(target[rows])[:, 1]
        return out
