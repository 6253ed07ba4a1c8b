"""miaudit: measure how much a model leaks about its training data through membership inference.

The public API is small: :func:`audit` returns an :class:`AuditResult`; targets wrap models
(:class:`SklearnTarget`, :class:`CallableTarget`, :class:`PrecomputedTarget`, and
``TorchTarget`` with the ``torch`` extra); :class:`RecordSet` holds records.
"""

from __future__ import annotations

__version__ = "0.1.0"

from miaudit.audit import audit
from miaudit.data import RecordSet
from miaudit.errors import InputError, MissingExtraError
from miaudit.result import AuditResult
from miaudit.targets import (
    CallableTarget,
    Exposure,
    OutputsTable,
    PrecomputedTarget,
    SklearnTarget,
    Target,
)

__all__ = [
    "AuditResult",
    "CallableTarget",
    "Exposure",
    "InputError",
    "MissingExtraError",
    "OutputsTable",
    "PrecomputedTarget",
    "RecordSet",
    "SklearnTarget",
    "Target",
    "TorchTarget",
    "__version__",
    "audit",
]


def __getattr__(name: str) -> object:
    if name == "TorchTarget":  # lazily: torch is an optional extra
        from miaudit.targets.torch import TorchTarget

        return TorchTarget
    raise AttributeError(name)
