"""Search lines: a key's queries that lie on one straight line, and the points worth looking up
in the training index around them.

A label-only attacker who never sends a candidate still measures it: the distance from the
candidate to the decision boundary along a few directions, by bisection (Choquette-Choo et al.
2021; Li and Zhang 2021). Every query of one such walk lies on one line through the candidate;
the walks of one candidate meet at it. Fixed radii around the queries cannot see this (the
attacker stays outside them: issue 24's ``boundary-adaptive``), but the geometry can: three
queries of a key on one line (up to the log's rounding) make a search line, and the monitor
looks up, in the proximity index, the points just beyond both of its ends (up to
``search_reach`` standard deviations, at the index's radius apart) and the points where it
meets the key's other recent lines. A training neighbourhood found there that the key never
sent itself is a *hidden centre*: the ``line-search`` detector counts them.

Benign traffic draws few lines: fresh records and explainers' Gaussian samples are collinear
by chance only (in three or more features, about ``tolerance^(d-1)`` per pair); a customer's
what-if edits of one field are a line through the customer's own record, which the key sent
(its neighbourhood is the key's own, so it is no hidden centre).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from miaudit.monitor.detectors.base import decode_array, encode_array

#: Lines need this many features (in two, any three points are nearly on a line).
MIN_FEATURES = 3
#: The nearest recent queries among which a new query's collinear pairs are sought.
NEAREST = 8
#: How far (relative to the longest side) the third of three queries may lie from the line
#: through the other two, beyond the rounding, for the three to be on one line.
TOLERANCE = 1e-3
#: A segment shorter than this many rounding errors gives no direction worth trusting.
MIN_SEGMENT = 50.0
#: Recent lines kept per key, and hidden neighbourhoods remembered per key.
MAX_LINES = 32
MAX_FOUND = 4096
MAX_CENTRES = 64


def collinear_pair(
    gaps: np.ndarray, distances: np.ndarray, rounding: float, exclude: int = -1
) -> tuple[int, int] | None:
    """Two earlier queries on one line with the new one: ``gaps`` are the ring's rows minus the
    new query, ``distances`` their squared lengths, ``rounding`` a query's Euclidean rounding
    error (standardised). ``None`` when no pair among the ``NEAREST`` nearest is.

    For a pair ``a``, ``b`` (``u``, ``v`` from the new query), the new query's distance from
    their line is ``|u×v| / |a−b|``; it must be within ``TOLERANCE`` of the longest side plus
    what the rounding can move it (``rounding · (1 + 2·longest/|a−b|)``)."""
    n, d = gaps.shape
    if d < MIN_FEATURES or n < 2:
        return None
    floor = (MIN_SEGMENT * rounding) ** 2
    if exclude >= 0:
        distances = distances.copy()
        distances[exclude] = -1.0  # never usable
    if n > NEAREST:
        rows = np.argpartition(np.where(distances > floor, distances, np.inf), NEAREST - 1)
        rows = rows[:NEAREST]
        rows = rows[distances[rows] > floor]
        rows = rows[np.isfinite(distances[rows])]
    else:
        rows = np.flatnonzero(distances > floor)
    if len(rows) < 2:
        return None
    u = gaps[rows]
    square = distances[rows]
    dots = u @ u.T
    cross2 = square[:, None] * square[None, :] - dots * dots  # |u×v|²
    base2 = square[:, None] + square[None, :] - 2.0 * dots  # |a−b|²
    longest2 = np.maximum(np.maximum(square[:, None], square[None, :]), base2)
    base = np.sqrt(np.maximum(base2, floor))
    longest = np.sqrt(longest2)
    allowed = TOLERANCE * longest + rounding * (1.0 + 2.0 * longest / base)
    excess = cross2 - (allowed * base) ** 2  # ≤ 0: on the line
    excess[base2 <= floor] = np.inf  # a and b (nearly) the same point: no line
    np.fill_diagonal(excess, np.inf)
    flat = int(np.argmin(excess))
    i, j = divmod(flat, len(rows))
    if not excess[i, j] <= 0.0:
        return None
    return int(rows[i]), int(rows[j])


@dataclass
class Lines:
    """A key's recent search lines (a ring of ``MAX_LINES``): a point on each, its unit
    direction and the span of its queries along it; and the hidden neighbourhoods (proximity
    buckets) found around them."""

    points: np.ndarray | None = None
    directions: np.ndarray | None = None
    spans: np.ndarray | None = None
    filled: int = 0
    position: int = 0
    found: dict[int, None] = field(default_factory=dict)
    #: Where the last ``MAX_CENTRES`` hidden centres were found (standardised), and how many.
    centres: np.ndarray | None = None
    placed: int = 0

    def add(
        self, z: np.ndarray, a: np.ndarray, b: np.ndarray, rounding: float, step: float,
        reach: float,
    ) -> np.ndarray:  # fmt: skip
        """Take the collinear queries ``z`` (the new one), ``a`` and ``b`` (standardised); the
        points to look up: beyond the ends a new line (or a longer span) adds, ``step`` apart,
        up to ``reach`` (Euclidean), and where a new line meets a recent one."""
        d = len(z)
        if self.points is None or self.points.shape[1] != d:
            self.points = np.zeros((MAX_LINES, d))
            self.directions = np.zeros((MAX_LINES, d))
            self.spans = np.zeros((MAX_LINES, 2))
            self.filled = self.position = 0
        assert self.directions is not None and self.spans is not None
        far = a if np.dot(a - z, a - z) >= np.dot(b - z, b - z) else b
        direction = (far - z) / math.sqrt(float(np.dot(far - z, far - z)))
        matched = self._match(z, direction, rounding)
        if matched >= 0:
            start, unit = self.points[matched], self.directions[matched]
            t = [float(np.dot(p - start, unit)) for p in (z, a, b)]
            low, high = self.spans[matched]
            new_low, new_high = min(low, *t), max(high, *t)
            self.spans[matched] = new_low, new_high
            probes = []
            if new_low < low:  # the span grew: look beyond its new end (not done yet)
                probes.append(_beyond(start, unit, new_low, -step, reach, (low - reach, low)))
            if new_high > high:
                probes.append(_beyond(start, unit, new_high, step, reach, (high, high + reach)))
            return np.concatenate(probes) if probes else np.zeros((0, d))
        t = [0.0, float(np.dot(a - z, direction)), float(np.dot(b - z, direction))]
        low, high = min(t), max(t)
        probes = [
            _beyond(z, direction, low, -step, reach),
            _beyond(z, direction, high, step, reach),
            self._crossings(z, direction, rounding),
        ]
        slot = self.position
        self.points[slot], self.directions[slot], self.spans[slot] = z, direction, (low, high)
        self.position = (slot + 1) % MAX_LINES
        self.filled = min(self.filled + 1, MAX_LINES)
        return np.concatenate(probes)

    def _match(self, z: np.ndarray, direction: np.ndarray, rounding: float) -> int:
        """The recent line ``z`` lies on in ``direction`` (``-1``: none)."""
        if not self.filled:
            return -1
        assert self.points is not None and self.directions is not None
        points, units = self.points[: self.filled], self.directions[: self.filled]
        along = units @ direction
        offset = z - points
        t = np.einsum("ij,ij->i", offset, units)
        apart2 = np.clip(np.einsum("ij,ij->i", offset, offset) - t**2, 0.0, None)
        allowed = TOLERANCE * np.maximum(np.abs(t), 1.0) + 4.0 * rounding
        fits = (1.0 - along**2 <= (4 * TOLERANCE) ** 2) & (apart2 <= allowed**2)
        found = np.flatnonzero(fits)
        return int(found[0]) if len(found) else -1

    def _crossings(self, z: np.ndarray, direction: np.ndarray, rounding: float) -> np.ndarray:
        """Where the line through ``z`` meets recent lines (closest approach within the
        tolerance): the midpoints of the closest approach."""
        if not self.filled:
            return np.zeros((0, len(z)))
        assert self.points is not None and self.directions is not None
        points, units = self.points[: self.filled], self.directions[: self.filled]
        w = z - points
        cos = units @ direction
        denom = 1.0 - cos**2
        ok = denom > (4 * TOLERANCE) ** 2  # not parallel
        if not ok.any():
            return np.zeros((0, len(z)))
        w, units, cos, denom, points = w[ok], units[ok], cos[ok], denom[ok], points[ok]
        d1 = w @ direction
        e = np.einsum("ij,ij->i", w, units)
        s = (cos * e - d1) / denom  # along the new line
        t = (e - cos * d1) / denom  # along the old one
        mine = z + s[:, None] * direction
        theirs = points + t[:, None] * units
        gap = np.sqrt(np.einsum("ij,ij->i", mine - theirs, mine - theirs))
        allowed = TOLERANCE * np.maximum(np.maximum(np.abs(s), np.abs(t)), 1.0) + 4 * rounding
        meet = gap <= allowed
        return ((mine + theirs) / 2)[meet]

    def remember(
        self, regions: list[int], key_regions: Mapping[int, None], where: np.ndarray,
        merge: float,
    ) -> bool:  # fmt: skip
        """A probe at ``where`` (standardised) found the training neighbourhood of buckets
        ``regions``: True if it is a hidden centre, new to this key: it shares no bucket with a
        neighbourhood the key sent a query into; and it shares no bucket with a centre found
        before, nor lies within ``merge`` (Euclidean) of one (probes a step apart around one
        training record often share no bucket: without the distance, one record counted as
        up to four centres)."""
        if any(r in key_regions for r in regions):
            return False
        new = not any(r in self.found for r in regions)
        for r in regions:
            self.found.pop(r, None)
            self.found[r] = None
        while len(self.found) > MAX_FOUND:
            del self.found[next(iter(self.found))]
        if self.centres is None or self.centres.shape[1] != len(where):
            self.centres = np.full((MAX_CENTRES, len(where)), np.inf)
        gaps = self.centres - where
        if float(np.einsum("ij,ij->i", gaps, gaps).min()) <= merge * merge:
            new = False
        if new:
            self.centres[self.placed % MAX_CENTRES] = where
            self.placed += 1
        return new

    def to_dict(self) -> dict[str, Any]:
        if self.points is None:
            return {}
        assert self.directions is not None and self.spans is not None
        return {
            "points": encode_array(self.points),
            "directions": encode_array(self.directions),
            "spans": encode_array(self.spans),
            "filled": self.filled,
            "position": self.position,
            "found": list(self.found),
            "placed": self.placed,
            **({"centres": encode_array(self.centres)} if self.centres is not None else {}),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> Lines:
        if not data or "points" not in data:
            return cls()
        return cls(
            decode_array(data["points"]),
            decode_array(data["directions"]),
            decode_array(data["spans"]),
            int(data.get("filled", 0)),
            int(data.get("position", 0)),
            dict.fromkeys(int(v) for v in data.get("found", [])),
            decode_array(data["centres"]) if "centres" in data else None,
            int(data.get("placed", 0)),
        )


def _beyond(
    start: np.ndarray, unit: np.ndarray, end: float, step: float, reach: float,
    looked: tuple[float, float] | None = None,
) -> np.ndarray:  # fmt: skip
    """Points past ``end`` along the line (``step`` apart, its sign the way out), up to
    ``reach`` beyond it, leaving out the stretch ``looked`` at already."""
    count = int(reach // abs(step)) if step else 0
    t = end + step * np.arange(1, count + 1)
    if looked is not None:
        t = t[(t < looked[0]) | (t > looked[1])]
    return start + t[:, None] * unit
