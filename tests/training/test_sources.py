"""Where reference models come from: PyTorch and function recipes, the Ray executor, a file of
outputs trained elsewhere; and what the audit does with few of them."""

from __future__ import annotations

import functools
import warnings
from pathlib import Path

import numpy as np
import pytest
from overfit import METRIC_ATTACKS, overfit_task
from sklearn.neural_network import MLPClassifier

from miaudit import RecordSet, audit
from miaudit.errors import InputError
from miaudit.targets.precomputed import OutputsTable, PrecomputedTarget
from miaudit.training import FunctionRecipe, save_reference_outputs
from miaudit.training.design import balanced_design


def _mlp(seed: int) -> MLPClassifier:
    return MLPClassifier((64,), alpha=0.0, max_iter=300, random_state=seed)


def _fit_mlp(records: RecordSet, seed: int) -> MLPClassifier:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _mlp(seed).fit(records.features, records.labels)


def test_a_function_recipe_trains_the_same_models_as_the_automatic_one() -> None:
    target, members, nonmembers, population = overfit_task(0)
    kwargs = dict(
        attacks=["lira-online", "rmia-offline"], reference_models=4, seed=0, executor="local"
    )
    automatic = audit(target, members, nonmembers, population, **kwargs)
    own = audit(target, members, nonmembers, population, recipe=FunctionRecipe(_fit_mlp), **kwargs)
    for name in ("lira-online", "rmia-offline"):
        np.testing.assert_array_equal(
            own.score_table.scores[name], automatic.score_table.scores[name]
        )
    with pytest.raises(InputError, match="worker processes"):
        audit(
            target,
            members,
            nonmembers,
            population,
            recipe=FunctionRecipe(lambda records: _fit_mlp(records, 0)),
            **kwargs,
        )


def _torch_mlp(width: int) -> object:
    import torch

    return torch.nn.Sequential(
        torch.nn.Linear(20, width), torch.nn.ReLU(), torch.nn.Linear(width, 3)
    )


def test_torch_recipe_is_seeded_and_runs_in_worker_processes() -> None:
    pytest.importorskip("torch")
    from miaudit.targets.torch import TorchTarget
    from miaudit.training import TorchRecipe

    _, members, nonmembers, population = overfit_task(0)
    recipe = TorchRecipe(functools.partial(_torch_mlp, 64), epochs=40, batch_size=32, lr=3e-3)
    target = recipe.fit(members[0], members[1], 0, np.arange(3))
    assert isinstance(target, TorchTarget)
    train_accuracy = (
        target.module(__import__("torch").as_tensor(members[0], dtype=__import__("torch").float32))
        .argmax(1)
        .numpy()
        == members[1]
    ).mean()
    assert train_accuracy > 0.95  # over-fitted like the sklearn target
    kwargs = dict(
        attacks=[*METRIC_ATTACKS, "lira-online", "rmia-offline"],
        reference_models=4,
        recipe=recipe,
        seed=0,
    )
    local = audit(target, members, nonmembers, population, executor="local", **kwargs)
    inline = audit(target, members, nonmembers, population, executor="inline", **kwargs)
    for name in ("lira-online", "rmia-offline"):
        np.testing.assert_array_equal(
            local.score_table.scores[name], inline.score_table.scores[name]
        )
    best_metric = max(local.attack(n).auc.value for n in METRIC_ATTACKS)
    assert local.attack("rmia-offline").auc.value > best_metric
    assert (
        recipe.fingerprint()
        == TorchRecipe(
            functools.partial(_torch_mlp, 64), epochs=40, batch_size=32, lr=3e-3
        ).fingerprint()
    )
    assert (
        recipe.fingerprint()
        != TorchRecipe(
            functools.partial(_torch_mlp, 32), epochs=40, batch_size=32, lr=3e-3
        ).fingerprint()
    )
    with pytest.raises(InputError, match="optimizer"):
        TorchRecipe(functools.partial(_torch_mlp, 8), optimizer="lbfgs")


