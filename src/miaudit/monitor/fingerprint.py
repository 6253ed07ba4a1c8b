"""Quantised-window fingerprints for near copies of high-dimensional inputs (images, embeddings),
after Blacklight (Li et al., USENIX Security 2022).

An input (standardised) is quantised to steps of ``step`` standard deviations; every run of
``window`` consecutive values is hashed, wherever it sits; the ``top`` largest hashes are the
fingerprint. Two inputs are near copies when their fingerprints share at least ``match`` hashes.
Because a window's hash does not depend on its position, an image shifted by a few pixels —
what a label-only attacker's augmentations do — keeps most of its fingerprint, where its
pixel-wise distance to the original is as large as to an unrelated image. For a few tabular
features (``Settings.similarity = "auto"`` below 64 values) the k-NN distance is exact and is
used instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

_RNG = np.random.default_rng(0x5EED)
#: Odd 64-bit multipliers, one per position in a window (a fixed polynomial-style hash).
_MULTIPLIERS = _RNG.integers(1, 2**63, 4096, dtype=np.uint64) | np.uint64(1)


@dataclass(frozen=True)
class Fingerprinter:
    step: float = 0.5
    window: int = 20
    top: int = 50

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """The fingerprint of ``x``: up to ``top`` distinct non-zero 64-bit hashes, sorted."""
        quantised = np.floor(np.asarray(x, dtype=np.float64) / self.step).astype(np.int64)
        width = max(1, min(self.window, len(quantised), len(_MULTIPLIERS)))
        windows = sliding_window_view(quantised.astype(np.uint64), width)
        with np.errstate(over="ignore"):
            hashes = _mix((windows * _MULTIPLIERS[:width]).sum(axis=1, dtype=np.uint64))
        found = np.unique(hashes)
        return found[found != 0][-self.top :]


def shared(ring: np.ndarray, fingerprint: np.ndarray) -> np.ndarray:
    """How many hashes of ``fingerprint`` each row of ``ring`` (fingerprints, zero-padded)
    holds."""
    return np.isin(ring, fingerprint).sum(axis=1)


def _mix(h: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser: spreads the sums' bits over all 64."""
    h = h ^ (h >> np.uint64(30))
    h = h * np.uint64(0xBF58476D1CE4E5B9)
    h = h ^ (h >> np.uint64(27))
    h = h * np.uint64(0x94D049BB133111EB)
    return h ^ (h >> np.uint64(31))
