"""Executors run reference-model training jobs: in this process, or a local process pool.

A job is ``(index, seed, training rows)``; whatever the executor, the same job gives the same
model, so the same seed gives the same scores.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass

import numpy as np

from miaudit.data import RecordSet
from miaudit.errors import InputError
from miaudit.training.recipe import Recipe


@dataclass(frozen=True)
class Job:
    index: int
    seed: int
    train_rows: np.ndarray


def train_and_query(recipe: Recipe, pool: RecordSet, job: Job) -> tuple[int, str, np.ndarray]:
    """Train one reference model on its rows of the pool and query it on the whole pool."""
    rows = job.train_rows
    features = pool.features.iloc[rows] if hasattr(pool.features, "iloc") else \
        pool.features[rows]
    target = recipe.fit(features, pool.labels[rows], job.seed)
    outputs = target.outputs(pool)
    # float64, never float32: float32 probabilities round to 1.0 above 1 − 6e-8, erasing
    # exactly the confident records the reference-model attacks compare.
    return job.index, outputs.kind.value, outputs.values.astype(np.float64, copy=False)


_WORKER: dict[str, object] = {}


def _worker_init(recipe: Recipe, pool: RecordSet) -> None:
    _WORKER["recipe"], _WORKER["pool"] = recipe, pool


def _worker_job(job: Job) -> tuple[int, str, np.ndarray]:
    return train_and_query(_WORKER["recipe"], _WORKER["pool"], job)  # type: ignore[arg-type]


Runner = Callable[[Recipe, RecordSet, Sequence[Job]], Iterator[tuple[int, str, np.ndarray]]]


def run_inline(recipe: Recipe, pool: RecordSet, jobs: Sequence[Job]
               ) -> Iterator[tuple[int, str, np.ndarray]]:
    for job in jobs:
        yield train_and_query(recipe, pool, job)


def run_local(recipe: Recipe, pool: RecordSet, jobs: Sequence[Job],
              workers: int | None = None) -> Iterator[tuple[int, str, np.ndarray]]:
    """A process pool, one model per worker; results arrive as models finish."""
    workers = min(workers or os.cpu_count() or 1, len(jobs))
    if workers <= 1:
        yield from run_inline(recipe, pool, jobs)
        return
    # The pool travels to each worker once (initializer), not once per model.
    with ProcessPoolExecutor(max_workers=workers, initializer=_worker_init,
                             initargs=(recipe, pool)) as pool_executor:
        futures = [pool_executor.submit(_worker_job, job) for job in jobs]
        for future in as_completed(futures):
            yield future.result()


def get_runner(name: str | None) -> Runner:
    if name in (None, "local"):
        return run_local
    if name == "inline":
        return run_inline
    raise InputError(f"executor {name!r} is not available; use 'local' or 'inline'")
