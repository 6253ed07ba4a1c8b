"""Which pool records each reference model trains on.

Every reference model trains on exactly ``train_size`` records (by default the target's number of
members: a model trained on more data generalises differently and miscalibrates every per-record
test). Each record is IN for ``round(M · train_size / N)`` models — half of them when the pool is
twice the training set — so online attacks have IN and OUT models for every record, and offline
attacks have OUT models for every record whenever each record is left out at least once.
"""

from __future__ import annotations

import numpy as np

from miaudit.errors import InputError


def balanced_design(
    pool_size: int, n_models: int, train_size: int, seed: int, allowed: np.ndarray | None = None
) -> np.ndarray:
    """A boolean (n_models, pool_size) mask: row m marks model m's training records.

    Records are laid out in a random order, each repeated as many times as it should be IN,
    and dealt to models in turn; a record's copies are consecutive and never more than
    ``n_models``, so they land in distinct models, and every model gets ``train_size`` records.
    ``allowed`` restricts which pool records may be used for training (all if ``None``).
    """
    if n_models < 1:
        raise InputError(f"reference_models must be at least 1, got {n_models}")
    candidates = np.arange(pool_size) if allowed is None else np.nonzero(allowed)[0]
    n = len(candidates)
    if not 0 < train_size < n:
        raise InputError(
            f"reference models train on {train_size} records each, but the pool "
            f"they are drawn from has {n}: it must be larger than the training set"
        )
    rng = np.random.default_rng(seed)
    total = n_models * train_size
    copies = np.full(n, total // n)
    copies[rng.permutation(n)[: total % n]] += 1
    order = rng.permutation(n)
    sequence = np.repeat(candidates[order], copies[order])
    mask = np.zeros((n_models, pool_size), dtype=bool)
    mask[np.arange(total) % n_models, sequence] = True
    return mask
