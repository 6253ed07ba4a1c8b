"""Signals of language-model audits: per-text numbers from per-token statistics.

Every signal is oriented as computed by its paper; attacks (attacks/lm.py) turn them into
scores with one convention, higher = more likely a member.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np

from miaudit.targets.lm import TokenStats

#: Min-K% and Min-K%++ average the lowest ``K`` of token scores (Shi et al. 2023 use 20%).
MIN_K = 0.2
_STD_FLOOR = 1e-12


def _lowest_mean(values: np.ndarray, offsets: np.ndarray, k: float) -> np.ndarray:
    """Per text, the mean of its ``int(k·n)`` lowest values (at least one), as Shi et al. 2023
    and MIMIR take them."""
    out = np.empty(len(offsets) - 1)
    for i in range(len(out)):
        chunk = values[offsets[i] : offsets[i + 1]]
        take = max(1, int(k * len(chunk)))
        out[i] = np.partition(chunk, take - 1)[:take].mean()
    return out


def min_k(stats: TokenStats, k: float = MIN_K) -> np.ndarray:
    """Min-K% (Shi et al. 2023): mean log-likelihood of the ``k`` least likely tokens."""
    return _lowest_mean(stats.logp, stats.offsets, k)


def min_k_plus_plus(stats: TokenStats, k: float = MIN_K) -> np.ndarray:
    """Min-K%++ (Zhang et al. 2024): the same over (log p − μ) / σ of the model's own
    next-token distribution."""
    normalised = (stats.logp - stats.mean) / np.maximum(stats.std, _STD_FLOOR)
    return _lowest_mean(normalised, stats.offsets, k)


def mean_loss(stats: TokenStats) -> np.ndarray:
    """Mean negative log-likelihood per token of each text (log-perplexity)."""
    return -np.add.reduceat(stats.logp, stats.offsets[:-1]) / stats.counts()


def lm_signals(
    stats: TokenStats,
    texts: Sequence[str],
    lowercase: TokenStats | None = None,
    reference: TokenStats | None = None,
    neighbours: TokenStats | None = None,
    per_text: int = 0,
) -> dict[str, np.ndarray]:
    loss = mean_loss(stats)
    zlib_bytes = np.array([len(zlib.compress(t.encode("utf-8"))) for t in texts], float)
    signals = {
        "lm_loss": loss,
        # Carlini et al. 2021, §5.2: log-perplexity relative to zlib entropy
        "zlib_ratio": loss * stats.counts() / (8.0 * zlib_bytes),
        "token_accuracy": np.add.reduceat(stats.correct.astype(float), stats.offsets[:-1])
        / stats.counts(),
    }
    if lowercase is not None:  # Carlini et al. 2021: perplexity ratio to the lowercased text
        signals["lowercase_ratio"] = loss / np.maximum(mean_loss(lowercase), _STD_FLOOR)
    if reference is not None:  # Carlini et al. 2021: difference to a reference model
        signals["reference_difference"] = loss - mean_loss(reference)
    if neighbours is not None:  # Mattern et al. 2023: loss minus the neighbours' mean loss
        signals["neighbourhood_difference"] = loss - mean_loss(neighbours).reshape(
            len(loss), per_text
        ).mean(axis=1)
    return signals
