"""Training on an executor (:mod:`miaudit.executors`): reference models, and the compared
variants' own models.

A reference-model job is ``(index, seed, training rows)``; whatever the executor, the same job
gives the same model, so the same seed gives the same scores. Results arrive as models finish,
so the caller can store each one at once (an interrupted run loses at most the models still
training). The recipe and the pool travel to each worker once (the map's shared payload).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

from miaudit.data import RecordSet
from miaudit.executors import NAMES, Executor, check_picklable, create, in_worker
from miaudit.targets.interface import Target
from miaudit.training.recipe import Recipe

#: The executors' names (kept for older imports; declared once, as ``ExecutorName``).
EXECUTORS = NAMES

_FIX_RECIPE = "define the model factory / fit function at module level"


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


def _prepared(shared: tuple[Recipe, RecordSet]) -> tuple[Recipe, RecordSet]:
    """A worker's state: the recipe and the pool, the recipe's worker settings applied once
    (only in a worker process: the inline executor leaves the caller's settings alone)."""
    if in_worker():
        shared[0].prepare_worker()
    return shared


def _train_job(shared: tuple[Recipe, RecordSet], job: Job) -> tuple[int, str, np.ndarray]:
    return train_and_query(shared[0], shared[1], job)


def train_reference_models(
    recipe: Recipe, pool: RecordSet, jobs: Sequence[Job], executor: Executor
) -> Iterator[tuple[int, str, np.ndarray]]:
    """Each job's ``(index, kind, outputs on the pool)``, as its model finishes on
    ``executor``."""
    if executor.pickles(len(jobs)):
        check_picklable(recipe, "the recipe", _FIX_RECIPE)
    yield from executor.map(_train_job, jobs, (recipe, pool), _prepared)


Runner = Callable[[Recipe, RecordSet, Sequence[Job]], Iterator[tuple[int, str, np.ndarray]]]


def get_runner(name: str | None, address: str | None = None) -> Runner:
    """Reference-model training on the executor called ``name`` (``address``: the Ray
    cluster's, ``ray`` only), as a function of ``(recipe, pool, jobs)``."""
    return partial(_run_on, create(name, address))


def _run_on(
    executor: Executor, recipe: Recipe, pool: RecordSet, jobs: Sequence[Job]
) -> Iterator[tuple[int, str, np.ndarray]]:
    return train_reference_models(recipe, pool, jobs, executor)


def run_inline(
    recipe: Recipe, pool: RecordSet, jobs: Sequence[Job]
) -> Iterator[tuple[int, str, np.ndarray]]:
    """The jobs in this process, one after another."""
    return train_reference_models(recipe, pool, jobs, create("inline"))


def run_local(
    recipe: Recipe, pool: RecordSet, jobs: Sequence[Job], workers: int | None = None
) -> Iterator[tuple[int, str, np.ndarray]]:
    """A process pool, one model per worker; results arrive as models finish."""
    return train_reference_models(recipe, pool, jobs, create("local", workers=workers))


def run_ray(
    recipe: Recipe, pool: RecordSet, jobs: Sequence[Job], address: str | None = None
) -> Iterator[tuple[int, str, np.ndarray]]:
    """One Ray task per model on the cluster at ``address`` (see the Ray executor)."""
    return train_reference_models(recipe, pool, jobs, create("ray", address))


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


def _fit_job(_shared: None, job: FitJob) -> Fitted:
    if in_worker():
        job.recipe.prepare_worker()
    return fit_one(job)


def fit_models(
    jobs: Sequence[FitJob], executor: str | Executor | None = "local", address: str | None = None
) -> Iterator[Fitted]:
    """Train each job's model on an executor (a name or an :class:`Executor`; ``inline``:
    here, with every core; ``local``: a process pool, one model per core; ``ray``: one task
    per model), yielding each as it finishes. The models come back to this process
    (pickled), so recipes and their models must pickle for ``local`` and ``ray``."""
    runs_on = executor if isinstance(executor, Executor) else create(executor, address)
    if not jobs:
        return
    if runs_on.pickles(len(jobs)):
        for job in jobs:
            check_picklable(job.recipe, "the recipe", _FIX_RECIPE)
    yield from runs_on.map(_fit_job, jobs)
