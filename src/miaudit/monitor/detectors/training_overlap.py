"""``training-overlap``: over a key's *distinct* inputs, hits on the training index, tested over
the key's whole history.

A key's ``k`` hits among ``n`` distinct records (a near copy of a training record counts as
it, within the index's proximity radius; another look at a training neighbourhood the key hit
already counts neither way) are weighed against ``p*``, the highest training share the benign
baseline shows for an ordinary key (``overlap_rate``: the 90th percentile of its keys' shares,
never below their pooled rate, estimated without the binomial noise of
their counts: :func:`benign_share`), by a one-sided mixture likelihood ratio (Robbins 1970):

    Λ(k, n) = [∫_{p*}^1 p^k (1-p)^(n-k) dp / (1 - p*)]  /  p*^k (1-p*)^(n-k)

the alternative being any share above ``p*``, uniformly. For a key whose own share is at most
``p*`` — any such key, not one drawn at random — Λ is a nonnegative supermartingale (each
factor ``(p/p*)^x ((1-p)/(1-p*))^(1-x)`` has expectation at most 1 when the key hits with
probability at most ``p* < p``), so such a key ever reaches ``Λ ≥ 1/ε`` with probability at most
``ε`` (Ville 1939): the score, ``max(0, log Λ)``, reads as nats of evidence, as the CUSUMs do.
A key above ``p*`` gathers evidence without bound, about ``n·KL(p‖p*)`` nats after ``n``
distinct records. The rate actually promised to benign keys comes from the conformal thresholds
of :mod:`miaudit.monitor.calibrate`, for keys like the baseline's; this bound is what makes the
floor ``log(1/rate)`` safe for the keys at or below ``p*``.

It replaced a CUSUM tuned to a 25% training share that reset at zero (any key below about 8%
drifted down for ever) and, briefly, a Bayes factor against a Beta fitted to the baseline's
shares, whose evidence was capped by the fitted spread: one key querying training records while
the baseline was recorded could widen the Beta until no share below 30% was ever caught. A
quantile is robust to that: it takes a tenth of the baseline's keys to move it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from miaudit.monitor.detectors.base import Detector, KeyView, Query, register

#: The baseline keys' share quantile taken for ``p*``, and the distinct records a key needs to
#: take part (fewer make a share too coarse to rank).
QUANTILE, MIN_TRIALS = 0.9, 30


def log_bayes_factor(hits: int, trials: int, rate: float) -> float:
    """``log Λ(k, n)``: a uniform mixture over shares above ``rate`` against ``rate`` itself."""
    from scipy.special import betainc, betaln

    misses = trials - hits
    tail = float(betainc(hits + 1, misses + 1, rate))  # the mass below rate, regularised
    if tail >= 1.0:  # all the likelihood lies below rate: no evidence at all
        return -math.inf
    upper = betaln(hits + 1, misses + 1) + math.log1p(-tail) - math.log1p(-rate)
    return float(upper - hits * math.log(rate) - misses * math.log1p(-rate))


def evidence(hits: int, trials: int, hit: bool, score: float, rate: float) -> float:
    """The score after a weighed record (``hit``: a training record), with ``hits`` of
    ``trials`` counted in: ``max(0, log Λ)``; a miss never raises it from 0."""
    if not hit and score == 0.0:
        return 0.0
    return max(0.0, log_bayes_factor(hits, trials, rate))


def benign_share(hits: np.ndarray, trials: np.ndarray, cap: float) -> float:
    """``p*`` from the baseline's keys: the ``QUANTILE`` of their *true* training shares,
    never below the pooled rate (Laplace's rule), at most ``cap``.

    A key's observed share is its true share plus binomial noise, which at tens of records is
    as wide as the shares themselves: the quantile of observed shares (what this was before)
    sat at 11% on a baseline whose keys' true shares were 5-8%, so a campaign at 10% was never
    tested against anything below it. The true shares' distribution is estimated by its
    nonparametric maximum likelihood (Kiefer and Wolfowitz 1956) on a grid, by EM, from the
    keys with at least ``MIN_TRIALS`` distinct records; its quantile is as robust as the
    observed one: a key adds at most its own weight, ``1/keys``, so it takes a tenth of the
    baseline's keys to move the 90th percentile."""
    hits, trials = np.asarray(hits, dtype=np.float64), np.asarray(trials, dtype=np.float64)
    pooled = (hits.sum() + 1) / (trials.sum() + 2)
    ranked = trials >= MIN_TRIALS
    found = pooled
    if ranked.sum() >= 10:
        found = max(pooled, deconvolved_quantile(hits[ranked], trials[ranked], QUANTILE))
    return float(min(found, cap))


def deconvolved_quantile(
    hits: np.ndarray, trials: np.ndarray, q: float, grid: int = 400, rounds: int = 300
) -> float:
    """The ``q`` quantile of the distribution of true shares behind ``hits`` of ``trials``
    (binomial), by its nonparametric maximum-likelihood estimate on ``grid + 1`` points."""
    from scipy.stats import binom

    points = np.linspace(0.0, 1.0, grid + 1)
    likelihood = binom.pmf(hits[:, None], trials[:, None], points[None, :])
    weights = np.full(len(points), 1.0 / len(points))
    for _ in range(rounds):
        joint = likelihood * weights
        total = joint.sum(axis=1, keepdims=True)
        joint /= np.where(total > 0, total, 1.0)
        weights = joint.mean(axis=0)
    cumulative = np.cumsum(weights)
    return float(points[min(int(np.searchsorted(cumulative, q - 1e-12)), grid)])


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
        return evidence(state.hits, state.trials, query.hit, score, self.settings.overlap_rate)

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
            "benign_share_tested": round(self.settings.overlap_rate, 4),
        }

    def baseline_settings(self, keys: Sequence[KeyView]) -> dict[str, Any]:
        states = [key.state(self.name) for key in keys]
        hits = np.array([st.hits for st in states])
        trials = np.array([st.trials for st in states])
        cap = self.settings.member_rate / 2
        rate = min((hits.sum() + 1) / (trials.sum() + 2), cap)  # Laplace's rule: never 0 or 1
        return {"baseline_rate": float(rate), "overlap_rate": benign_share(hits, trials, cap)}
