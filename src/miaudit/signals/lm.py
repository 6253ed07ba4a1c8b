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


def lowercase_ratio(stats: TokenStats, lowercase: TokenStats) -> np.ndarray:
    """Carlini et al. 2021: the perplexity ratio of each text to its lowercased form (the
    log-perplexities' ratio)."""
    return mean_loss(stats) / np.maximum(mean_loss(lowercase), _STD_FLOOR)


def reference_difference(stats: TokenStats, reference: TokenStats) -> np.ndarray:
    """Carlini et al. 2021: each text's loss minus a reference model's loss on it."""
    return mean_loss(stats) - mean_loss(reference)


def neighbourhood_difference(
    stats: TokenStats, neighbours: TokenStats, per_text: int
) -> np.ndarray:
    """Mattern et al. 2023: each text's loss minus the mean loss of its ``per_text``
    neighbours (``neighbours`` holds them text by text)."""
    loss = mean_loss(stats)
    return loss - mean_loss(neighbours).reshape(len(loss), per_text).mean(axis=1)


def lm_signals(
    stats: TokenStats,
    texts: Sequence[str],
    lowercase: TokenStats | None = None,
    reference: TokenStats | None = None,
    neighbours: TokenStats | None = None,
    per_text: int = 0,
) -> dict[str, np.ndarray]:
    """The signals of one scoring pass over ``texts`` (loss, zlib ratio, token accuracy),
    and those of the other passes given (lowercased texts, a reference model, neighbours)."""
    loss = mean_loss(stats)
    zlib_bytes = np.array([len(zlib.compress(t.encode("utf-8"))) for t in texts], float)
    signals = {
        "lm_loss": loss,
        # Carlini et al. 2021, §5.2: log-perplexity relative to zlib entropy
        "zlib_ratio": loss * stats.counts() / (8.0 * zlib_bytes),
        "token_accuracy": np.add.reduceat(stats.correct.astype(float), stats.offsets[:-1])
        / stats.counts(),
    }
    if lowercase is not None:
        signals["lowercase_ratio"] = lowercase_ratio(stats, lowercase)
    if reference is not None:
        signals["reference_difference"] = reference_difference(stats, reference)
    if neighbours is not None:
        signals["neighbourhood_difference"] = neighbourhood_difference(stats, neighbours, per_text)
    return signals
