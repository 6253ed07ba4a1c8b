"""A key's recent numeric queries: a ring of the last ``window`` new records and the nearest
one to each new query, found once for every detector that needs it (``near-duplicates``,
``boundary-walk``).

Distances are root-mean-square differences of features in standard deviations (so one radius
serves any number of features); inputs of many values (images, embeddings) are compared by
their quantised-window fingerprints instead (shared hashes, after Blacklight).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from miaudit.monitor.detectors.base import Neighbour, decode_array, encode_array
from miaudit.monitor.lines import collinear_pair
from miaudit.monitor.settings import Settings


@dataclass
class Recent:
    """The ring: rows (standardised features, or padded fingerprints) and their labels."""

    ring: np.ndarray | None = None
    labels: np.ndarray | None = None
    filled: int = 0
    position: int = 0

    def add(
        self,
        x: np.ndarray,
        label: int,
        settings: Settings,
        prints: np.ndarray | None = None,
        rounding: float | None = None,
    ) -> Neighbour:
        """Put a new query in the ring (``prints``: its fingerprint, for high-dimensional
        inputs); its nearest earlier query, and (``rounding``: a query's rounding error, to
        look for them) two earlier queries on one line with it."""
        value = x if prints is None else _padded(prints, settings.hash_top)
        width, dtype = len(value), value.dtype
        reset = self.ring is None or self.ring.shape[1] != width or self.ring.dtype != dtype
        if reset:
            self.ring = np.zeros((settings.window, width), dtype=dtype)
            self.labels = np.full(settings.window, -1, dtype=np.int64)
            self.filled = self.position = 0
        assert self.ring is not None and self.labels is not None
        slot, full = self.position, self.filled == len(self.ring)
        nearest, near, close, partners = self._nearest(
            value, prints, slot, full, settings, rounding
        )
        nearest_label = int(self.labels[nearest]) if nearest >= 0 else -1
        self.ring[slot], self.labels[slot] = value, label
        self.position = (slot + 1) % len(self.ring)
        self.filled = min(self.filled + 1, len(self.ring))
        return Neighbour(
            slot, full, nearest, near, close, label, nearest_label, value, prints, reset,
            len(self.ring), partners,
        )  # fmt: skip

    def _nearest(
        self,
        value: np.ndarray,
        prints: np.ndarray | None,
        slot: int,
        full: bool,
        settings: Settings,
        rounding: float | None = None,
    ) -> tuple[int, bool, bool, tuple[int, int] | None]:
        """The nearest recent query (``-1``: none), whether it is a near copy, whether it
        is very close (a boundary-walk step), and two recent queries on one line with it."""
        assert self.ring is not None
        if self.filled <= full:
            return -1, False, False, None
        if prints is None:  # k-NN: root-mean-square distance in standard deviations
            gaps = self.ring[: self.filled] - value
            distances = np.einsum("ij,ij->i", gaps, gaps)
            if full:
                distances[slot] = math.inf  # the oldest entry, about to be replaced
            nearest = int(distances.argmin())
            distance = math.sqrt(float(distances[nearest]) / len(value))
            partners = None
            if rounding is not None:
                partners = collinear_pair(gaps, distances, rounding, slot if full else -1)
            near = distance < settings.near_radius
            return nearest, near, distance < settings.flip_radius, partners
        from miaudit.monitor.fingerprint import shared

        matches = shared(self.ring[: self.filled], prints)
        if full:
            matches[slot] = -1
        nearest = int(matches.argmax())
        count = int(matches[nearest])
        close = len(prints) > 0 and count >= math.ceil(0.9 * len(prints))
        return nearest, count >= settings.hash_match, close, None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"filled": self.filled, "position": self.position}
        if self.ring is not None and self.labels is not None:
            data["ring"], data["labels"] = encode_array(self.ring), encode_array(self.labels)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Recent:
        recent = cls(filled=int(data.get("filled", 0)), position=int(data.get("position", 0)))
        if "ring" in data:
            recent.ring, recent.labels = decode_array(data["ring"]), decode_array(data["labels"])
        return recent


def _padded(prints: np.ndarray, width: int) -> np.ndarray:
    """A fingerprint as a fixed-width ring row (zeros after its hashes)."""
    row = np.zeros(width, dtype=np.uint64)
    row[: min(len(prints), width)] = prints[:width]
    return row
