"""Which pool records each reference model trains on.

Every reference model trains on exactly ``train_size`` records (by default the target's number of
members: a model trained on more data generalises differently and miscalibrates every per-record
test). Records are dealt to models so that a record's copies land in distinct models.

Two ways to choose how many models each record is IN for:

* :func:`balanced_design` — every allowed record about equally often (``round(M · train_size /
  N)`` models): the ``"all"`` and ``"population"`` designs.
* :func:`audited_design` — each audited record (member or non-member, never told apart) IN for
  half of the models, so online attacks have IN and OUT models for every record at any M ≥ 2;
  population records fill the rest of each training set and are otherwise OUT for every model,
  the clean comparison set RMIA needs. The ``"audited"`` design, the default.
"""

from __future__ import annotations

import numpy as np

from miaudit.errors import InputError


def _spread(n: int, total: int, rng: np.random.Generator) -> np.ndarray:
    """``total`` copies over ``n`` records, as evenly as possible, the remainder at random."""
    copies = np.full(n, total // n)
    copies[rng.permutation(n)[: total % n]] += 1
    return copies


def _deal(
    candidates: np.ndarray,
    copies: np.ndarray,
    pool_size: int,
    n_models: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Records in a random order, each repeated ``copies`` times (≤ ``n_models``), dealt to the
    models in turn: a record's copies are consecutive, so they land in distinct models."""
    order = rng.permutation(len(candidates))
    sequence = np.repeat(candidates[order], copies[order])
    mask = np.zeros((n_models, pool_size), dtype=bool)
    mask[np.arange(len(sequence)) % n_models, sequence] = True
    return mask


def _check(n_models: int, train_size: int, available: int) -> None:
    if n_models < 1:
        raise InputError(f"reference_models must be at least 1, got {n_models}")
    if not 0 < train_size < available:
        raise InputError(
            f"reference models train on {train_size} records each, but the pool "
            f"they are drawn from has {available}: it must be larger than the training set"
        )


def balanced_design(
    pool_size: int, n_models: int, train_size: int, seed: int, allowed: np.ndarray | None = None
) -> np.ndarray:
    """A boolean (n_models, pool_size) mask: row m marks model m's training records, every
    record IN for about the same number of models. ``allowed`` restricts which pool records
    may be used for training (all if ``None``)."""
    candidates = np.arange(pool_size) if allowed is None else np.nonzero(allowed)[0]
    _check(n_models, train_size, len(candidates))
    rng = np.random.default_rng(seed)
    copies = _spread(len(candidates), n_models * train_size, rng)
    return _deal(candidates, copies, pool_size, n_models, rng)


def audited_design(
    pool_size: int, n_models: int, train_size: int, seed: int, audited: np.ndarray
) -> np.ndarray:
    """A boolean (n_models, pool_size) mask in which each ``audited`` record is IN for half of
    the models (⌊M/2⌋ or ⌈M/2⌉) and the other records fill each model up to ``train_size``.

    When the audited records alone overfill the training sets (more than twice
    ``train_size`` of them) they are spread evenly instead, each IN for fewer than half; when
    the other records are too few to fill them, the design falls back to
    :func:`balanced_design` over every record. ``audited`` is a boolean mask; which audited
    records are members is never an input."""
    _check(n_models, train_size, pool_size)
    rng = np.random.default_rng(seed)
    inside, outside = np.nonzero(audited)[0], np.nonzero(~audited)[0]
    total = n_models * train_size
    if len(inside) == 0:
        return balanced_design(pool_size, n_models, train_size, seed)
    half = min(total, (len(inside) * n_models) // 2)
    rest = total - half
    if rest and (len(outside) == 0 or rest > len(outside) * n_models):
        return balanced_design(pool_size, n_models, train_size, seed)
    candidates = np.concatenate([inside, outside]) if rest else inside
    copies = _spread(len(inside), half, rng)
    if rest:
        copies = np.concatenate([copies, _spread(len(outside), rest, rng)])
    return _deal(candidates, copies, pool_size, n_models, rng)
