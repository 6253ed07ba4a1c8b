"""What a model's interface reveals per query, as a typed value.

:class:`OutputKind` is what the arrays hold (logits, probabilities, a label, token
log-probabilities); :class:`Exposure` is what an interface returns: a kind, optionally cut to
its ``top_k`` classes and rounded to ``decimals``. Attacks and findings ask it questions
(``reveals_scores``, ``label_only``) instead of reading its text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import ClassVar, Literal


class OutputKind(str, Enum):
    """What an array of model outputs holds."""

    LOGITS = "logits"
    PROBABILITIES = "probabilities"
    LABEL = "label"
    TOKEN_LOGPROBS = "token log-probabilities"


#: What a classifier's interface may return: the ``output`` of a target file, an endpoint or a
#: function (CLI choices, the config schema, docs). Each is an :class:`OutputKind` value.
ClassifierOutput = Literal["probabilities", "logits", "label"]


@dataclass(frozen=True)
class Exposure:
    """What one query returns: ``kind``, restricted to the ``top_k`` most likely classes
    (``None``: all), rounded to ``decimals`` (``None``: full precision), with Gaussian ``noise``
    of that standard deviation added (``None``: none), from a softmax at ``temperature``
    (``None``: the model's own)."""

    kind: OutputKind
    top_k: int | None = None
    decimals: int | None = None
    noise: float | None = None
    temperature: float | None = None

    LOGITS: ClassVar[Exposure]
    PROBABILITIES: ClassVar[Exposure]
    LABEL: ClassVar[Exposure]
    TOKEN_LOGPROBS: ClassVar[Exposure]

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", OutputKind(self.kind))
        if self.top_k is not None and self.top_k < 1:
            raise ValueError(f"top_k must be at least 1, got {self.top_k}")
        if self.decimals is not None and self.decimals < 0:
            raise ValueError(f"decimals must be 0 or more, got {self.decimals}")
        if self.noise is not None and not self.noise > 0:
            raise ValueError(f"noise must be a positive standard deviation, got {self.noise}")
        if self.temperature is not None and not self.temperature > 0:
            raise ValueError(f"temperature must be positive, got {self.temperature}")
        scoreless = (self.top_k, self.decimals, self.noise, self.temperature)
        if self.kind is OutputKind.LABEL and any(x is not None for x in scoreless):
            raise ValueError("a label-only exposure has no top-k, rounding, noise or temperature")

    @property
    def reveals_scores(self) -> bool:
        """Whether a query returns any score (probabilities, logits, log-probabilities)."""
        return self.kind is not OutputKind.LABEL

    @property
    def label_only(self) -> bool:
        return self.kind is OutputKind.LABEL

    @property
    def complete(self) -> bool:
        """Every class's score at full precision, without noise (a temperature keeps every
        score: it is a known, invertible transformation)."""
        cut = (self.top_k, self.decimals, self.noise)
        return self.reveals_scores and all(x is None for x in cut)

    @property
    def partial(self) -> bool:
        """Scores cut to the top classes or rounded: rows need not sum to one."""
        return self.top_k is not None or self.decimals is not None

    @property
    def exposes_confidence(self) -> bool:
        return self.reveals_scores

    @property
    def value(self) -> str:
        """The text reports show: ``logits``, ``top-3 probabilities rounded to 2 decimals``."""
        text = self.kind.value
        if self.top_k is not None:
            text = f"top-{self.top_k} {text}"
        if self.temperature is not None:
            text += f" at temperature {self.temperature:g}"
        if self.noise is not None:
            text += f" with Gaussian noise (σ = {self.noise:g})"
        if self.decimals is not None:
            text += f" rounded to {self.decimals} decimal{'' if self.decimals == 1 else 's'}"
        return text

    def __str__(self) -> str:
        return self.value

    @classmethod
    def of(cls, kind: str | OutputKind | Exposure) -> Exposure:
        """The full exposure of one output kind (``"logits"`` → :attr:`Exposure.LOGITS`)."""
        if isinstance(kind, Exposure):
            return kind
        try:
            return _FULL[OutputKind(kind)]
        except ValueError:
            raise ValueError(
                f"unknown output kind {kind!r}; use {', '.join(k.value for k in OutputKind)}"
            ) from None

    @classmethod
    def parse(cls, text: str) -> Exposure:
        """The exposure a report's text describes (the inverse of :attr:`value`)."""
        found = _TEXT.fullmatch(text.strip())
        if found is None:
            raise ValueError(f"not an exposure description: {text!r}")
        top_k, kind, temperature, noise, decimals = found.groups()
        return cls(
            OutputKind(kind),
            int(top_k) if top_k else None,
            int(decimals) if decimals else None,
            float(noise) if noise else None,
            float(temperature) if temperature else None,
        )


_TEXT = re.compile(
    r"(?:top-(\d+) )?(" + "|".join(re.escape(k.value) for k in OutputKind) + r")"
    r"(?: at temperature ([0-9.e+-]+))?"
    r"(?: with Gaussian noise \(σ = ([0-9.e+-]+)\))?"
    r"(?: rounded to (\d+) decimals?)?"
)

Exposure.LOGITS = Exposure(OutputKind.LOGITS)
Exposure.PROBABILITIES = Exposure(OutputKind.PROBABILITIES)
Exposure.LABEL = Exposure(OutputKind.LABEL)
Exposure.TOKEN_LOGPROBS = Exposure(OutputKind.TOKEN_LOGPROBS)

_FULL = {
    e.kind: e
    for e in (Exposure.LOGITS, Exposure.PROBABILITIES, Exposure.LABEL, Exposure.TOKEN_LOGPROBS)
}
