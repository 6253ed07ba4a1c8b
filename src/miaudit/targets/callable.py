"""Any Python callable that maps a batch of features to probabilities, logits or labels."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from typing import Any, get_args

import numpy as np

from miaudit.errors import InputError
from miaudit.targets.exposure import ClassifierOutput
from miaudit.targets.interface import ClassifierTarget, Exposure


class CallableTarget(ClassifierTarget):
    """Wrap ``fn(features) -> outputs``; ``output`` says whether it returns ``probabilities``
    (n, k), ``logits`` (n, k) or ``label`` (n,)."""

    kind = "callable"

    def __init__(
        self,
        fn: Callable[[Any], Any],
        classes: Sequence[Any] | int,
        output: str | Exposure = Exposure.PROBABILITIES,
        batch_size: int = 4096,
    ) -> None:
        if not callable(fn):
            raise InputError(f"target function {fn!r} is not callable")
        choices: tuple[str, ...] = get_args(ClassifierOutput)
        try:
            self._exposes = Exposure.of(output)
        except ValueError:
            self._exposes = Exposure.TOKEN_LOGPROBS  # refused just below
        if self._exposes.kind.value not in choices:
            raise InputError(f"output={output!r}; use one of {list(choices)}")
        self._classes = np.arange(classes) if isinstance(classes, int) else np.asarray(classes)
        if len(self._classes) < 2:
            raise InputError("classes: a classifier needs at least two classes")
        self.fn = fn
        self.batch_size = batch_size

    @classmethod
    def from_spec(
        cls, spec: str, classes: Sequence[Any] | int, output: str, trust: bool = False
    ) -> CallableTarget:
        """Import ``package.module:function``; importing runs that module's code."""
        if not trust:
            raise InputError(
                f"refusing to import {spec!r}: importing runs its code. Set target.trust = true "
                "if you trust it"
            )
        module_name, _, attribute = spec.partition(":")
        if not module_name or not attribute:
            raise InputError(
                f"target.function must look like 'package.module:function', got {spec!r}"
            )
        try:
            fn = getattr(importlib.import_module(module_name), attribute)
        except (ImportError, AttributeError) as exc:
            raise InputError(f"cannot import {spec!r}: {exc}") from exc
        return cls(fn, classes, output)

    def _predict(self, features: Any) -> np.ndarray:
        return np.asarray(self.fn(features))
