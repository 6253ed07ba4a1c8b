"""The monitor's settings: how the engine and the detectors look at a key's traffic.

One frozen dataclass, saved in every calibration file (``miaudit.monitorcalibration/1``), so
the offline monitor and the gateway use the same numbers. A detector reads the fields it needs;
one with parameters of its own may also keep them as class attributes of its module.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

from miaudit.errors import InputError

#: What the gateway does to a key the monitor flags (``miaudit serve --on-alert``):
#: ``label-only`` answers it with labels whatever its policy, ``throttle`` slows it, ``block``
#: refuses it, ``none`` only alerts.
AlertAction = Literal["label-only", "throttle", "block", "none"]

#: ``similarity = "auto"`` fingerprints inputs of more values than this (images, embeddings).
HASH_ABOVE = 64


@dataclass(frozen=True)
class Settings:
    """How the detectors look at a key's traffic (the defaults are documented in
    docs/monitor.md and used by the bench)."""

    #: Recent queries per key kept for the near-duplicate and boundary-walk detectors.
    window: int = 256
    #: A query within this RMS distance (standard deviations) of a recent one is a near copy.
    near_radius: float = 0.3
    #: ... within this one, with another label, a boundary-walk step.
    flip_radius: float = 0.1
    #: How far beyond the ends of a search line (RMS standard deviations) the training index
    #: is looked up for the centre the search hides (:mod:`miaudit.monitor.lines`).
    search_reach: float = 0.5
    #: Copies of one record that make a burst.
    burst_size: int = 4
    #: Seconds over which ``harvesting`` and ``volume`` count.
    period: float = 600.0
    #: The share of a campaign's distinct queries that are training records (alternative).
    member_rate: float = 0.25
    #: The share among benign distinct queries (null); the baseline's own when calibrated.
    baseline_rate: float = 0.05
    #: The highest share an ordinary benign key shows (``p*`` of ``training-overlap``); the
    #: baseline's 90th percentile of its keys' shares when calibrated.
    overlap_rate: float = 0.05
    #: The share of benign bursts centred on a training record (null); the baseline's own.
    burst_rate: float = 0.02
    #: Distinct records remembered per key (older ones may count again as new).
    seen: int = 1024
    #: Distinct records remembered across keys, to link keys that share them.
    shared: int = 200_000
    #: Shared distinct records that link two keys into one campaign group ...
    link_min: int = 3
    #: ... and the share of the smaller key's distinct records they must be.
    link_share: float = 0.1
    #: Decimal places numbers are rounded to before two inputs are "the same record".
    decimals: int = 4
    #: How near copies are found: ``knn`` (distance), ``hash`` (quantised-window fingerprints,
    #: after Blacklight) or ``auto`` (``hash`` above ``HASH_ABOVE`` values per input).
    similarity: str = "auto"
    #: Fingerprints: quantisation step (standard deviations), window, hashes kept, and how
    #: many shared hashes make a near copy (Blacklight's defaults for images: 20, 50, 25).
    hash_step: float = 0.5
    hash_window: int = 20
    hash_top: int = 50
    hash_match: int = 25

    def __post_init__(self) -> None:
        positive = (
            "window",
            "near_radius",
            "flip_radius",
            "search_reach",
            "burst_size",
            "period",
            "seen",
        )
        for name in (*positive, "shared", "link_min"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise InputError(f"monitor setting {name} must be a positive number, got {value}")
        if not (isinstance(self.decimals, int) and 0 <= self.decimals <= 12):
            raise InputError(f"monitor setting decimals must be 0..12, got {self.decimals!r}")
        if self.similarity not in ("auto", "knn", "hash"):
            raise InputError(f"similarity must be auto, knn or hash, got {self.similarity!r}")
        if not 0 < self.hash_match <= self.hash_top:
            raise InputError(f"hash_match must be in 1..hash_top, got {self.hash_match}")
        if not (isinstance(self.overlap_rate, int | float) and 0 < self.overlap_rate < 1):
            raise InputError(
                f"monitor setting overlap_rate must be in (0, 1), got {self.overlap_rate}"
            )
        for name in ("baseline_rate", "burst_rate"):
            if not 0 < getattr(self, name) < self.member_rate < 1:
                raise InputError(
                    f"monitor settings need 0 < {name} < member_rate < 1, got "
                    f"{getattr(self, name)} and {self.member_rate}"
                )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def hashing(self, values: int) -> bool:
        """Whether inputs of ``values`` numbers are compared by fingerprint."""
        return self.similarity == "hash" or (self.similarity == "auto" and values > HASH_ABOVE)

    @property
    def overlap_steps(self) -> tuple[float, float]:
        """CUSUM increments for an index hit and a miss (log-likelihood ratios)."""
        p0, p1 = self.baseline_rate, self.member_rate
        return math.log(p1 / p0), math.log((1 - p1) / (1 - p0))

    @property
    def burst_steps(self) -> tuple[float, float]:
        """CUSUM increments for a burst around a training record and around another."""
        p0, p1 = self.burst_rate, self.member_rate
        return math.log(p1 / p0), math.log((1 - p1) / (1 - p0))

    @property
    def switch_steps(self) -> tuple[float, float]:
        """CUSUM increments for a hit/miss switch and for no switch."""
        t0 = 2 * self.baseline_rate * (1 - self.baseline_rate)
        return math.log(0.5 / t0), math.log(0.5 / (1 - t0))
