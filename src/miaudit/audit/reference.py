"""The reference-model step: train (or load) models like the target, and their signals on
every record of the audit."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from miaudit.attacks.requirements import FILE_REFERENCES
from miaudit.audit.observe import Observation
from miaudit.audit.options import ReferenceOptions
from miaudit.audit.progress import Progress
from miaudit.data import POPULATION, RecordSet
from miaudit.errors import InputError
from miaudit.executors import create
from miaudit.targets.interface import ClassifierTarget, label_indices
from miaudit.targets.sklearn import SklearnTarget
from miaudit.training.cache import OutputCache
from miaudit.training.design import audited_design, balanced_design
from miaudit.training.outputs_file import load_reference_outputs
from miaudit.training.recipe import SklearnRecipe
from miaudit.training.reference import (
    ReferenceSignals,
    concatenate,
    reference_signals,
    stack_signals,
)


@dataclass(frozen=True, eq=False)
class References:
    """Reference signals (``None``: none), where they came from, and which records the
    audit keeps: population records every model trained on have no OUT model to compare with
    and leave the population (``used``)."""

    signals: ReferenceSignals | None
    source: str = ""
    used: np.ndarray | None = None
    #: Where the trained models drew their records ("all" or "population"); "" for a file.
    design: str = ""

    @property
    def n_models(self) -> int:
        return 0 if self.signals is None else self.signals.n_models


def load_outputs(options: ReferenceOptions) -> ReferenceOptions:
    """Read a reference-outputs file named by path (once, before any work)."""
    if isinstance(options.outputs, (str, Path)):
        return replace(options, outputs=load_reference_outputs(options.outputs))
    return options


def reference_step(
    target: ClassifierTarget,
    sets: list[RecordSet],
    options: ReferenceOptions,
    observation: Observation,
    seed: int,
    temperatures: tuple[float, ...],
    progress: Progress,
) -> References:
    """The reference models' signals on every record (members, non-members, population)."""
    population = sets[2] if len(sets) > 2 else None
    if options.outputs is not None:
        outputs = options.outputs
        assert not isinstance(outputs, (str, Path))  # read by load_outputs
        per_model, trained_on = outputs.for_pool(concatenate(sets), target.classes)
        assert observation.label_index is not None
        stacked = stack_signals(
            per_model, observation.label_index, len(target.classes), temperatures
        )
        signals = ReferenceSignals(stacked, trained_on, cache_hits=0, trained=0)
        source = f"file {outputs.source}"
    else:
        train_size = len(sets[0]) if options.train_size is None else int(options.train_size)
        signals = _train(
            target, sets, options, train_size, population, seed, temperatures, progress
        )
        source = "trained"
    used = (observation.membership != POPULATION) | ~signals.trained_on.all(axis=0)
    return References(signals, source, used, options.design if source == "trained" else "")


def _train(
    target: ClassifierTarget,
    sets: list[RecordSet],
    options: ReferenceOptions,
    train_size: int,
    population: RecordSet | None,
    seed: int,
    temperatures: tuple[float, ...],
    progress: Progress,
) -> ReferenceSignals:
    recipe = options.recipe
    if recipe is None:
        if not isinstance(target, SklearnTarget):
            raise InputError(
                f"reference models: miaudit trains models like the target by itself only for "
                f"scikit-learn models; for this {target.kind} target, bring the outputs of "
                f"models trained elsewhere ({FILE_REFERENCES}), or in Python pass "
                "recipe=TorchRecipe(...) or FunctionRecipe(...) (docs/reference-models.md)"
            )
        recipe = SklearnRecipe(target.estimator)
    pool = concatenate(sets)
    mask = design_mask(options, len(pool), train_size, population, seed)
    label_index = label_indices(pool.labels, target.classes)
    executor = create(options.executor, options.ray_address)
    n_models = options.models
    advance = progress.task(f"training {n_models} reference models", n_models)
    return reference_signals(
        pool,
        label_index,
        recipe,
        mask,
        seed,
        executor,
        OutputCache(options.cache_dir),
        target.classes,
        advance,
        temperatures,
    )


def design_mask(
    options: ReferenceOptions,
    pool_size: int,
    train_size: int,
    population: RecordSet | None,
    seed: int,
) -> np.ndarray:
    """Which pool records (members, non-members, then population) each model trains on."""
    n_models = options.models
    n_population = 0 if population is None else len(population)
    is_population = np.arange(pool_size) >= pool_size - n_population
    # a lone model must leave every audited record OUT; the population design always does
    if n_models == 1 or options.design == "population":
        if n_population <= train_size:
            who = "1 reference model" if n_models == 1 else "reference models (design population)"
            raise InputError(
                f"{who} must train on population records only, and need more than "
                f"{train_size} of them; pass a larger population"
                + (" or use 2 or more models" if n_models == 1 else " or design 'audited'")
            )
        return balanced_design(pool_size, n_models, train_size, seed, is_population)
    if options.design == "audited":
        return audited_design(pool_size, n_models, train_size, seed, ~is_population)
    return balanced_design(pool_size, n_models, train_size, seed)
