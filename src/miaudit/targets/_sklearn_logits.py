"""Exact float64 logits for scikit-learn models whose ``predict_proba`` saturates.

An over-fitted model's most exposed records are the ones predicted with p = 1 − 1e-20, and
``predict_proba`` rounds those to exactly 1.0, tying them with ordinary records. Where the
logits can be computed exactly — an ``MLPClassifier`` (forward pass from the fitted weights
without the output activation) or any estimator with a ``decision_function`` that softmax maps
onto ``predict_proba`` (logistic regression) — the target uses them instead. The mapping is
verified on the audited records before it is trusted (:func:`verified`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.special import softmax

LogitFunction = Callable[[Any], np.ndarray]
#: softmax(logits) must reproduce predict_proba within this absolute tolerance.
AGREEMENT = 1e-6


def _split_pipeline(estimator: Any) -> tuple[Any, Any]:
    from sklearn.pipeline import Pipeline

    if isinstance(estimator, Pipeline) and len(estimator.steps) > 1:
        return estimator[:-1], estimator[-1]
    return None, estimator


def _mlp_logits(prefix: Any, mlp: Any) -> LogitFunction | None:
    binary = mlp.out_activation_ == "logistic" and mlp.n_outputs_ == 1
    if mlp.out_activation_ != "softmax" and not binary:
        return None  # multi-label networks have no softmax logits
    from sklearn.neural_network._base import ACTIVATIONS

    hidden = ACTIVATIONS[mlp.activation]
    weights = [np.asarray(w, dtype=np.float64) for w in mlp.coefs_]
    biases = [np.asarray(b, dtype=np.float64) for b in mlp.intercepts_]

    def logits(features: Any) -> np.ndarray:
        x = prefix.transform(features) if prefix is not None else features
        activation = np.asarray(x, dtype=np.float64)
        for i, (w, b) in enumerate(zip(weights, biases, strict=True)):
            activation = activation @ w + b
            if i < len(weights) - 1:
                hidden(activation)
        if binary:  # one logistic unit: the logit of class 1 against class 0
            return np.column_stack([np.zeros(len(activation)), activation[:, 0]])
        return activation

    return logits


def logit_function(estimator: Any) -> LogitFunction | None:
    """A candidate exact-logit function for ``estimator``, or ``None`` if there is none."""
    from sklearn.neural_network import MLPClassifier

    prefix, final = _split_pipeline(estimator)
    if isinstance(final, MLPClassifier):
        return _mlp_logits(prefix, final)
    if hasattr(estimator, "decision_function"):

        def decision(features: Any) -> np.ndarray:
            scores = np.asarray(estimator.decision_function(features), dtype=np.float64)
            if scores.ndim == 1:
                return np.column_stack([np.zeros_like(scores), scores])
            return scores

        return decision
    return None


def verified(function: LogitFunction, estimator: Any, features: Any) -> str | None:
    """``None`` if softmax(function(x)) equals predict_proba(x) on ``features``; else why not."""
    try:
        logits = function(features)
        probabilities = np.asarray(estimator.predict_proba(features), dtype=np.float64)
    except Exception as exc:  # any failure means: do not trust these logits
        return f"computing logits failed ({type(exc).__name__})"
    if logits.shape != probabilities.shape or not np.all(np.isfinite(logits)):
        return "logits do not match the probabilities' shape"
    gap = float(np.max(np.abs(softmax(logits, axis=1) - probabilities)))
    if gap > AGREEMENT:
        return f"softmax of the decision function differs from predict_proba by {gap:.2g}"
    return None
