"""Executors run reference-model training jobs: in this process, a local process pool, or a Ray
cluster.

A job is ``(index, seed, training rows)``; whatever the executor, the same job gives the same
model, so the same seed gives the same scores. Results arrive as models finish, so the caller
can store each one at once (an interrupted run loses at most the models still training).
"""

from __future__ import annotations

import os
import pickle
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

import numpy as np

from miaudit.data import RecordSet
from miaudit.errors import InputError
from miaudit.targets.interface import Target
from miaudit.training.ray_cluster import ray_session
from miaudit.training.recipe import Recipe


@dataclass(frozen=True)
class Job:
    index: int
    seed: int
    train_rows: np.ndarray
    #: The target's classes, in output-column order: every reference model uses the same.
    classes: np.ndarray


def train_and_query(recipe: Recipe, pool: RecordSet, job: Job) -> tuple[int, str, np.ndarray]:
    """Train one reference model on its rows of the pool and query it on the whole pool."""
    rows = job.train_rows
    features = pool.features.iloc[rows] if hasattr(pool.features, "iloc") else pool.features[rows]
    target = recipe.fit(features, pool.labels[rows], job.seed, job.classes)
    outputs = target.outputs(pool)
    # float64, never float32: float32 probabilities round to 1.0 above 1 − 6e-8, erasing
    # exactly the confident records the reference-model attacks compare.
    # "+partial": top-k or rounded probabilities (a hardened recipe), whose rows need not sum to 1
    kind = outputs.kind.value + ("+partial" if outputs.partial else "")
    return job.index, kind, outputs.values.astype(np.float64, copy=False)


_WORKER: dict[str, object] = {}


def _one_thread_per_worker(recipe: Recipe) -> None:
    """One model per worker and as many workers as cores: BLAS/OpenMP threads inside each
    worker would only fight over the cores (measured on digits, 2 cores: 4-14x slower)."""
    from threadpoolctl import threadpool_limits

    _WORKER["thread_limits"] = threadpool_limits(limits=1)
    recipe.prepare_worker()


def _worker_init(recipe: Recipe, pool: RecordSet) -> None:
    _one_thread_per_worker(recipe)
    _WORKER["recipe"], _WORKER["pool"] = recipe, pool


def _worker_job(job: Job) -> tuple[int, str, np.ndarray]:
    return train_and_query(_WORKER["recipe"], _WORKER["pool"], job)  # type: ignore[arg-type]


Runner = Callable[[Recipe, RecordSet, Sequence[Job]], Iterator[tuple[int, str, np.ndarray]]]


def run_inline(
    recipe: Recipe, pool: RecordSet, jobs: Sequence[Job]
) -> Iterator[tuple[int, str, np.ndarray]]:
    for job in jobs:
        yield train_and_query(recipe, pool, job)


def run_local(
    recipe: Recipe, pool: RecordSet, jobs: Sequence[Job], workers: int | None = None
) -> Iterator[tuple[int, str, np.ndarray]]:
    """A process pool, one model per worker; results arrive as models finish."""
    workers = min(workers or os.cpu_count() or 1, len(jobs))
    if workers > 1:
        _check_picklable(recipe)
    if workers <= 1:
        yield from run_inline(recipe, pool, jobs)
        return
    # The pool travels to each worker once (initializer), not once per model.
    with ProcessPoolExecutor(
        max_workers=workers, initializer=_worker_init, initargs=(recipe, pool)
    ) as pool_executor:
        futures = [pool_executor.submit(_worker_job, job) for job in jobs]
        for future in as_completed(futures):
            yield future.result()


def _check_picklable(recipe: Recipe) -> None:
    try:
        pickle.dumps(recipe)
    except Exception as exc:
        raise InputError(
            f"the recipe cannot be sent to worker processes ({exc}); define the model "
            "factory / fit function at module level, or use executor 'inline' or 'ray'"
        ) from exc


def _ray_job(recipe: Recipe, pool: RecordSet, job: Job) -> tuple[int, str, np.ndarray]:
    _one_thread_per_worker(recipe)  # a task has 1 CPU
    return train_and_query(recipe, pool, job)


