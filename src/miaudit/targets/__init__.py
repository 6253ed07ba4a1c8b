"""Targets: how miaudit queries a model. One module per kind of model."""

from miaudit.targets.callable import CallableTarget
from miaudit.targets.interface import Exposure, Outputs, Target
from miaudit.targets.precomputed import OutputsTable, PrecomputedTarget
from miaudit.targets.sklearn import SklearnTarget

__all__ = [
    "CallableTarget",
    "Exposure",
    "Outputs",
    "OutputsTable",
    "PrecomputedTarget",
    "SklearnTarget",
    "Target",
    "TorchTarget",
]


def __getattr__(name: str) -> object:
    if name == "TorchTarget":  # imported lazily: torch is an optional extra
        from miaudit.targets.torch import TorchTarget

        return TorchTarget
    raise AttributeError(name)
