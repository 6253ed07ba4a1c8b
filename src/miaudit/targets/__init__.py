"""Targets: how miaudit queries a model. One module per kind of model, one interface."""

from miaudit.targets.callable import CallableTarget
from miaudit.targets.exposure import Exposure, OutputKind
from miaudit.targets.harden import HardenedTarget, OutputPolicy, harden
from miaudit.targets.interface import ClassifierTarget, Modality, Outputs, Target
from miaudit.targets.precomputed import OutputsTable, PrecomputedTarget
from miaudit.targets.sklearn import SklearnTarget
from miaudit.targets.wrap import as_target

__all__ = [
    "CallableTarget",
    "CausalLMTarget",
    "ClassifierTarget",
    "Exposure",
    "HardenedTarget",
    "MaskedLMNeighbours",
    "Modality",
    "OutputKind",
    "OutputPolicy",
    "Outputs",
    "OutputsTable",
    "PrecomputedTarget",
    "SklearnTarget",
    "Target",
    "TorchTarget",
    "as_target",
    "harden",
]


def __getattr__(name: str) -> object:
    # imported lazily: torch and transformers are optional extras
    if name == "TorchTarget":
        from miaudit.targets.torch import TorchTarget

        return TorchTarget
    if name == "CausalLMTarget":
        from miaudit.targets.lm import CausalLMTarget

        return CausalLMTarget
    if name == "MaskedLMNeighbours":
        from miaudit.targets.masked_lm import MaskedLMNeighbours

        return MaskedLMNeighbours
    raise AttributeError(name)
