"""RMIA: Zarifzadeh et al. (2024), "Low-Cost High-Power Membership Inference Attacks", §3.

LR(x, z) = [Pr(x|θ) / Pr(x)] / [Pr(z|θ) / Pr(z)] with Pr(·|θ) the target's probability of the
true label and Pr(·) its average over reference models (online: all of them; offline: OUT models,
linearly corrected with ``a``: Pr(x) = ½((1+a)·Pr_out(x) + (1−a)), eq. 11). The score of x is
the share of population records z with LR(x, z) ≥ γ (eq. 4). Computed by sorting the population's
ratios once and ``searchsorted`` — O((n + |Z|) log |Z|) time and O(n + |Z|) memory, never the
n × |Z| matrix.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from miaudit.attacks.interface import POPULATION, Attack, AttackInput

_TINY = 1e-300


class RmiaAttack(Attack):
    """RMIA, online or offline."""

    name: ClassVar[str] = "rmia"
    description: ClassVar[str] = ""

    def __init__(self, online: bool, a: float = 0.3, gamma: float = 1.0) -> None:
        self.online = online
        self.min_reference_models = 2 if online else 1
        self.a = a
        self.gamma = gamma
        self.name = "rmia-online" if online else "rmia-offline"  # type: ignore[misc]
        self.description = (  # type: ignore[misc]
            "relative likelihood ratio against population records, IN and OUT reference models "
            "(Zarifzadeh et al. 2024)" if online else
            "relative likelihood ratio, OUT reference models with linear correction "
            "(Zarifzadeh et al. 2024, offline)")
        self.needs = ("confidence", "reference", "population")

    def variant(self, data: AttackInput) -> str:
        assert data.reference_in is not None
        m = data.reference_in.shape[0]
        mode = "online" if self.online else f"offline, a = {self.a:g}"
        return f"{m} reference models: {mode}, γ = {self.gamma:g}"

    def scores(self, data: AttackInput) -> np.ndarray:
        assert data.reference is not None and data.reference_in is not None
        reference = data.reference["confidence"]
        if self.online:
            marginal = reference.mean(axis=0)
        else:
            out = ~data.reference_in
            marginal_out = np.where(out, reference, 0.0).sum(axis=0) / np.maximum(
                out.sum(axis=0), 1)
            marginal = 0.5 * ((1 + self.a) * marginal_out + (1 - self.a))
        ratio = data.signals["confidence"] / np.maximum(marginal, _TINY)
        population = data.membership == POPULATION
        z_sorted = np.sort(ratio[population])
        n_z = len(z_sorted)
        beaten = np.searchsorted(z_sorted, ratio / self.gamma, "right").astype(np.float64)
        scores = beaten / n_z
        if n_z > 1:  # a population record is not compared with itself
            self_count = 1.0 if self.gamma <= 1.0 else 0.0
            scores[population] = (beaten[population] - self_count) / (n_z - 1)
        return scores
