"""Training reference models like the target: recipes, design, executors, cache, and reference
outputs trained elsewhere."""

from miaudit.training.cache import OutputCache
from miaudit.training.defences import DistillRecipe, EnsembleRecipe, HardenedRecipe
from miaudit.training.dp import DP
from miaudit.training.nets import MLP
from miaudit.training.outputs_file import (
    ReferenceOutputs,
    load_reference_outputs,
    save_reference_outputs,
)
from miaudit.training.recipe import FunctionRecipe, Recipe, SklearnRecipe, TorchRecipe
from miaudit.training.reference import ReferenceSignals, reference_signals

__all__ = [
    "DP",
    "MLP",
    "DistillRecipe",
    "EnsembleRecipe",
    "FunctionRecipe",
    "HardenedRecipe",
    "OutputCache",
    "Recipe",
    "ReferenceOutputs",
    "ReferenceSignals",
    "SklearnRecipe",
    "TorchRecipe",
    "load_reference_outputs",
    "reference_signals",
    "save_reference_outputs",
]