def _ray_results(ray: Any, pending: list[Any]) -> Iterator[Any]:
    """Each task's result as it finishes."""
    while pending:
        done, pending = ray.wait(pending, num_returns=1)
        yield ray.get(done[0])


def run_ray(
    recipe: Recipe, pool: RecordSet, jobs: Sequence[Job], address: str | None = None
) -> Iterator[tuple[int, str, np.ndarray]]:
    """One Ray task per model (1 CPU each) on the cluster at ``address``, or on the cluster
    this process is already connected to, or (neither) a local one started for this run.

    The recipe and the pool are put in the object store once and shared by every task. The
    workers must be able to import miaudit and the recipe's code (same environment)."""
    if not jobs:
        return
    with ray_session(address) as ray:
        task = ray.remote(num_cpus=1)(_ray_job)
        recipe_ref, pool_ref = ray.put(recipe), ray.put(pool)
        yield from _ray_results(ray, [task.remote(recipe_ref, pool_ref, job) for job in jobs])


# ---------------------------------------------------------------- whole models (compare)
@dataclass(frozen=True, eq=False)
class FitJob:
    """Train one model of its own (a compared variant) on ``features`` / ``labels``."""

    name: str
    recipe: Recipe
    features: Any
    labels: np.ndarray
    seed: int
    classes: np.ndarray


@dataclass(frozen=True, eq=False)
class Fitted:
    """A trained model and the seconds it took, or ``error``: why the recipe refused the data."""

    name: str
    model: Target | None
    seconds: float
    error: str = ""


def fit_one(job: FitJob) -> Fitted:
    start = time.perf_counter()
    try:
        model = job.recipe.fit(job.features, job.labels, job.seed, job.classes)
    except (ValueError, TypeError) as exc:  # the recipe's own estimator refused the data
        return Fitted(job.name, None, time.perf_counter() - start, str(exc))
    return Fitted(job.name, model, time.perf_counter() - start)


def _fit_in_worker(job: FitJob) -> Fitted:
    _one_thread_per_worker(job.recipe)
    return fit_one(job)


def fit_models(
    jobs: Sequence[FitJob], executor: str | None = "local", address: str | None = None
) -> Iterator[Fitted]:
    """Train each job's model with an executor (``inline``: here, with every core; ``local``:
    a process pool, one model per core; ``ray``: one task per model), yielding each as it
    finishes. The models come back to this process (pickled), so recipes and their models must
    pickle for ``local`` and ``ray``."""
    if not jobs:
        return
    if executor not in EXECUTORS and executor is not None:
        raise InputError(
            f"executor {executor!r} is not available; use one of {', '.join(EXECUTORS)}"
        )
    workers = min(os.cpu_count() or 1, len(jobs))
    if executor == "inline" or (executor in (None, "local") and workers <= 1):
        yield from map(fit_one, jobs)
        return
    for job in jobs:
        _check_picklable(job.recipe)
    if executor == "ray":
        with ray_session(address) as ray:
            task = ray.remote(num_cpus=1)(_fit_in_worker)
            yield from _ray_results(ray, [task.remote(job) for job in jobs])
        return
    with ProcessPoolExecutor(max_workers=workers) as pool_executor:
        futures = [pool_executor.submit(_fit_in_worker, job) for job in jobs]
        for future in as_completed(futures):
            yield future.result()


EXECUTORS = ("local", "inline", "ray")


def get_runner(name: str | None, address: str | None = None) -> Runner:
    """The runner for an executor name; ``address`` is the Ray cluster's (``ray`` only)."""
    if address is not None and name != "ray":
        raise InputError(f"a cluster address is for executor 'ray', not {name or 'local'!r}")
    if name in (None, "local"):
        return run_local
    if name == "inline":
        return run_inline
    if name == "ray":
        return lambda recipe, pool, jobs: run_ray(recipe, pool, jobs, address)
    raise InputError(f"executor {name!r} is not available; use one of {', '.join(EXECUTORS)}")