def _trained_elsewhere(
    members: tuple, nonmembers: tuple, population: tuple, n_models: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What a team with its own cluster hands over: ids, (M, N, K) logits, (M, N) mask."""
    x = np.concatenate([members[0], nonmembers[0], population[0]])
    y = np.concatenate([members[1], nonmembers[1], population[1]])
    ids = np.array(
        [f"members-{i}" for i in range(len(members[1]))]
        + [f"non-members-{i}" for i in range(len(nonmembers[1]))]
        + [f"population-{i}" for i in range(len(population[1]))]
    )
    mask = balanced_design(len(y), n_models, len(members[1]), seed=7)
    logits = []
    for m in range(n_models):
        model = _fit_mlp(RecordSet.from_arrays(x[mask[m]], y[mask[m]]), 100 + m)
        logits.append(model.predict_log_proba(x))  # log-probabilities are logits
    return ids, np.stack(logits), mask


def test_reference_outputs_from_a_file(tmp_path: Path) -> None:
    target, members, nonmembers, population = overfit_task(0)
    ids, logits, mask = _trained_elsewhere(members, nonmembers, population, 8)
    path = save_reference_outputs(
        tmp_path / "reference.npz", ids[::-1], logits[:, ::-1], mask[:, ::-1], classes=[0, 1, 2]
    )  # any record order
    result = audit(
        target,
        members,
        nonmembers,
        population,
        reference_outputs=path,
        attacks=[*METRIC_ATTACKS, "lira-online", "rmia-offline"],
    )
    assert result.reference["source"] == f"file {path}"
    assert result.reference["n_models"] == 8 and result.reference["train_size"] == 500
    best_metric = max(result.attack(n).tpr(0.01).tpr.value for n in METRIC_ATTACKS)
    for name in ("lira-online", "rmia-offline"):
        assert result.attack(name).tpr(0.01).tpr.value >= best_metric + 0.015, name
    assert f"outputs from file {path}" in result.render("md")

    def broken(name: str, **arrays: object) -> Path:
        file = tmp_path / f"{name}.npz"
        base = {
            "format": "miaudit.reference-file/1",
            "ids": ids,
            "kind": "logits",
            "outputs": logits,
            "trained_on": mask,
        }
        np.savez(file, **{**base, **arrays})
        return file

    cases = [
        (
            broken("missing", ids=ids[:-1], outputs=logits[:, :-1], trained_on=mask[:, :-1]),
            "no reference outputs for 1 audited records",
        ),
        (broken("mask", trained_on=mask.astype(int)), "must be boolean"),
        (broken("shape", outputs=logits[:, :, :2]), "knows 2 of the target's 3 classes"),
        (broken("kind", kind="scores"), "kind must be"),
        (broken("classes", classes=np.array(["b", "a", "c"])), "differ from the target's"),
        (broken("nan", outputs=np.where(np.arange(3) == 0, np.nan, logits)), "NaN"),
        (broken("pickled", ids=np.array(list(ids), dtype=object)), "needs pickle"),
        (tmp_path / "absent.npz", "does not exist"),
    ]
    for file, message in cases:
        with pytest.raises(InputError, match=message):
            audit(
                target,
                members,
                nonmembers,
                population,
                reference_outputs=file,
                attacks=["lira-offline"],
            )
    with pytest.raises(InputError, match="not both"):
        audit(target, members, nonmembers, population, reference_outputs=path, reference_models=2)


def test_train_size_and_too_few_models_for_online_attacks() -> None:
    target, members, nonmembers, population = overfit_task(0)
    # 2 models of 300 records from a pool of 1,500: 300 records are IN for one of them and
    # the other 900 for none, so the online attacks cannot run; offline can.
    result = audit(
        target,
        members,
        nonmembers,
        population,
        reference_models=2,
        reference_train_size=300,
        executor="inline",
        attacks=["lira-offline", "lira-online", "rmia-online"],
    )
    assert result.reference["train_size"] == 300
    # RMIA online would be offline RMIA with a = 1 for the records no model trained on: it is
    # refused too (it ran, labelled "online", before issue 10)
    assert [a.name for a in result.attacks] == ["lira-offline"]
    assert [s.name for s in result.skipped] == ["lira-online", "rmia-online"]
    assert all("IN for none of the 2 reference models" in s.reason for s in result.skipped)
    one = audit(
        target,
        members,
        nonmembers,
        population,
        reference_models=1,
        executor="inline",
        attacks=["lira-offline", "shadow"],
    )
    # the lone model trained on 500 of the 500 + 500 population records: those leave the
    # population (no OUT model to compare them with)
    assert one.n_population == 0 or one.n_population == len(population[1]) - 500


def test_saturated_probabilities_are_reported() -> None:
    rng = np.random.default_rng(0)
    n = 200
    probabilities = rng.dirichlet(np.ones(3), size=n)
    probabilities[:40] = [1.0, 0.0, 0.0]  # a confident model's float32 output
    labels = np.where(np.arange(n) < 40, 0, probabilities.argmax(axis=1))
    table = OutputsTable.from_arrays(
        np.arange(n), labels, member=np.arange(n) % 2, probs=probabilities
    )
    result = audit(PrecomputedTarget(table), attacks=["loss"])
    assert len(result.notes) == 1 and "40 of 200 audited records" in result.notes[0]
    assert "exactly 1.0" in result.render("md") and "exactly 1.0" in result.render("html")
    assert result.to_dict()["notes"] == list(result.notes)


def test_label_only_reference_outputs_skip_only_the_attacks_that_need_scores(
    tmp_path: Path,
) -> None:
    target, members, nonmembers, population = overfit_task(0)
    ids, logits, mask = _trained_elsewhere(members, nonmembers, population, 2)
    path = save_reference_outputs(
        tmp_path / "labels.npz", ids, logits.argmax(axis=2), mask, kind="label"
    )
    result = audit(
        target,
        members,
        nonmembers,
        population,
        reference_outputs=path,
        attacks=["loss", "lira-offline"],
    )
    assert [a.name for a in result.attacks] == ["loss"]  # the metric attack is unaffected
    assert "from the reference models" in result.skipped[0].reason


def test_references_train_in_the_targets_precision() -> None:
    import warnings

    from sklearn.neural_network import MLPClassifier

    from miaudit.training.recipe import SklearnRecipe

    target, members, _, _ = overfit_task(0)
    x, y = members
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        float32 = MLPClassifier((16,), max_iter=20, random_state=0).fit(x.astype(np.float32), y)
    assert float32.coefs_[0].dtype == np.float32
    recipe, recipe64 = SklearnRecipe(float32), SklearnRecipe(target.estimator)
    assert recipe.dtype == np.float32 and recipe64.dtype is None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = recipe.fit(x, y, seed=1, classes=np.unique(y))
    assert reference.estimator.coefs_[0].dtype == np.float32  # trained on float32 features
    # float64 models keep their cache keys; float32 ones get their own
    assert (
        recipe.fingerprint()
        != SklearnRecipe(MLPClassifier((16,), max_iter=20, random_state=0)).fingerprint()
    )
