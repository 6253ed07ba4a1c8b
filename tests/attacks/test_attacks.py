"""Attacks: orientation, the registry, and cross-fitting that really keeps records out."""

from __future__ import annotations

import numpy as np
import pytest

from miaudit import metrics as m
from miaudit.attacks import REGISTRY, get_attacks
from miaudit.attacks.interface import AttackInput
from miaudit.errors import InputError
from miaudit.signals import SCORE_SIGNALS


def test_registry_names_are_the_contract() -> None:
    assert list(REGISTRY) == ["loss", "confidence", "entropy", "modified-entropy",
                              "logit-confidence", "margin", "gap", "classifier",
                              "lira-offline", "lira-online", "rmia-offline", "rmia-online"]
    without_reference = [a.name for a in get_attacks(None)]
    assert without_reference == list(REGISTRY)[:8]
    assert len(get_attacks(None, with_reference=True)) == len(REGISTRY)
    with pytest.raises(InputError, match="unknown attacks"):
        get_attacks(["loss", "lira"])
    with pytest.raises(InputError, match="repeated"):
        get_attacks(["loss", "loss"])


@pytest.mark.parametrize("name", ["loss", "confidence", "entropy", "modified-entropy",
                                  "logit-confidence", "margin"])
def test_threshold_attacks_score_confident_records_higher(name: str) -> None:
    # Two records: one predicted with p_y = 0.99, one with p_y = 0.6 (3 classes, rest spread).
    signals = {
        "confidence": np.array([0.99, 0.6]), "loss": -np.log([0.99, 0.6]),
        "entropy": np.array([0.06, 0.95]), "modified_entropy": np.array([0.05, 1.2]),
        "logit_confidence": np.log([0.99 / 0.01, 0.6 / 0.4]), "margin": np.array([5.3, 1.1]),
    }
    scores = REGISTRY[name].scores(AttackInput(signals, np.array([1, 0])))
    assert scores[0] > scores[1]


def test_classifier_is_cross_fitted_on_pure_noise() -> None:
    # Signals carry no membership information. A classifier scored on its own training
    # records would reach AUC ≈ 0.9 here (gradient boosting memorises noise); cross-fitted
    # scores must stay at chance. n = 4,000 per class: s.e. of the AUC ≈ 0.0065, so 0.03 is
    # more than 4 standard errors.
    rng = np.random.default_rng(0)
    n = 4000
    signals = {s: rng.normal(size=2 * n) for s in SCORE_SIGNALS}
    membership = np.r_[np.ones(n, np.int8), np.zeros(n, np.int8)]
    scores = REGISTRY["classifier"].scores(AttackInput(signals, membership, seed=0))
    assert abs(m.auc(scores[:n], scores[n:]) - 0.5) < 0.03


def test_classifier_finds_real_signal_and_scores_population() -> None:
    rng = np.random.default_rng(1)
    n = 2000
    loss = np.r_[rng.exponential(0.2, n), rng.exponential(1.0, n), rng.exponential(1.0, 500)]
    signals = {s: rng.normal(size=2 * n + 500) for s in SCORE_SIGNALS}
    signals["loss"] = loss
    membership = np.r_[np.ones(n, np.int8), np.zeros(n, np.int8), -np.ones(500, np.int8)]
    scores = REGISTRY["classifier"].scores(AttackInput(signals, membership, seed=0))
    assert np.all(np.isfinite(scores)) and scores.shape == (2 * n + 500,)
    # Theoretical AUC of Exp(0.2) vs Exp(1) members-lower-loss is 1/(1+0.2) ≈ 0.833.
    assert m.auc(scores[:n], scores[n:2 * n]) > 0.78
    # Population records are non-members: they must look like the audit non-members.
    assert abs(m.auc(scores[2 * n:], scores[n:2 * n]) - 0.5) < 0.06
