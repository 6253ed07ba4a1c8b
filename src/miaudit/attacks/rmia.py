"""RMIA: Zarifzadeh et al. (2024), "Low-Cost High-Power Membership Inference Attacks", §3.

LR(x, z) = [Pr(x|θ) / Pr(x)] / [Pr(z|θ) / Pr(z)] with Pr(·|θ) the target's probability of the
true label (softmax at temperature T) and Pr(·) its average over reference models (online: all
of them; offline: OUT models, linearly corrected with ``a``: Pr(x) = ½((1+a)·Pr_out(x) + (1−a)),
eq. 11). The score of x is the share of population records z with LR(x, z) ≥ γ (eq. 4).

Everything is computed on the log scale from the exact loss −log Pr(x|θ): probabilities of
confident models round to 1.0 and would tie the records that leak most. The pairwise test is
done by sorting the population's log-ratios once and ``searchsorted`` — O((n + |Z|) log |Z|)
time and O(n + |Z|) memory, never the n × |Z| matrix.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.special import logsumexp

from miaudit.attacks.interface import POPULATION, Attack, AttackInput, uncovered
from miaudit.attacks.requirements import Requirements
from miaudit.errors import InputError
from miaudit.signals import tempered_loss_name


def _log_mean_exp(log_p: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per column, ``mean(p) − 1`` and ``log mean(p)`` over the rows where ``weights``.

    Near p = 1 the mean's log is ``log1p(mean(expm1(log p)))`` — exact for losses of 1e-20,
    which ``logsumexp`` rounds away; elsewhere it is ``logsumexp``, exact for tiny p."""
    count = weights.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        shortfall = np.where(weights, np.expm1(log_p), 0.0).sum(axis=0) / count
        lse = logsumexp(log_p, axis=0, b=weights) - np.log(count)
        return shortfall, np.where(shortfall > -0.5, np.log1p(shortfall), lse)


class RmiaAttack(Attack):
    """RMIA, online or offline; ``a`` (offline), ``gamma`` and ``temperature`` are settable."""

    def __init__(
        self, online: bool, a: float = 0.3, gamma: float = 1.0, temperature: float = 1.0
    ) -> None:
        if not 0.0 <= a <= 1.0:
            raise InputError(f"rmia: a must be in [0, 1], got {a}")
        if not (math.isfinite(gamma) and gamma > 0):
            raise InputError(f"rmia: gamma must be a positive number, got {gamma}")
        if not (math.isfinite(temperature) and temperature > 0):
            raise InputError(f"rmia: temperature must be a positive number, got {temperature}")
        self.online = online
        self.a, self.gamma, self.temperature = float(a), float(gamma), float(temperature)
        self.temperatures = (self.temperature,)
        self.name = "rmia-online" if online else "rmia-offline"
        self.description = (
            "relative likelihood ratio against population records, IN and OUT reference models "
            "(Zarifzadeh et al. 2024)"
            if online
            else "relative likelihood ratio, OUT reference models with linear correction "
            "(Zarifzadeh et al. 2024, offline)"
        )
        self.requires = Requirements(
            signals=(tempered_loss_name(self.temperature),),
            reference_models=2 if online else 1,
            population=True,
        )

    def configure(self, **params: Any) -> RmiaAttack:
        allowed = {"gamma", "temperature"} | (set() if self.online else {"a"})
        unknown = sorted(set(params) - allowed)
        if unknown:
            raise InputError(
                f"attack {self.name} has no parameter {unknown}; it takes "
                f"{', '.join(sorted(allowed))}"
            )
        current = {"a": self.a, "gamma": self.gamma, "temperature": self.temperature}
        try:
            values = {k: float(v) for k, v in {**current, **params}.items()}
        except (TypeError, ValueError) as exc:
            raise InputError(f"attack {self.name}: parameters must be numbers ({exc})") from exc
        return RmiaAttack(self.online, **values)

    def unusable(self, data: AttackInput) -> str | None:
        # Online, each audited record needs an IN model: with none, the "online" marginal is
        # an average of OUT models only — offline RMIA with a = 1 under another name.
        # (Population records are only compared against; they need no IN model.)
        return uncovered(data, "IN", audited_only=True) if self.online else uncovered(data, "OUT")

    def variant(self, data: AttackInput) -> str:
        assert data.reference_in is not None
        m = data.reference_in.shape[0]
        mode = "online" if self.online else f"offline, a = {self.a:g}"
        return f"{m} reference models: {mode}, γ = {self.gamma:g}, T = {self.temperature:g}"

    def log_marginal(self, data: AttackInput) -> np.ndarray:
        """log Pr(x): the reference models' probability of each record's label, averaged."""
        assert data.reference is not None and data.reference_in is not None
        log_p = -data.reference[tempered_loss_name(self.temperature)]
        weights = np.ones_like(data.reference_in) if self.online else ~data.reference_in
        shortfall, log_mean = _log_mean_exp(log_p, weights)
        if self.online:
            return log_mean
        # ½((1+a)·m + (1−a)) = 1 + ½(1+a)(m − 1): log1p keeps the part that saturates.
        c = 0.5 * (1.0 + self.a)
        with np.errstate(divide="ignore"):
            far = np.logaddexp(math.log(c) + log_mean, np.log(1.0 - c))
        return np.where(shortfall > -0.5, np.log1p(c * shortfall), far)

    def scores(self, data: AttackInput) -> np.ndarray:
        log_ratio = -data.signals[tempered_loss_name(self.temperature)] - self.log_marginal(data)
        population = data.membership == POPULATION
        z_sorted = np.sort(log_ratio[population])
        n_z = len(z_sorted)
        beaten = np.searchsorted(z_sorted, log_ratio - math.log(self.gamma), "right")
        scores = beaten.astype(np.float64) / n_z
        if n_z > 1:  # a population record is not compared with itself
            self_count = 1.0 if self.gamma <= 1.0 else 0.0
            scores[population] = (beaten[population] - self_count) / (n_z - 1)
        return scores
