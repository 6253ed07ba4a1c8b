"""A trained attack classifier on the vector of signals, cross-fitted.

This is the approach of TF Privacy's ``trained_attack`` and IBM ART's black-box attack, with the
leak they leave open closed: records are split into ``folds``; each fold is scored by a
classifier trained on the other folds only, so no record is scored by a model that saw it.
Population records (never labelled for the attack) are each scored by one fold's model picked
at random, so they are exchangeable with the non-members the metrics compare them to.
"""

from __future__ import annotations

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import StratifiedKFold

from miaudit.attacks.interface import POPULATION, Attack, AttackInput
from miaudit.attacks.requirements import Requirements
from miaudit.attacks.threads import fit_threads
from miaudit.signals import SCORE_SIGNALS


class ClassifierAttack(Attack):
    """Gradient-boosted trees on all score signals, cross-fitted over ``folds``."""

    name = "classifier"
    description = (
        "gradient-boosted attack classifier on all signals, cross-fitted (TF Privacy, ART)"
    )

    def __init__(self, folds: int = 5, max_train: int = 100_000) -> None:
        self.folds = folds
        self.max_train = max_train
        self.requires = Requirements(signals=SCORE_SIGNALS)

    @fit_threads
    def scores(self, data: AttackInput) -> np.ndarray:
        features = np.column_stack([data.signals[s] for s in self.requires.signals])
        membership = data.membership
        labelled = np.nonzero(membership != POPULATION)[0]
        rng = np.random.default_rng(data.seed)
        out = np.empty(len(membership), dtype=np.float64)
        population = np.nonzero(membership == POPULATION)[0]
        population_fold = rng.integers(0, self.folds, size=len(population))
        splitter = StratifiedKFold(self.folds, shuffle=True, random_state=data.seed)
        for fold, (train, test) in enumerate(splitter.split(labelled, membership[labelled])):
            train = labelled[train]
            if len(train) > self.max_train:
                train = rng.choice(train, self.max_train, replace=False)
            model = HistGradientBoostingClassifier(max_iter=100, random_state=data.seed)
            model.fit(features[train], membership[train])
            scored = np.r_[labelled[test], population[population_fold == fold]]
            out[scored] = model.predict_proba(features[scored])[:, 1]
        return out
