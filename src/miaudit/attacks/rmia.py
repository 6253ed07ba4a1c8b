"""RMIA: Zarifzadeh et al. (2024), "Low-Cost High-Power Membership Inference Attacks", §3.

LR(x, z) = [Pr(x|θ) / Pr(x)] / [Pr(z|θ) / Pr(z)] with Pr(·|θ) the target's probability of the
true label (softmax at temperature T) and Pr(·) its average over reference models (online: all
of them; offline: OUT models, linearly corrected with ``a``: Pr(x) = ½((1+a)·Pr_out(x) + (1−a)),
eq. 11). The score of x is the share of population records z with LR(x, z) ≥ γ (eq. 4), ties
broken by where LR(x) falls between two comparison records (so the score is strictly increasing
in Pr(x|θ) / Pr(x), and γ — a cut-off on that ratio — no longer changes the ranking of records:
the audit chooses thresholds by FPR, so only T and a are tuned).

Everything is computed on the log scale from the exact loss −log Pr(x|θ): probabilities of
confident models round to 1.0 and would tie the records that leak most. The pairwise test is
done by sorting the population's log-ratios once and ``searchsorted`` — O((n + |Z|) log |Z|)
time and O(n + |Z|) memory, never the n × |Z| matrix.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import logsumexp

from miaudit.attacks.interface import POPULATION, Attack, AttackInput, uncovered
from miaudit.attacks.params import Param
from miaudit.attacks.requirements import Requirements
from miaudit.signals import tempered_loss_name

#: Values tuning tries (attacks.tuning); the current value is always tried first.
TEMPERATURES = (1.0, 2.0, 4.0)
AS = (0.0, 0.25, 0.5, 0.75, 1.0)
#: The lowest softmax temperature. The tempered loss grows as 1/T (−log p / T): below about
#: 1e-306 even probabilities' log-likelihoods (≥ −745) overflow to ±inf and the losses turn NaN,
#: and logits of larger magnitude, or sums over thousands of reference models, overflow at
#: larger T. At T = 0.001 the softmax is already an argmax for practical purposes (the default
#: is 2, tuning tries 1 to 4), and losses are at most 1,000× the untempered ones.
MIN_TEMPERATURE = 1e-3
_TEMPERATURE = Param(
    "temperature",
    float,
    2.0,
    "softmax temperature of Pr(x|θ)",
    low=MIN_TEMPERATURE,
    tunable=TEMPERATURES,
)
_A = Param("a", float, 0.3, "offline linear correction of Pr(x) (eq. 11)", 0.0, 1.0, tunable=AS)
_GAMMA = Param("gamma", float, 1.0, "cut-off on the likelihood ratio", low=0.0, low_open=True)


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
    """RMIA, online or offline; ``a`` (offline), ``gamma`` and ``temperature`` are settable.

    The default softmax temperature is 2, not the paper's 1: on the purchase-like benchmark
    (bench/reference_models.py) the best fixed temperature was 2 at every number of reference
    models from 1 to 16 (T = 1: TPR at 0.1% FPR 0.10–0.15; T = 2: 0.43–0.61), LeakPro ships
    the same; with reference models to replay, tuning chooses T and ``a`` anyway."""

    a: float
    gamma: float
    temperature: float

    def __init__(
        self, online: bool, a: float = 0.3, gamma: float = 1.0, temperature: float = 2.0
    ) -> None:
        self.online = online
        self.needs_in_models = online
        # online, Pr(x) averages every model: no linear correction to set
        self.parameters = (_TEMPERATURE, _GAMMA) if online else (_TEMPERATURE, _A, _GAMMA)
        self.name = "rmia-online" if online else "rmia-offline"
        self.description = (
            "relative likelihood ratio against population records, IN and OUT reference models "
            "(Zarifzadeh et al. 2024)"
            if online
            else "relative likelihood ratio, OUT reference models with linear correction "
            "(Zarifzadeh et al. 2024, offline)"
        )
        self.a = _A.coerce(self.name, a)  # kept online too, where it is not read
        self._defaults(gamma=gamma, temperature=temperature, **({} if online else {"a": a}))

    TEMPERATURES = TEMPERATURES
    AS = AS

    @property
    def temperatures(self) -> tuple[float, ...]:  # type: ignore[override]
        return (self.temperature,)

    @property
    def requires(self) -> Requirements:  # type: ignore[override]
        return Requirements(
            signals=(tempered_loss_name(self.temperature),),
            reference_models=2 if self.online else 1,
            population=True,
        )

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
        order = np.argsort(log_ratio[population], kind="stable")
        z_sorted = log_ratio[population][order]
        skip = np.full(len(log_ratio), -1)  # a population record is not compared with itself
        position = np.empty(len(order), dtype=np.int64)
        position[order] = np.arange(len(order))
        skip[population] = position
        return _share_beaten(z_sorted, log_ratio - math.log(self.gamma), skip)


def _share_beaten(z_sorted: np.ndarray, shifted: np.ndarray, skip: np.ndarray) -> np.ndarray:
    """(comparisons beaten + where the record lies between the one it beats last and the one
    it beats next, in [0, 1)) / (comparisons + 1), skipping ``z_sorted[skip]`` (-1: none).

    The count alone is a step function: records on one step — above every comparison
    record, most often, where the leakiest records are — would tie exactly where the lowest
    FPRs are measured. With the position between steps the score is strictly increasing in
    the likelihood ratio; it differs from the share of comparisons beaten by less than one
    comparison's worth."""
    n_z = len(z_sorted)
    steps = np.searchsorted(z_sorted, shifted, "right")
    has = skip >= 0
    beaten = steps - (has & (skip < steps))
    low = steps - 1
    low = np.where(has & (low == skip), low - 1, low)
    high = np.where(has & (steps == skip), steps + 1, steps)
    below = z_sorted[np.clip(low, 0, max(n_z - 1, 0))] if n_z else np.zeros_like(shifted)
    above = z_sorted[np.clip(high, 0, max(n_z - 1, 0))] if n_z else np.zeros_like(shifted)
    has_low, has_high = low >= 0, high < n_z
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        inside = np.where(above > below, (shifted - below) / (above - below), 0.0)
        top = -np.expm1(-(shifted - below))  # past the largest comparison: 0 → 1
        bottom = np.exp(shifted - above)  # before the smallest: 0 → 1
    fraction = np.where(
        has_low & has_high, inside, np.where(has_low, top, np.where(has_high, bottom, 0.0))
    )
    fraction = np.clip(np.nan_to_num(fraction, nan=0.0), 0.0, np.nextafter(1.0, 0.0))
    comparisons = n_z - has
    return (beaten + fraction) / (comparisons + 1)
