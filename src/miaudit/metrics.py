"""Metrics: written once, used by every attack.

Statistical honesty is the point of this module:

* every rate carries an exact (Clopper–Pearson) interval;
* thresholds are chosen on a *calibration* split and the rates are reported on an *evaluation*
  split, so no number is measured on the data that chose it;
* TPR at a fixed FPR is ``null`` with a reason when the calibration non-members are too few to
  place a threshold at that FPR (fewer than ``1/FPR``);
* the ε lower bound is sound: it holds with probability at least ``confidence``
  (Jagielski et al. 2020, "Auditing Differentially Private Machine Learning", §4;
  Kairouz et al. 2015, Theorem 2.1 for the hypothesis-testing view of (ε, δ)-DP).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from math import ceil

import numpy as np
from scipy import stats
from sklearn.metrics import roc_auc_score, roc_curve

DEFAULT_FPRS = (0.001, 0.01, 0.1)
#: Candidate thresholds examined on the calibration split (quantiles of its scores).
MAX_CANDIDATES = 2048


@dataclass(frozen=True)
class Estimate:
    """A number with its interval, or ``value=None`` and the reason it cannot be given."""

    value: float | None
    ci: tuple[float, float] | None = None
    reason: str | None = None

    def to_dict(self) -> dict[str, object]:
        if self.value is None:
            return {"value": None, "reason": self.reason}
        out: dict[str, object] = {"value": self.value}
        if self.ci is not None:
            out["ci"] = [self.ci[0], self.ci[1]]
        if self.reason:
            out["note"] = self.reason
        return out


@dataclass(frozen=True)
class TprAtFpr:
    """TPR at a target FPR: ``tpr`` at the calibrated threshold, with an interval that covers
    the true ROC's TPR at exactly ``fpr``; ``achieved_fpr`` is that threshold's FPR measured on
    held-out non-members."""

    fpr: float
    tpr: Estimate
    threshold: float | None = None
    achieved_fpr: Estimate | None = None

    def to_dict(self) -> dict[str, object]:
        out = self.tpr.to_dict()
        if self.tpr.value is not None:
            out["threshold"] = self.threshold
            if self.achieved_fpr is not None:
                out["achieved_fpr"] = self.achieved_fpr.to_dict()
        return out


@dataclass(frozen=True)
class EpsilonBound:
    """A lower bound on ε at ``delta`` that holds with probability ≥ ``confidence``."""

    value: float
    delta: float
    confidence: float
    threshold: float | None
    fpr_upper: float | None
    fnr_upper: float | None

    def to_dict(self) -> dict[str, object]:
        return {
            "value": self.value,
            "delta": self.delta,
            "confidence": self.confidence,
            "threshold": self.threshold,
            "fpr_upper": self.fpr_upper,
            "fnr_upper": self.fnr_upper,
        }


# ---------------------------------------------------------------- binomial intervals
def clopper_pearson(
    k: np.ndarray | int, n: np.ndarray | int, confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Exact two-sided Clopper–Pearson interval for ``k`` successes in ``n`` trials."""
    alpha = 1.0 - confidence
    k = np.asarray(k, dtype=np.float64)
    n = np.asarray(n, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        lo = np.where(k > 0, stats.beta.ppf(alpha / 2, k, n - k + 1), 0.0)
        hi = np.where(k < n, stats.beta.ppf(1 - alpha / 2, k + 1, n - k), 1.0)
    return lo, hi


def binomial_upper(k: np.ndarray | int, n: np.ndarray | int, confidence: float) -> np.ndarray:
    """One-sided exact upper bound: P(true rate ≤ bound) ≥ ``confidence``."""
    k = np.asarray(k, dtype=np.float64)
    n = np.asarray(n, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(k < n, stats.beta.ppf(confidence, k + 1, n - k), 1.0)


def binomial_lower(k: np.ndarray | int, n: np.ndarray | int, confidence: float) -> np.ndarray:
    """One-sided exact lower bound: P(true rate ≥ bound) ≥ ``confidence``."""
    k = np.asarray(k, dtype=np.float64)
    n = np.asarray(n, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(k > 0, stats.beta.ppf(1 - confidence, k, n - k + 1), 0.0)


def rate(k: int, n: int, confidence: float = 0.95) -> Estimate:
    """A proportion with its Clopper–Pearson interval."""
    lo, hi = clopper_pearson(k, n, confidence)
    return Estimate(k / n, (float(lo), float(hi)))


# ---------------------------------------------------------------- ROC and AUC
def auc_with_ci(
    member_scores: np.ndarray, nonmember_scores: np.ndarray, confidence: float = 0.95
) -> Estimate:
    """AUC with DeLong's interval (DeLong et al. 1988), via placement values in O(n log n).

    The interval is built on the logit scale so that it stays inside [0, 1]. When the variance
    estimate is zero (perfect separation), DeLong says nothing; we fall back to a
    Clopper–Pearson interval with the smaller class's size as the sample size.
    """
    m, n = len(member_scores), len(nonmember_scores)
    nonmember_sorted = np.sort(nonmember_scores)
    below = np.searchsorted(nonmember_sorted, member_scores, "left")
    at_or_below = np.searchsorted(nonmember_sorted, member_scores, "right")
    v10 = (below + 0.5 * (at_or_below - below)) / n
    member_sorted = np.sort(member_scores)
    above = m - np.searchsorted(member_sorted, nonmember_scores, "right")
    at_or_above = m - np.searchsorted(member_sorted, nonmember_scores, "left")
    v01 = (above + 0.5 * (at_or_above - above)) / m
    auc = float(v10.mean())
    variance = (v10.var(ddof=1) / m if m > 1 else 0.0) + (v01.var(ddof=1) / n if n > 1 else 0.0)
    z = stats.norm.ppf(0.5 + confidence / 2)
    if variance <= 0 or auc in (0.0, 1.0):
        size = min(m, n)
        lo, hi = clopper_pearson(round(auc * size), size, confidence)
        return Estimate(
            auc, (float(lo), float(hi)), "perfect separation: interval from the smaller class size"
        )
    logit = np.log(auc / (1 - auc))
    half = z * np.sqrt(variance) / (auc * (1 - auc))
    lo, hi = 1 / (1 + np.exp(-(logit - half))), 1 / (1 + np.exp(-(logit + half)))
    return Estimate(auc, (float(lo), float(hi)))


def auc(member_scores: np.ndarray, nonmember_scores: np.ndarray) -> float:
    """Plain AUC via scikit-learn (used where no interval is needed)."""
    y = np.r_[np.ones(len(member_scores)), np.zeros(len(nonmember_scores))]
    return float(roc_auc_score(y, np.r_[member_scores, nonmember_scores]))


def roc_points(
    member_scores: np.ndarray, nonmember_scores: np.ndarray, max_points: int = 200
) -> tuple[np.ndarray, np.ndarray]:
    """The empirical ROC thinned to at most ~``max_points`` points, denser at low FPR."""
    y = np.r_[np.ones(len(member_scores)), np.zeros(len(nonmember_scores))]
    fpr, tpr, _ = roc_curve(y, np.r_[member_scores, nonmember_scores])
    if len(fpr) <= max_points:
        return fpr, tpr
    grid = np.unique(
        np.r_[0.0, np.logspace(np.log10(1.0 / len(nonmember_scores)), 0, max_points - 2), 1.0]
    )
    index = np.searchsorted(fpr, grid, "right") - 1
    return fpr[index], tpr[index]


# ---------------------------------------------------------------- TPR at a fixed FPR
def tpr_at_fpr(
    member_scores: np.ndarray,
    calibration_nonmembers: np.ndarray,
    evaluation_nonmembers: np.ndarray | None,
    fpr: float,
    confidence: float = 0.95,
    pooled: bool = True,
) -> TprAtFpr:
    """TPR at ``fpr`` with a distribution-free interval for the true ROC at exactly ``fpr``.

    The threshold is the ``k``-th largest calibration non-member score with
    ``k = floor(fpr · (n+1))``; a record is flagged if its score is strictly above it. The true
    FPR of the ``k``-th largest of ``n`` continuous scores is Beta(k, n−k+1), so a stricter
    threshold (FPR ≤ ``fpr`` w.p. ≥ 1−β/4) and a looser one (FPR ≥ ``fpr`` w.p. ≥ 1−β/4)
    bracket the ROC's operating point; one-sided Clopper–Pearson bounds (β/4 each) on the
    members' TPR at those two thresholds give the interval. By the union bound it covers the
    true TPR at ``fpr`` with probability ≥ ``confidence`` = 1−β. Members never choose a
    threshold, so all of them are used.

    ``pooled`` (the default): the bracketing thresholds are order statistics of every
    non-member score given — calibration and evaluation together — since the interval needs
    only scores drawn from the non-member distribution, independent of the members; twice the
    scores narrow the bracket (on a Gaussian oracle, μ = 2: median width 0.26 → 0.20 at 1% FPR,
    ``bench/tpr_intervals.py``). ``pooled=False`` brackets with the calibration scores alone
    (as before this option existed). The point estimate's threshold is always the calibration
    one, so the evaluation scores still check its achieved FPR.
    """
    n = len(calibration_nonmembers)
    needed = ceil(1.0 / fpr - 1e-9)
    if n < needed:
        return TprAtFpr(
            fpr,
            Estimate(
                None,
                reason=(
                    f"not resolvable: an FPR of {fpr:g} needs at least {needed:,} calibration "
                    f"non-members to place a threshold; this audit has {n:,}"
                ),
            ),
        )
    members = np.sort(member_scores)
    m = len(members)

    def flagged(threshold: float) -> int:
        return int(m - np.searchsorted(members, threshold, "right"))

    calibration = np.sort(calibration_nonmembers)[::-1]
    k_point = int(np.floor(fpr * (n + 1)))
    threshold = float(calibration[k_point - 1]) if k_point >= 1 else np.inf
    bracket = (
        np.r_[calibration_nonmembers, evaluation_nonmembers]
        if pooled and evaluation_nonmembers is not None
        else calibration_nonmembers
    )
    strict, loose = _bracket(np.sort(bracket)[::-1], fpr, (1.0 - confidence) / 4)
    lower = float(binomial_lower(flagged(strict), m, 1 - (1.0 - confidence) / 4))
    upper = (
        1.0
        if loose is None
        else float(binomial_upper(flagged(loose), m, 1 - (1.0 - confidence) / 4))
    )
    achieved = None
    if evaluation_nonmembers is not None and len(evaluation_nonmembers):
        achieved = rate(
            int(np.sum(evaluation_nonmembers > threshold)), len(evaluation_nonmembers), confidence
        )
    return TprAtFpr(fpr, Estimate(flagged(threshold) / m, (lower, upper)), threshold, achieved)


def _bracket(descending: np.ndarray, fpr: float, alpha: float) -> tuple[float, float | None]:
    """Two thresholds among ``descending`` non-member scores: one whose true FPR is ≤ ``fpr``
    and one whose true FPR is ≥ ``fpr``, each with probability ≥ 1−``alpha`` (``None``: no
    score is loose enough). The true FPR of the k-th largest of n is Beta(k, n−k+1), and
    P(Beta(k, n−k+1) ≤ fpr) = P(Binomial(n, fpr) ≥ k)."""
    n = len(descending)
    ks = np.arange(0, n + 1)
    prob_below = stats.binom.sf(ks - 1, n, fpr)
    strict = ks[prob_below >= 1 - alpha]
    k_strict = int(strict.max()) if len(strict) else 0
    loose = ks[prob_below <= alpha]
    k_loose = int(loose.min()) if len(loose) else None
    strict_threshold = float(descending[k_strict - 1]) if k_strict >= 1 else np.inf
    loose_threshold = None if k_loose is None else float(descending[k_loose - 1])
    return strict_threshold, loose_threshold


# ---------------------------------------------------------------- threshold choice
def _candidates(scores: np.ndarray) -> np.ndarray:
    unique = np.unique(scores)
    if len(unique) > MAX_CANDIDATES:
        unique = np.unique(np.quantile(unique, np.linspace(0, 1, MAX_CANDIDATES)))
    return unique


def _flag_counts(sorted_scores: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """How many scores are >= each threshold."""
    return len(sorted_scores) - np.searchsorted(sorted_scores, thresholds, "left")


def _epsilon(
    fp: np.ndarray, n_neg: int, fn: np.ndarray, n_pos: int, delta: float, confidence: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ε bound from upper bounds on FPR and FNR, each at ``1-(1-confidence)/2``.

    (ε, δ)-DP implies FPR + e^ε FNR ≥ 1−δ and FNR + e^ε FPR ≥ 1−δ for every test
    (Kairouz et al. 2015), so ε ≥ log((1−δ−FPR)/FNR) and ε ≥ log((1−δ−FNR)/FPR).
    """
    level = 1 - (1 - confidence) / 2
    fpr_hi = binomial_upper(fp, n_neg, level)
    fnr_hi = binomial_upper(fn, n_pos, level)
    with np.errstate(divide="ignore", invalid="ignore"):
        one = np.log(np.maximum(1 - delta - fpr_hi, 0) / fnr_hi)
        two = np.log(np.maximum(1 - delta - fnr_hi, 0) / fpr_hi)
    eps = np.nan_to_num(np.maximum(one, two), nan=0.0, neginf=0.0, posinf=0.0)
    return np.maximum(eps, 0.0), fpr_hi, fnr_hi


def epsilon_ceiling(
    n_members: int, n_nonmembers: int, delta: float = 1e-5, confidence: float = 0.95
) -> float:
    """The largest ε lower bound an evaluation split of this size can show: the bound at
    perfect separation (no false positive, no false negative). A claim above it cannot be
    refuted by an audit this size, however leaky the model."""
    if n_members < 1 or n_nonmembers < 1:
        return 0.0
    eps, _, _ = _epsilon(np.array([0]), n_nonmembers, np.array([0]), n_members, delta, confidence)
    return float(eps[0])


def epsilon_lower_bound(
    calibration: tuple[np.ndarray, np.ndarray],
    evaluation: tuple[np.ndarray, np.ndarray],
    delta: float = 1e-5,
    confidence: float = 0.95,
) -> EpsilonBound:
    """A sound empirical lower bound on ε at ``delta``: the threshold maximising the bound on
    the calibration split (members, non-members) is evaluated, with one-sided Clopper–Pearson
    bounds, on the evaluation split only. With probability ≥ ``confidence`` the true ε of the
    training procedure at ``delta`` is at least this value (for a random member/non-member
    assignment; Jagielski et al. 2020)."""
    cal_members, cal_nonmembers = np.sort(calibration[0]), np.sort(calibration[1])
    thresholds = _candidates(np.r_[cal_members, cal_nonmembers])
    tp = _flag_counts(cal_members, thresholds)
    fp = _flag_counts(cal_nonmembers, thresholds)
    eps, _, _ = _epsilon(
        fp, len(cal_nonmembers), len(cal_members) - tp, len(cal_members), delta, confidence
    )
    if not np.any(eps > 0):
        return EpsilonBound(0.0, delta, confidence, None, None, None)
    threshold = float(thresholds[int(np.argmax(eps))])
    members, nonmembers = evaluation
    fp_e = int(np.sum(nonmembers >= threshold))
    fn_e = int(np.sum(members < threshold))
    value, fpr_hi, fnr_hi = _epsilon(
        np.array([fp_e]), len(nonmembers), np.array([fn_e]), len(members), delta, confidence
    )
    return EpsilonBound(
        float(value[0]), delta, confidence, threshold, float(fpr_hi[0]), float(fnr_hi[0])
    )


def advantage(
    calibration: tuple[np.ndarray, np.ndarray],
    evaluation: tuple[np.ndarray, np.ndarray],
    confidence: float = 0.95,
) -> tuple[Estimate, Estimate, float]:
    """Attacker advantage TPR − FPR (Yeom et al. 2018) and balanced accuracy at the threshold
    that maximises the advantage on the calibration split, measured on the evaluation split.

    The interval combines two-sided Clopper–Pearson intervals at ``1-(1-confidence)/2`` for the
    TPR and the FPR (Bonferroni), so it holds with probability ≥ ``confidence``.
    """
    cal_members, cal_nonmembers = np.sort(calibration[0]), np.sort(calibration[1])
    thresholds = _candidates(np.r_[cal_members, cal_nonmembers])
    gain = _flag_counts(cal_members, thresholds) / len(cal_members) - _flag_counts(
        cal_nonmembers, thresholds
    ) / len(cal_nonmembers)
    threshold = float(thresholds[int(np.argmax(gain))])
    members, nonmembers = evaluation
    tp, fp = int(np.sum(members >= threshold)), int(np.sum(nonmembers >= threshold))
    level = 1 - (1 - confidence) / 2
    tpr_lo, tpr_hi = clopper_pearson(tp, len(members), level)
    fpr_lo, fpr_hi = clopper_pearson(fp, len(nonmembers), level)
    value = tp / len(members) - fp / len(nonmembers)
    lo, hi = float(tpr_lo - fpr_hi), float(tpr_hi - fpr_lo)
    return (
        Estimate(value, (lo, hi)),
        Estimate((1 + value) / 2, ((1 + lo) / 2, (1 + hi) / 2)),
        threshold,
    )


def nonmember_pvalues(member_scores: np.ndarray, reference_nonmembers: np.ndarray) -> np.ndarray:
    """Conformal p-value per record for "this record is a non-member": the share of reference
    non-member scores at or above its score, (1 + #{s' ≥ s}) / (1 + n). Small = exposed."""
    ordered = np.sort(reference_nonmembers)
    at_or_above = len(ordered) - np.searchsorted(ordered, member_scores, "left")
    return (1.0 + at_or_above) / (1.0 + len(ordered))


def _one_run_p_value(m: int, r: int, v: int, eps: float, delta: float) -> float:
    """P[≥ v of r guesses correct] when m canaries were each included with probability ½ in
    one (ε, δ)-DP training run (Steinke, Nasr & Jagielski 2023, Theorem 5.2 / Appendix D)."""
    q = 1.0 / (1.0 + np.exp(-eps))  # the accuracy of ε-DP randomised response
    # scipy's binomial without its argument checks (valid here by construction): the same
    # numbers as binom.sf / binom.pmf at a fiftieth of the cost, in a bisection's inner loop
    if v == 0:
        return 1.0  # at least none correct: certain
    beta = float(stats.binom._sf(v - 1, r, q))
    if delta == 0:
        return min(beta, 1.0)
    below = np.cumsum(stats.binom._pmf(v - np.arange(1, v + 1), r, q))  # P[v-i ≤ B < v]
    alpha = float(np.max(below / np.arange(1, v + 1)))
    return min(beta + alpha * delta * 2 * m, 1.0)


def one_run_epsilon(m: int, r: int, v: int, delta: float, p: float) -> float:
    """The largest ε whose one-run p-value for ``v`` correct of ``r`` guesses is below ``p``
    (0 if none): with probability ≥ 1 − p the training run is not (ε, δ)-DP for any smaller
    ε."""
    if not 0 <= v <= r <= m:
        raise ValueError(f"need 0 ≤ v ≤ r ≤ m, got v={v}, r={r}, m={m}")
    if r == 0 or _one_run_p_value(m, r, v, 0.0, delta) >= p:
        return 0.0
    low, high = 0.0, 1.0
    while _one_run_p_value(m, r, v, high, delta) < p and high < 64:
        low, high = high, high * 2
    for _ in range(40):
        middle = (low + high) / 2
        if _one_run_p_value(m, r, v, middle, delta) < p:
            low = middle
        else:
            high = middle
    return low


def one_run_audit_bound(
    scores: np.ndarray,
    included: np.ndarray,
    delta: float = 1e-5,
    confidence: float = 0.95,
    guesses: Sequence[int] | None = None,
) -> tuple[float, int, int, int]:
    """ε lower bound from one training run: ``included`` says which of the m canaries (each
    included with probability ½) were trained on, ``scores`` how member-like each looks. For
    each k of ``guesses`` (default: 1%, 2%, 5%, 10%, 20% of m per side), guess IN for the k
    highest scores and OUT for the k lowest; the bound is the best over k, at a Bonferroni-
    corrected level so that it holds with probability ≥ ``confidence``. Returns (ε, k, correct
    guesses, guesses)."""
    scores, included = np.asarray(scores, dtype=np.float64), np.asarray(included, dtype=bool)
    m = len(scores)
    default = [max(1, int(f * m)) for f in (0.01, 0.02, 0.05, 0.1, 0.2)]
    ks = sorted({int(k) for k in (guesses or default) if 1 <= k <= m // 2})
    if not ks:
        raise ValueError(f"{m} canaries leave no room for guesses")
    order = np.argsort(scores, kind="stable")
    p = (1 - confidence) / len(ks)
    best = (0.0, ks[0], 0, 2 * ks[0])
    for k in ks:
        v = int(included[order[-k:]].sum() + (~included[order[:k]]).sum())
        eps = one_run_epsilon(m, 2 * k, v, delta, p)
        if eps > best[0]:
            best = (eps, k, v, 2 * k)
    return best


def gdp_epsilon(mu: float, delta: float) -> float:
    """The ε at ``delta`` of a μ-GDP mechanism (Dong, Roth & Su 2022, Corollary 2.13)."""
    if mu <= 0:
        return 0.0
    from scipy.optimize import brentq

    def excess(eps: float) -> float:
        tail = stats.norm.cdf(-eps / mu + mu / 2) - np.exp(eps) * stats.norm.cdf(-eps / mu - mu / 2)
        return float(tail - delta)

    if excess(0.0) <= 0:
        return 0.0
    high = 1.0
    while excess(high) > 0 and high < 1e4:
        high *= 2
    return float(brentq(excess, 0.0, high))


@dataclass(frozen=True)
class GdpBound:
    """A lower bound ``mu`` on the Gaussian-DP parameter and the ε at ``delta`` it implies,
    holding with probability ≥ ``confidence`` **if** the training's trade-off curve is
    Gaussian (as DP-SGD's nearly is; Nasr et al. 2023). Without that assumption only
    :func:`epsilon_lower_bound` is sound."""

    mu: float
    epsilon: float
    delta: float
    confidence: float
    threshold: float | None

    def to_dict(self) -> dict[str, object]:
        return {
            "mu": self.mu,
            "epsilon": self.epsilon,
            "delta": self.delta,
            "confidence": self.confidence,
            "assumes": "a Gaussian trade-off curve (μ-GDP), as DP-SGD's",
        }


def _gdp_mu(fpr_hi: np.ndarray, fnr_hi: np.ndarray) -> np.ndarray:
    """μ of the Gaussian trade-off curve through (FPR, FNR): Φ⁻¹(1 − FPR) − Φ⁻¹(FNR)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        mu = stats.norm.isf(np.clip(fpr_hi, 1e-300, 1)) - stats.norm.ppf(np.clip(fnr_hi, 1e-300, 1))
    return np.maximum(np.nan_to_num(mu, nan=0.0, neginf=0.0, posinf=0.0), 0.0)


def gdp_lower_bound(
    calibration: tuple[np.ndarray, np.ndarray],
    evaluation: tuple[np.ndarray, np.ndarray],
    delta: float = 1e-5,
    confidence: float = 0.95,
) -> GdpBound:
    """Like :func:`epsilon_lower_bound` (threshold chosen on the calibration split, rates
    bounded with one-sided Clopper–Pearson on the evaluation split), but the bounded point
    (FPR, FNR) is read through the Gaussian trade-off curve: μ ≥ Φ⁻¹(1 − FPR⁺) − Φ⁻¹(FNR⁺),
    and ε(δ) of that μ. The point at a moderate threshold then speaks for the tails, which
    the plain bound can only see with very many records."""
    level = 1 - (1 - confidence) / 2
    cal_members, cal_nonmembers = np.sort(calibration[0]), np.sort(calibration[1])
    thresholds = _candidates(np.r_[cal_members, cal_nonmembers])
    fp = _flag_counts(cal_nonmembers, thresholds)
    fn = len(cal_members) - _flag_counts(cal_members, thresholds)
    mu_cal = _gdp_mu(
        binomial_upper(fp, len(cal_nonmembers), level), binomial_upper(fn, len(cal_members), level)
    )
    if not np.any(mu_cal > 0):
        return GdpBound(0.0, 0.0, delta, confidence, None)
    threshold = float(thresholds[int(np.argmax(mu_cal))])
    members, nonmembers = evaluation
    fp_e, fn_e = int(np.sum(nonmembers >= threshold)), int(np.sum(members < threshold))
    mu = float(
        _gdp_mu(
            binomial_upper(np.array([fp_e]), len(nonmembers), level),
            binomial_upper(np.array([fn_e]), len(members), level),
        )[0]
    )
    return GdpBound(mu, gdp_epsilon(mu, delta), delta, confidence, threshold)
