"""Training on an executor: the same jobs give the same outputs on any executor, the recipe
and pool reach each worker once, compared variants fit anywhere, and a recipe that cannot
travel to worker processes is refused with the fix."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from miaudit import SklearnTarget
from miaudit.data import RecordSet
from miaudit.errors import InputError
from miaudit.executors import create
from miaudit.training import FunctionRecipe, SklearnRecipe
from miaudit.training.executor import (
    FitJob,
    Job,
    fit_models,
    get_runner,
    train_reference_models,
)


def _pool() -> RecordSet:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(120, 4))
    return RecordSet.from_arrays(x, (x[:, 0] + rng.normal(size=120) > 0).astype(int))


def _jobs(pool: RecordSet, n: int = 4) -> list[Job]:
    rng = np.random.default_rng(2)
    return [
        Job(m, 100 + m, np.sort(rng.choice(len(pool), 60, replace=False)), np.array([0, 1]))
        for m in range(n)
    ]


def test_every_executor_trains_the_same_reference_models() -> None:
    pool, recipe = _pool(), SklearnRecipe(LogisticRegression())
    jobs = _jobs(pool)
    found = {}
    for name in ("inline", "local"):
        results = list(train_reference_models(recipe, pool, jobs, create(name, workers=2)))
        assert sorted(index for index, _, _ in results) == [0, 1, 2, 3]
        found[name] = {index: (kind, values) for index, kind, values in results}
    by_runner = {i: (k, v) for i, k, v in get_runner("local")(recipe, pool, jobs)}
    for index in range(4):
        for other in (found["local"], by_runner):
            assert found["inline"][index][0] == other[index][0] == "logits"
            np.testing.assert_array_equal(found["inline"][index][1], other[index][1])
    assert not np.array_equal(found["inline"][0][1], found["inline"][1][1])  # not one model


def _fit_logistic(records: RecordSet) -> SklearnTarget:
    return SklearnTarget(LogisticRegression().fit(records.features, records.labels))


def test_compared_variants_fit_on_an_executor_by_name_or_as_one() -> None:
    pool = _pool()
    jobs = [
        FitJob(name, recipe, pool.features, pool.labels, 0, np.array([0, 1]))
        for name, recipe in (
            ("sklearn", SklearnRecipe(LogisticRegression(C=0.1))),
            ("function", FunctionRecipe(_fit_logistic)),
        )
    ]
    inline = {f.name: f for f in fit_models(jobs, "inline")}
    for executor in ("local", create("local", workers=2), None):
        fitted = {f.name: f for f in fit_models(jobs, executor)}
        assert sorted(fitted) == ["function", "sklearn"]
        for name, one in fitted.items():
            assert one.error == "" and one.model is not None and one.seconds >= 0
            np.testing.assert_array_equal(
                one.model.outputs(pool).values,
                inline[name].model.outputs(pool).values,  # type: ignore[union-attr]
            )
    with pytest.raises(InputError, match="not available; use one of local, inline, ray"):
        list(fit_models(jobs, "threads"))
    with pytest.raises(InputError, match="a cluster address is for executor 'ray'"):
        list(fit_models(jobs, "local", "127.0.0.1:6379"))


def test_a_recipe_that_cannot_travel_is_refused_with_the_fix() -> None:
    pool = _pool()
    recipe = FunctionRecipe(lambda records: _fit_logistic(records))
    message = (
        r"the recipe cannot be sent to worker processes \(.*\); define the model factory / "
        r"fit function at module level, or use executor 'inline' or 'ray'"
    )
    with pytest.raises(InputError, match=message):
        list(train_reference_models(recipe, pool, _jobs(pool), create("local", workers=2)))
    job = FitJob("f", recipe, pool.features, pool.labels, 0, np.array([0, 1]))
    with pytest.raises(InputError, match=message):
        list(fit_models([job, job], create("local", workers=2)))
    # here, or with one job (no pool is started), the same recipe trains
    assert len(list(train_reference_models(recipe, pool, _jobs(pool), create("inline")))) == 4
    assert len(list(train_reference_models(recipe, pool, _jobs(pool, 1), create("local")))) == 1
