"""Training reference models like the target: recipes, design, executors, cache."""

from miaudit.training.cache import OutputCache
from miaudit.training.recipe import Recipe, SklearnRecipe
from miaudit.training.reference import ReferenceSignals, reference_signals

__all__ = ["OutputCache", "Recipe", "ReferenceSignals", "SklearnRecipe", "reference_signals"]
