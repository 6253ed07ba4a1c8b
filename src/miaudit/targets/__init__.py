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
    "HttpTarget",
    "MaskedLMNeighbours",
    "Modality",
    "OnnxTarget",
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


#: Targets whose modules need an optional extra: imported on first use.
_LAZY = {
    "TorchTarget": "miaudit.targets.torch",
    "CausalLMTarget": "miaudit.targets.lm",
    "MaskedLMNeighbours": "miaudit.targets.masked_lm",
    "HttpTarget": "miaudit.targets.http",
    "OnnxTarget": "miaudit.targets.onnx",
}


def __getattr__(name: str) -> object:
    # imported lazily: torch, transformers, httpx and onnxruntime are optional extras
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(name)
