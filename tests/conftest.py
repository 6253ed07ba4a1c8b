"""Shared fixtures: small real models trained inside the tests, nothing downloaded."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

pytest_plugins = ["pytester"]


@pytest.fixture(scope="session")
def breast_cancer_split() -> tuple[np.ndarray, ...]:
    x, y = load_breast_cancer(return_X_y=True)
    return tuple(train_test_split(x, y, train_size=0.5, stratify=y, random_state=0))


@pytest.fixture(scope="session")
def overfit_model() -> tuple[MLPClassifier, tuple[np.ndarray, ...]]:
    """A 3-class MLP that memorises 300 noisy training records (strong membership signal)."""
    x, y = make_classification(
        n_samples=600, n_features=20, n_informative=5, n_classes=3, flip_y=0.2, random_state=0
    )
    x_in, x_out, y_in, y_out = train_test_split(x, y, train_size=0.5, stratify=y, random_state=0)
    model = MLPClassifier((128,), alpha=0.0, max_iter=800, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(x_in, y_in)
    return model, (x_in, x_out, y_in, y_out)
