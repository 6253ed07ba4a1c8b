"""``training-overlap``: over a key's *distinct* inputs, hits on the training index, tested over
the key's whole history.

A key's ``k`` hits among ``n`` distinct records (a near copy of a training record counts as
it, within the index's proximity radius; another look at a training neighbourhood the key hit
already counts neither way) are weighed by a Bayes factor:

    Λ(k, n) = ∫ p^k (1-p)^(n-k) dp  /  ∫ p^k (1-p)^(n-k) Beta(p; α, β) dp

The alternative is unknown (any training share: a uniform mixture over it, Robbins 1970's
mixture likelihood ratio); the null is benign traffic, whose hit rate varies from key to key:
a Beta of mean ``baseline_rate`` and concentration ``α + β = baseline_concentration``, both
fitted to the benign baseline (beta-binomial maximum likelihood over its keys). Under that null,
Λ is a nonnegative martingale, so a benign key's chance of ever reaching ``1/rate`` is at most
``rate`` (Ville 1939): the score, ``max(0, log Λ)``, reads as nats of evidence, as the CUSUMs
do. Unlike the CUSUM it replaced (tuned to a 25% training share, reset at zero), it never
forgets: a key at a 3–5% training share is caught once it has queried enough distinct records
(``bench/monitor.py`` publishes the queries it takes).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from miaudit.monitor.detectors.base import Detector, KeyView, Query, register

#: Concentrations tried when fitting the benign Beta (log-spaced; more is a tighter null).
_CONCENTRATIONS = np.geomspace(0.5, 1e5, 60)


def betaln(a: float, b: float) -> float:
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)


def log_bayes_factor(hits: int, trials: int, rate: float, concentration: float) -> float:
    """``log Λ(k, n)``: a uniform mixture over the training share against the benign Beta."""
    alpha, beta = rate * concentration, (1 - rate) * concentration
    misses = trials - hits
    mixture = betaln(hits + 1, misses + 1)
    null = betaln(hits + alpha, misses + beta) - betaln(alpha, beta)
    return mixture - null


def fit_concentration(hits: np.ndarray, trials: np.ndarray, rate: float) -> float:
    """The Beta concentration (mean ``rate``) under which the keys' ``(hits, trials)`` are
    likeliest (beta-binomial; the binomial coefficients do not depend on it)."""
    hits, trials = np.asarray(hits, dtype=np.float64), np.asarray(trials, dtype=np.float64)
    from scipy.special import betaln as vbetaln

    best, best_ll = float(_CONCENTRATIONS[-1]), -math.inf
    for kappa in _CONCENTRATIONS:
        a, b = rate * kappa, (1 - rate) * kappa
        ll = float(np.sum(vbetaln(hits + a, trials - hits + b) - vbetaln(a, b)))
        if ll > best_ll + 1e-9:
            best, best_ll = float(kappa), ll
    return best


@register
class TrainingOverlap(Detector):
    name = "training-overlap"
    rule_id = "MIA201"
    description = "distinct queries hit training records more often than benign keys do"
    default_threshold = 12.0
    priority = 1
    cusum = True
    needs_index = True

    @dataclass
    class State:
        #: Distinct records of the key found in the training index (new neighbourhoods).
        hits: int = 0
        #: Distinct records weighed (hits and misses; repeats of a neighbourhood left out).
        trials: int = 0

    def update(self, state: State, query: Query, score: float) -> float:
        if not query.new or query.hit is None or query.repeat:
            return score
        state.hits += query.hit
        state.trials += 1
        s = self.settings
        found = log_bayes_factor(
            state.hits, state.trials, s.baseline_rate, s.baseline_concentration
        )
        return max(0.0, found)

    @classmethod
    def state_from_dict(cls, data: Any) -> Any:
        """A state saved before the mixture test has no ``trials``: its key's distinct records
        are taken for them (they were what the CUSUM weighed)."""
        hits = int(data.get("hits", 0))
        trials = int(data.get("trials", data.get("distinct", hits)))
        return cls.State(hits=hits, trials=max(trials, hits))

    def evidence(self, state: State, key: KeyView) -> dict[str, Any]:
        share = state.hits / state.trials if state.trials else 0.0
        return {
            "training_hits": state.hits,
            "training_share": round(share, 4),
            "weighed_records": state.trials,
        }

    def baseline_settings(self, keys: Sequence[KeyView]) -> dict[str, Any]:
        states = [key.state(self.name) for key in keys]
        hits = np.array([st.hits for st in states])
        trials = np.array([st.trials for st in states])
        # Laplace's rule: never 0 or 1
        rate = min((hits.sum() + 1) / (trials.sum() + 2), self.settings.member_rate / 2)
        used = trials > 0
        concentration = (
            fit_concentration(hits[used], trials[used], rate)
            if used.any()
            else self.settings.baseline_concentration
        )
        return {"baseline_rate": float(rate), "baseline_concentration": concentration}
