"""miaudit: measure how much a model leaks about its training data through membership inference.

The public API is small: :func:`audit` returns an :class:`AuditResult`, configured by keywords
or an :class:`AuditOptions`; targets wrap models (:class:`SklearnTarget`,
:class:`CallableTarget`, :class:`PrecomputedTarget`, and ``TorchTarget`` / ``CausalLMTarget`` /
``HttpTarget`` / ``OnnxTarget`` with the ``torch`` / ``llm`` / ``http`` / ``onnx`` extras) — or
pass a bare estimator, module or function; :class:`RecordSet` and :class:`TextRecords` hold
records.

``import miaudit`` is light (milliseconds): each name is imported from its module when first
used (PEP 562), so the pytest plugin, ``miaudit monitor`` and ``miaudit serve`` do not pay for
SciPy's statistics or the attacks they never run; the report formats load when a result is
first rendered.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

from miaudit import _lazy
from miaudit._version import __version__
from miaudit.errors import InputError, MissingExtraError

if TYPE_CHECKING:  # what the names are, for type checkers and IDEs
    from miaudit import report as report
    from miaudit.audit import AuditOptions, LanguageModelOptions, ReferenceOptions, audit
    from miaudit.data import RecordSet, TextRecords
    from miaudit.defences import Comparison, compare, one_run_audit
    from miaudit.results import AuditResult
    from miaudit.targets import (
        CallableTarget,
        CausalLMTarget,
        Exposure,
        HttpTarget,
        MaskedLMNeighbours,
        OnnxTarget,
        OutputPolicy,
        OutputsTable,
        PrecomputedTarget,
        SklearnTarget,
        Target,
        TorchTarget,
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

#: The module each public name lives in (imported on first use); the targets that need an
#: extra (torch, transformers, httpx, onnxruntime) name it when used without it.
_HOMES = {
    **dict.fromkeys(
        ("AuditOptions", "LanguageModelOptions", "ReferenceOptions", "audit"), "miaudit.audit"
    ),
    **dict.fromkeys(("RecordSet", "TextRecords"), "miaudit.data"),
    **dict.fromkeys(("Comparison", "compare", "one_run_audit"), "miaudit.defences"),
    "AuditResult": "miaudit.results",
    **dict.fromkeys(("DP", "TorchRecipe"), "miaudit.training"),
    **dict.fromkeys(("DistillRecipe", "EnsembleRecipe"), "miaudit.training.defences"),
    **dict.fromkeys(
        (
            *("CallableTarget", "Exposure", "OutputPolicy", "OutputsTable", "PrecomputedTarget"),
            *("SklearnTarget", "Target", "harden", "TorchTarget", "CausalLMTarget"),
            *("MaskedLMNeighbours", "HttpTarget", "OnnxTarget"),
        ),
        "miaudit.targets",
    ),
}


def _load_report() -> object:
    """The report formats behind ``AuditResult.write``/``render``/``to_dict``."""
    return importlib.import_module("miaudit.report")


_lazy.PRESENTER_LOADERS.append(_load_report)


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is not None:
        value = getattr(importlib.import_module(home), name)
        globals()[name] = value  # found once; later lookups are plain attribute reads
        return value
    if not name.startswith("_"):  # a subpackage not imported yet: ``miaudit.report``
        try:
            return importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


class _Facade(types.ModuleType):
    """The package, whose ``audit`` is the function even after the subpackage
    ``miaudit.audit`` loads (the import system would bind the subpackage to the name; it stays
    in ``sys.modules`` for imports)."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _HOMES and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Facade
