"""Reference models: design → cache lookups → training (any executor) → reference signals."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from miaudit.data import RecordSet
from miaudit.errors import InputError
from miaudit.executors import Executor
from miaudit.signals.classifier import compute_signals
from miaudit.targets.exposure import OutputKind
from miaudit.targets.interface import Outputs
from miaudit.training.cache import OutputCache, model_key, pool_digest
from miaudit.training.executor import Job, Runner, train_reference_models
from miaudit.training.recipe import Recipe


@dataclass(frozen=True, eq=False)
class ReferenceSignals:
    """Per-model, per-record signals of the reference models on the pool: (M, N) arrays, and
    the (M, N) mask of which records each model trained on."""

    signals: dict[str, np.ndarray]
    trained_on: np.ndarray
    cache_hits: int
    trained: int

    @property
    def n_models(self) -> int:
        return self.trained_on.shape[0]


def concatenate(sets: list[RecordSet], name: str = "pool") -> RecordSet:
    """Records of several sets, in order, as one set."""
    if any(isinstance(s.features, pd.DataFrame) for s in sets):
        features = pd.concat([pd.DataFrame(s.features) for s in sets], ignore_index=True)
    else:
        features = np.concatenate([s.features for s in sets])
    return RecordSet(
        features,
        np.concatenate([s.labels for s in sets]),
        np.concatenate([s.ids for s in sets]),
        name,
    )


def model_signals(
    m: int,
    kind: str,
    values: np.ndarray,
    label_index: np.ndarray,
    n_classes: int,
    temperatures: tuple[float, ...] = (),
) -> dict[str, np.ndarray]:
    """Reference model ``m``'s signals on the pool, from its outputs (checked for its classes)."""
    base, partial = kind.removesuffix("+partial"), kind.endswith("+partial")
    exposure = OutputKind(base)
    if exposure is not OutputKind.LABEL and values.shape[1] != n_classes:
        raise InputError(
            f"reference model {m} knows {values.shape[1]} of the target's {n_classes} "
            "classes: its training rows missed a class. Classes this rare cannot be "
            "audited with reference models; merge or drop them"
        )
    # float32 outputs are read chunk by chunk in float64 by compute_signals: no full copy
    outputs = Outputs(exposure, values, n_classes, partial)
    return compute_signals(outputs, label_index, temperatures)


class SignalStack:
    """(M, N) signals filled one model at a time, so a model's raw outputs (N × classes) are
    dropped as soon as its signals are known: memory holds signals, not outputs."""

    def __init__(self, n_models: int) -> None:
        self.n_models = n_models
        self.signals: dict[str, np.ndarray] = {}

    def add(self, m: int, signals: dict[str, np.ndarray]) -> None:
        for name, values in signals.items():
            if name not in self.signals:
                self.signals[name] = np.empty((self.n_models, len(values)), dtype=np.float64)
            self.signals[name][m] = values


def stack_signals(
    outputs: list[tuple[str, np.ndarray]],
    label_index: np.ndarray,
    n_classes: int,
    temperatures: tuple[float, ...] = (),
) -> dict[str, np.ndarray]:
    """Each model's signals on the pool, stacked to (M, N) per signal name."""
    stack = SignalStack(len(outputs))
    for m, (kind, values) in enumerate(outputs):
        stack.add(m, model_signals(m, kind, values, label_index, n_classes, temperatures))
    return stack.signals


def reference_signals(
    pool: RecordSet,
    label_index: np.ndarray,
    recipe: Recipe,
    mask: np.ndarray,
    seed: int,
    executor: Executor | Runner,
    cache: OutputCache,
    classes: np.ndarray,
    progress: Callable[[int], None] | None = None,
    temperatures: tuple[float, ...] = (),
) -> ReferenceSignals:
    """Train (or load from ``cache``) one reference model per row of ``mask`` (the pool
    records it trains on, from :mod:`miaudit.training.design`) and compute their signals on
    every pool record. ``executor`` trains them (an :class:`Executor`, or a function of
    ``(recipe, pool, jobs)`` such as :func:`~miaudit.training.executor.get_runner` returns);
    each model's outputs are cached as it finishes, so an interrupted run resumes."""
    n_models = mask.shape[0]
    digest = pool_digest(pool)
    fingerprint = recipe.fingerprint()
    seeds = np.random.default_rng(seed).integers(0, 2**31 - 1, size=n_models)
    keys = [
        model_key(digest, fingerprint, int(seeds[m]), np.nonzero(mask[m])[0])
        for m in range(n_models)
    ]
    # the assignment, for the record: which records each model trained on, and its seed
    cache.put_design(model_key(digest, fingerprint, seed, mask.sum(axis=0)), pool.ids, mask, seeds)
    stack = SignalStack(n_models)  # each model's outputs become signals as they arrive

    def add(m: int, kind: str, values: np.ndarray) -> None:
        stack.add(m, model_signals(m, kind, values, label_index, len(classes), temperatures))
        if progress is not None:
            progress(1)

    jobs = []
    for m, key in enumerate(keys):
        cached = cache.get(key)
        if cached is not None:
            add(m, *cached)
        else:
            jobs.append(Job(m, int(seeds[m]), np.nonzero(mask[m])[0], np.asarray(classes)))
    trained = (
        train_reference_models(recipe, pool, jobs, executor)
        if isinstance(executor, Executor)
        else executor(recipe, pool, jobs)
    )
    for index, kind, values in trained:
        cache.put(keys[index], kind, values)  # saved as each model finishes: resumable
        add(index, kind, values)
    return ReferenceSignals(stack.signals, mask, cache_hits=n_models - len(jobs), trained=len(jobs))
