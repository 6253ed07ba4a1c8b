"""One-run auditing (Steinke, Nasr & Jagielski 2023): sound on a Gaussian mechanism whose ε is
known exactly, silent where there is no signal, and non-vacuous on a model that memorises."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import optimize, stats
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

import miaudit
from miaudit.errors import InputError
from miaudit.metrics import one_run_audit_bound, one_run_epsilon


def gdp_epsilon(mu: float, delta: float) -> float:
    """The exact ε at ``delta`` of μ-GDP (Dong, Roth & Su 2022, Corollary 2.13)."""

    def gap(eps: float) -> float:
        tail = stats.norm.cdf(-eps / mu + mu / 2) - np.exp(eps) * stats.norm.cdf(-eps / mu - mu / 2)
        return tail - delta

    return optimize.brentq(gap, 0.0, 100.0)


@pytest.mark.parametrize("mu", [1.0, 2.0])
def test_never_above_the_true_epsilon_of_a_gaussian_mechanism(mu: float) -> None:
    """200 runs of 1,000 canaries whose scores are N(μ·included, 1), a μ-GDP mechanism: the
    bound never exceeds the true ε (4.38 at μ = 1, 10.0 at μ = 2) and is far from vacuous."""
    rng = np.random.default_rng(int(mu * 10))
    truth = gdp_epsilon(mu, 1e-5)
    bounds = []
    for _ in range(200):
        included = rng.random(1000) < 0.5
        bounds.append(one_run_audit_bound(rng.normal(size=1000) + mu * included, included)[0])
    assert max(bounds) <= truth, (max(bounds), truth)
    # observed medians 1.5 (μ = 1) and 3.1 (μ = 2): one run sees a good part of the truth
    assert np.median(bounds) > 0.25 * truth


def test_no_signal_no_bound() -> None:
    """Scores independent of inclusion (a 0-DP mechanism): a positive bound is a false claim,
    allowed at most 5% of the time; 200 trials give at most 10 by chance (binomial 95%: 15)."""
    rng = np.random.default_rng(7)
    positive = sum(
        one_run_audit_bound(rng.normal(size=1000), rng.random(1000) < 0.5)[0] > 0
        for _ in range(200)
    )
    assert positive <= 15, positive


def test_a_memorising_model_is_caught_in_one_run() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3000, 10))
    y = (x[:, 0] + x[:, 1] > 0).astype(int)
    flip = rng.random(3000) < 0.3
    y[flip] = 1 - y[flip]
    model = MLPClassifier((128,), alpha=0.0, max_iter=800, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        found = miaudit.one_run_audit(model, (x[:1000], y[:1000]), (x[1000:], y[1000:]))
    # observed ε ≥ 1.08 (164 of 200 guesses right); a 0-DP mechanism would rarely exceed 0
    assert found.epsilon > 0.5, found
    assert found.canaries == 2000 and 900 < found.included < 1100  # each with probability ½
    assert found.to_dict()["epsilon_lower_bound"] == found.epsilon


def test_bad_input() -> None:
    x, y = np.zeros((30, 2)), np.arange(30) % 2
    with pytest.raises(InputError, match="threshold attack"):
        miaudit.one_run_audit(MLPClassifier(), (x, y), (x, y), attack="classifier")
    with pytest.raises(InputError, match="at least 20 canaries"):
        miaudit.one_run_audit(MLPClassifier(), (x, y), (x[:5], y[:5]))
    with pytest.raises(ValueError, match="0 ≤ v ≤ r ≤ m"):
        one_run_epsilon(10, 20, 5, 1e-5, 0.05)
