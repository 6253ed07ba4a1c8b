"""The over-fitted target the reference-model tests share."""

from __future__ import annotations

import warnings

from sklearn.datasets import make_classification
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

from miaudit import SklearnTarget

METRIC_ATTACKS = [
    "loss",
    "confidence",
    "entropy",
    "modified-entropy",
    "logit-confidence",
    "margin",
    "gap",
]


def overfit_task(seed: int) -> tuple[SklearnTarget, tuple, tuple, tuple]:
    x, y = make_classification(
        n_samples=2000, n_features=20, n_informative=5, n_classes=3, flip_y=0.2, random_state=seed
    )
    x_in, x_rest, y_in, y_rest = train_test_split(
        x, y, train_size=500, stratify=y, random_state=seed
    )
    x_out, x_pop, y_out, y_pop = train_test_split(
        x_rest, y_rest, train_size=500, stratify=y_rest, random_state=seed
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = MLPClassifier((64,), alpha=0.0, max_iter=300, random_state=seed).fit(x_in, y_in)
    return SklearnTarget(model), (x_in, y_in), (x_out, y_out), (x_pop, y_pop)
