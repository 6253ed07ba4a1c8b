"""Recipes: how to train a model like the target on other data.

A scikit-learn estimator clones itself (``sklearn.base.clone``), exactly because estimators are
reconstructible from their constructor parameters. A recipe has a stable ``fingerprint`` so that
the cache can tell two recipes apart.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from typing import Any

import numpy as np

from miaudit.errors import InputError
from miaudit.targets.interface import Target


class Recipe(ABC):
    """Train one reference model and wrap it as a :class:`Target`."""

    @abstractmethod
    def fit(self, features: Any, labels: np.ndarray, seed: int) -> Target:
        """A model trained on these records with this seed, ready to query."""

    @abstractmethod
    def fingerprint(self) -> str:
        """A stable text that changes whenever the recipe would train a different model."""


class SklearnRecipe(Recipe):
    """Clone an estimator (unfitted) and fit it; ``random_state`` parameters get the seed."""

    def __init__(self, estimator: Any) -> None:
        from sklearn.base import clone

        try:
            self.template = clone(estimator)
        except Exception as exc:  # not an estimator that follows the sklearn contract
            raise InputError(f"cannot clone {type(estimator).__name__} to train reference "
                             f"models: {exc}") from exc

    def fit(self, features: Any, labels: np.ndarray, seed: int) -> Target:
        import warnings

        from sklearn.base import clone
        from sklearn.exceptions import ConvergenceWarning

        from miaudit.targets.sklearn import SklearnTarget

        model = clone(self.template)
        seeds = {k: seed for k in model.get_params(deep=True)
                 if k == "random_state" or k.endswith("__random_state")}
        model.set_params(**seeds)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(features, labels)
        return SklearnTarget(model)

    def fingerprint(self) -> str:
        params = self.template.get_params(deep=True)
        text = type(self.template).__qualname__ + repr(sorted(
            (k, repr(v)) for k, v in params.items() if not hasattr(v, "get_params")))
        return hashlib.sha256(text.encode()).hexdigest()[:16]
