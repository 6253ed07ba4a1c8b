"""miaudit: measure how much a model leaks about its training data through membership inference.

The public API is small: :func:`audit` returns an :class:`AuditResult`, configured by keywords
or an :class:`AuditOptions`; targets wrap models (:class:`SklearnTarget`,
:class:`CallableTarget`, :class:`PrecomputedTarget`, and ``TorchTarget`` / ``CausalLMTarget`` /
``HttpTarget`` / ``OnnxTarget`` with the ``torch`` / ``llm`` / ``http`` / ``onnx`` extras) — or
pass a bare estimator, module or function; :class:`RecordSet` and :class:`TextRecords` hold
records.
"""

from __future__ import annotations

from miaudit import report as report  # registers the formats behind AuditResult.write/render
from miaudit._version import __version__
from miaudit.audit import AuditOptions, LanguageModelOptions, ReferenceOptions, audit
from miaudit.data import RecordSet, TextRecords
from miaudit.defences import Comparison, compare, one_run_audit
from miaudit.errors import InputError, MissingExtraError
from miaudit.results import AuditResult
from miaudit.targets import (
    CallableTarget,
    Exposure,
    OutputPolicy,
    OutputsTable,
    PrecomputedTarget,
    SklearnTarget,
    Target,
    harden,
)
from miaudit.training import DP, TorchRecipe
from miaudit.training.defences import DistillRecipe, EnsembleRecipe

__all__ = [
    "DP",
    "AuditOptions",
    "AuditResult",
    "CallableTarget",
    "CausalLMTarget",
    "Comparison",
    "DistillRecipe",
    "EnsembleRecipe",
    "Exposure",
    "HttpTarget",
    "InputError",
    "LanguageModelOptions",
    "MaskedLMNeighbours",
    "MissingExtraError",
    "OnnxTarget",
    "OutputPolicy",
    "OutputsTable",
    "PrecomputedTarget",
    "RecordSet",
    "ReferenceOptions",
    "SklearnTarget",
    "Target",
    "TextRecords",
    "TorchRecipe",
    "TorchTarget",
    "__version__",
    "audit",
    "compare",
    "harden",
    "one_run_audit",
]


def __getattr__(name: str) -> object:
    # lazily: torch, transformers, httpx and onnxruntime are optional extras
    if name in ("TorchTarget", "CausalLMTarget", "MaskedLMNeighbours", "HttpTarget", "OnnxTarget"):
        from miaudit import targets

        return getattr(targets, name)
    raise AttributeError(name)
