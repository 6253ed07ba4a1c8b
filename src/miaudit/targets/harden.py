"""Output hardening: a target that wraps a target and changes what a query returns.

One policy vocabulary, for the Python API (:func:`harden`), the config (``target.output_policy``)
and the CLI (``--output-policy``), combinable with commas:

``full``
    the model's own outputs (nothing changes);
``top-k:K``
    the K largest probabilities, the others returned as 0 (not renormalised, as an API that
    lists its top classes);
``round:D``
    probabilities rounded to D decimals;
``label-only``
    the predicted class and nothing else;
``noise:SIGMA``
    Gaussian noise of standard deviation SIGMA added to each probability, clipped to [0, 1] and
    renormalised; fresh noise for every query, from a seeded generator;
``temperature:T``
    probabilities of the softmax at temperature T (from logits, or from probabilities as
    ``p^(1/T)`` renormalised — the same thing).

They apply in the order temperature → noise → top-k → rounding, whatever order they are written
in; ``label-only`` and ``full`` stand alone. Every hardened target declares what it exposes (an
:class:`~miaudit.targets.exposure.Exposure`), so an audit lists the attacks that cannot run on
it and why.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from scipy.special import log_softmax, softmax

from miaudit.errors import InputError
from miaudit.targets.exposure import Exposure, OutputKind
from miaudit.targets.interface import ClassifierTarget, Outputs, ProgressCallback

__all__ = ["HardenedTarget", "OutputPolicy", "harden"]

_NAMES = ("full", "label-only", "top-k", "round", "noise", "temperature")


@dataclass(frozen=True)
class OutputPolicy:
    """What a hardened target returns (see the module's vocabulary). ``seed``: the noise's."""

    label_only: bool = False
    top_k: int | None = None
    decimals: int | None = None
    noise: float | None = None
    temperature: float | None = None
    seed: int = 0

    @classmethod
    def parse(cls, text: str, seed: int = 0) -> OutputPolicy:
        """``"top-k:3,round:2"`` → a policy; a bad item is an :class:`InputError` naming it."""
        if not isinstance(text, str) or not text.strip():
            raise InputError(f"output policy: expected e.g. 'top-k:3,round:2', got {text!r}")
        values: dict[str, Any] = {}
        items = [item.strip() for item in text.split(",")]
        for item in items:
            name, _, argument = item.partition(":")
            name = name.strip().lower()
            if name not in _NAMES:
                raise InputError(
                    f"output policy: unknown item {item!r}; use {', '.join(_NAMES)} "
                    "(e.g. 'top-k:3,round:2')"
                )
            if name in values or (name == "label-only" and "label_only" in values):
                raise InputError(f"output policy: {name!r} is given twice in {text!r}")
            if name in ("full", "label-only"):
                if argument:
                    raise InputError(f"output policy: {name!r} takes no value, got {item!r}")
                if len(items) > 1:
                    raise InputError(
                        f"output policy: {name!r} stands alone, it cannot be combined ({text!r})"
                    )
                values["label_only" if name == "label-only" else "full"] = True
                continue
            values[name] = _argument(name, argument, item)
        return cls(
            label_only=bool(values.get("label_only")),
            top_k=values.get("top-k"),
            decimals=values.get("round"),
            noise=values.get("noise"),
            temperature=values.get("temperature"),
            seed=seed,
        )

    @property
    def is_full(self) -> bool:
        return not self.label_only and all(
            x is None for x in (self.top_k, self.decimals, self.noise, self.temperature)
        )

    def __str__(self) -> str:
        if self.label_only:
            return "label-only"
        parts = [
            f"temperature:{self.temperature:g}" if self.temperature is not None else "",
            f"noise:{self.noise:g}" if self.noise is not None else "",
            f"top-k:{self.top_k}" if self.top_k is not None else "",
            f"round:{self.decimals}" if self.decimals is not None else "",
        ]
        return ",".join(p for p in parts if p) or "full"

    def exposure(self, inner: Exposure) -> Exposure:
        """What a target exposing ``inner`` exposes under this policy."""
        if self.is_full:
            return inner
        if self.label_only:
            return Exposure.LABEL
        if inner.label_only:
            raise InputError(
                f"output policy {self}: the target returns labels only; there are no scores "
                "to cut, round, blur or re-temper"
            )
        return replace(
            Exposure.PROBABILITIES,
            top_k=_tighter(inner.top_k, self.top_k),
            decimals=_tighter(inner.decimals, self.decimals),
            noise=self.noise if inner.noise is None else _combined(inner.noise, self.noise),
            temperature=self.temperature,
        )

    def apply(self, outputs: Outputs, rng: np.random.Generator) -> Outputs:
        """The outputs a query returns under this policy."""
        if self.is_full:
            return outputs
        values, n = outputs.values, outputs.n_classes
        if outputs.kind is OutputKind.LABEL:
            if self.label_only:
                return outputs
            raise InputError(f"output policy {self}: the target returns labels only")
        logp = (
            log_softmax(values, axis=1)
            if outputs.kind is OutputKind.LOGITS
            else np.log(np.clip(values, 1e-300, 1.0))
        )
        if self.label_only:
            return Outputs(OutputKind.LABEL, np.argmax(logp, axis=1), n)
        if self.temperature is not None:
            p = softmax(logp / self.temperature, axis=1)
        else:
            p = np.exp(logp) if outputs.kind is OutputKind.LOGITS else values.copy()
        if self.noise is not None:
            p = np.clip(p + rng.normal(0.0, self.noise, p.shape), 0.0, 1.0)
            total = p.sum(axis=1, keepdims=True)
            p = np.where(total > 0, p / np.where(total > 0, total, 1.0), 1.0 / n)
        if self.top_k is not None and self.top_k < n:
            cut = np.argpartition(-p, self.top_k - 1, axis=1)[:, self.top_k :]
            np.put_along_axis(p, cut, 0.0, axis=1)
        if self.decimals is not None:
            p = np.round(p, self.decimals)
        exposure = replace(
            Exposure.PROBABILITIES,
            top_k=self.top_k,
            decimals=self.decimals,
            noise=self.noise,
            temperature=self.temperature,
        )
        return Outputs(exposure, p, n)


def _argument(name: str, argument: str, item: str) -> int | float:
    try:
        value = float(argument)
    except ValueError:
        raise InputError(f"output policy: {item!r} needs a number, e.g. '{name}:2'") from None
    if name in ("top-k", "round"):
        if value != int(value) or value < (1 if name == "top-k" else 0):
            least = "1 or more" if name == "top-k" else "0 or more"
            raise InputError(f"output policy: {item!r} needs a whole number, {least}")
        return int(value)
    if not (math.isfinite(value) and value > 0):
        raise InputError(f"output policy: {item!r} needs a positive number")
    return value


def _tighter(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else min(a, b)


def _combined(a: float, b: float | None) -> float:
    return a if b is None else math.hypot(a, b)


class HardenedTarget(ClassifierTarget):
    """A classifier target whose outputs pass through an :class:`OutputPolicy`."""

    def __init__(self, inner: ClassifierTarget, policy: OutputPolicy) -> None:
        self.inner, self.policy = inner, policy
        self._exposes = policy.exposure(inner.exposes)
        self._classes = inner.classes
        self._rng = np.random.default_rng(policy.seed)
        self.kind = inner.kind  # type: ignore[misc]
        self.queryable = inner.queryable  # type: ignore[misc]
        self.remote = inner.remote  # type: ignore[misc]

    def _predict(self, features: Any) -> np.ndarray:  # pragma: no cover - outputs() overrides
        raise NotImplementedError

    def outputs(self, records: Any, progress: ProgressCallback | None = None) -> Outputs:
        return self.policy.apply(self.inner.outputs(records, progress), self._rng)

    def describe(self) -> dict[str, Any]:
        return {
            **self.inner.describe(),
            "exposes": self.exposes.value,
            "output_policy": str(self.policy),
        }


def harden(target: Any, policy: str | OutputPolicy, seed: int = 0) -> ClassifierTarget:
    """``target`` as an API applying ``policy`` would serve it, e.g.
    ``harden(model, "top-k:3,round:2")``. ``target`` is a classifier
    :class:`~miaudit.targets.Target` or anything :func:`miaudit.as_target` wraps."""
    from miaudit.targets.wrap import as_target

    inner = as_target(target)
    if not isinstance(inner, ClassifierTarget):
        raise InputError(f"output policies are for classifiers; {type(inner).__name__} is not one")
    rules = policy if isinstance(policy, OutputPolicy) else OutputPolicy.parse(policy, seed)
    if rules.is_full:
        return inner
    return HardenedTarget(inner, rules)
