"""Canary exposure: the secret-sharer audit of Carlini et al. (2019), "The Secret Sharer".

Canaries are texts made from a format with random secrets — ``"the patient's record number is
####-####"`` (each ``#`` a random digit). Some are inserted into the fine-tuning data, others
are kept aside. For each canary, the model's log-perplexity (total token loss) is compared with
that of random alternatives from the same format:

- **rank**: 1 + the number of sampled alternatives the model finds more likely;
- **exposure, interpolated** (§4.2): log2|R| − log2(estimated rank in the whole space R), the
  rank in R estimated from the sampled alternatives (the best it can say is log2|R| −
  log2(|R| / (samples + 1)) = log2(samples + 1) bits);
- **exposure, extrapolated** (§4.3): −log2 of the canary's tail probability under a skew-normal
  fitted to the alternatives' log-perplexities, which reaches beyond the sample.

Inserted vs not-inserted canaries are also a membership test: the audit reports its AUC,
TPR at FPR and the ε lower bound they support, through the same metrics as every audit.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats as st

from miaudit._io import atomic_write_text
from miaudit.attacks.lm import LM_LOSS
from miaudit.audit.pipeline import audit
from miaudit.errors import InputError
from miaudit.results import AuditResult
from miaudit.signals.lm import mean_loss
from miaudit.targets.lm import CausalLMTarget


def distinct(n: int, draw: Callable[[], str], exclude: Sequence[str] = ()) -> list[str]:
    """``n`` distinct texts from repeated ``draw()``, none of them in ``exclude``."""
    seen, out = set(exclude), []
    while len(out) < n:
        text = draw()
        if text not in seen:
            seen.add(text)
            out.append(text)
    return out


@dataclass(frozen=True)
class CanaryFormat:
    """A template whose ``#`` characters are random digits."""

    template: str

    def __post_init__(self) -> None:
        if self.slots == 0:
            raise InputError(f"canary format {self.template!r} has no '#' slot for the secret")

    @property
    def slots(self) -> int:
        return self.template.count("#")

    @property
    def space(self) -> int:
        """|R|: how many distinct canaries the format can make."""
        return 10**self.slots

    def sample(self, n: int, seed: int, exclude: Sequence[str] = ()) -> list[str]:
        """``n`` distinct canaries, none of them in ``exclude``."""
        if n > self.space - len(exclude):
            raise InputError(f"the format has only {self.space:,} canaries; asked for {n:,}")
        rng = np.random.default_rng(seed)
        parts = self.template.split("#")

        def draw() -> str:
            digits = rng.integers(0, 10, self.slots).astype(str)
            return parts[0] + "".join(d + p for d, p in zip(digits, parts[1:], strict=True))

        return distinct(n, draw, exclude)


@dataclass(frozen=True)
class CanaryExposure:
    text: str
    inserted: bool
    log_perplexity: float
    rank: int
    exposure: float
    exposure_extrapolated: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "inserted": self.inserted,
            "log_perplexity": self.log_perplexity,
            "rank": self.rank,
            "exposure": self.exposure,
            "exposure_extrapolated": self.exposure_extrapolated,
        }


@dataclass(frozen=True)
class CanaryReport:
    format: str
    space: int
    alternatives: int
    canaries: tuple[CanaryExposure, ...]
    membership: AuditResult  # inserted (members) vs not-inserted (non-members) canaries

    def to_dict(self) -> dict[str, Any]:
        inserted = [c.exposure for c in self.canaries if c.inserted]
        return {
            "format": self.format,
            "space": self.space,
            "alternatives": self.alternatives,
            "max_interpolated_exposure": math.log2(self.alternatives + 1),
            "mean_exposure_inserted": float(np.mean(inserted)) if inserted else None,
            "canaries": [c.to_dict() for c in self.canaries],
            "membership": self.membership.to_dict(),
        }

    def write(self, out_dir: str | Path) -> list[Path]:
        """``canaries.json`` (every canary's rank and exposure) and the inserted-vs-kept-aside
        membership report (json, html, md) into ``out_dir``."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        path = out / "canaries.json"
        atomic_write_text(path, json.dumps(self.to_dict(), indent=2, allow_nan=False) + "\n")
        return [path, *self.membership.write(out, ["json", "html", "md"])]


def _total_loss(target: CausalLMTarget, texts: list[str]) -> np.ndarray:
    stats = target.token_stats(texts)
    return mean_loss(stats) * stats.counts()


def canary_exposure(
    target: CausalLMTarget,
    fmt: CanaryFormat | str,
    inserted: Sequence[str],
    not_inserted: Sequence[str],
    alternatives: int = 1000,
    seed: int = 0,
) -> CanaryReport:
    """Exposure of every canary against ``alternatives`` random secrets of the same format,
    and the membership test of inserted against not-inserted canaries."""
    fmt = CanaryFormat(fmt) if isinstance(fmt, str) else fmt
    if alternatives < 10:
        raise InputError(f"alternatives must be at least 10, got {alternatives}")
    pattern = re.compile(
        "^" + re.escape(fmt.template).replace("\\#", "#").replace("#", "[0-9]") + "$"
    )
    everything = [*inserted, *not_inserted]
    wrong = [c for c in everything if not pattern.match(c)]
    if wrong:
        raise InputError(f"canary {wrong[0]!r} does not follow the format {fmt.template!r}")
    if len(set(everything)) != len(everything):
        raise InputError("a canary appears twice (or is both inserted and not inserted)")
    pool = fmt.sample(alternatives, seed, exclude=everything)
    reference = np.sort(_total_loss(target, pool))
    losses = _total_loss(target, everything)
    shape = st.skewnorm.fit(reference)
    canaries = []
    for text, loss, is_in in zip(
        everything, losses, [True] * len(inserted) + [False] * len(not_inserted), strict=True
    ):
        rank = 1 + int(np.searchsorted(reference, loss, "left"))
        estimated_rank = rank / (alternatives + 1) * fmt.space
        tail = max(float(st.skewnorm.cdf(loss, *shape)), 1e-300)
        canaries.append(
            CanaryExposure(
                text,
                is_in,
                float(loss),
                rank,
                math.log2(fmt.space) - math.log2(estimated_rank),
                -math.log2(tail),
            )
        )
    membership = audit(
        target, list(inserted), list(not_inserted), attacks=[LM_LOSS.name], seed=seed
    )
    return CanaryReport(fmt.template, fmt.space, alternatives, tuple(canaries), membership)
