"""The detectors, their settings and one key's state: what each score means, updated one query
at a time in bounded memory.

Each detector is a number per key that grows with the evidence of one trace a
membership-inference campaign leaves; an alert is raised the first time it exceeds its
threshold (``miaudit.monitor.calibrate`` sets the thresholds on benign traffic). The evidence
detectors are Page's CUSUM (1954) of a log-likelihood ratio, so a score reads as "nats of
evidence that this key behaves like a campaign rather than like benign traffic", and it drifts
back to zero on benign behaviour:

- ``training-overlap``: over the key's *distinct* inputs, hits on the training index — a
  campaign's candidates are about half members (``member_rate`` 0.25 allows for dilution by
  known non-members); benign traffic hits at the benign rate ``baseline_rate``. Repeat users
  re-querying the same customers add nothing: only a first query of a record counts.
- ``calibration``: over the same sequence, switches between an index hit and a miss — an
  attacker alternating candidates with known non-members to set a threshold switches at
  rate 1/2, benign traffic at ``2·p0·(1-p0)``.
- ``near-duplicates``: bursts of close copies of one record (k-NN distance to the key's recent
  queries, after Chen, Carlini & Wagner 2019); a burst counts as evidence when its centre — the
  first query of the cluster, or any query in it — is a training record, and against it
  otherwise, so an explainer perturbing non-training records is not flagged.
- ``boundary-walk``: queries whose nearest recent query is very close and got another label
  (a bisection toward the decision boundary); the count among the last ``window`` queries.
- ``harvesting``: distinct records answered with a full probability vector within ``period``
  seconds (the score harvest LiRA and RMIA need).
- ``volume``: queries within ``period`` seconds.
- ``campaign`` (across keys, :mod:`miaudit.monitor.engine`): keys that queried the same records
  are linked; a group's score is the sum of its keys' ``training-overlap`` evidence.

Distances are root-mean-square differences of features in standard deviations (scales from
the baseline, or estimated on the fly), so one radius serves any number of features.
"""

from __future__ import annotations

import base64
import math
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from miaudit.errors import InputError

DETECTORS: dict[str, str] = {
    "training-overlap": "distinct queries hit training records at a campaign's rate",
    "calibration": "queries alternate between training records and other records",
    "near-duplicates": "bursts of close copies of training records",
    "boundary-walk": "close queries whose predicted labels differ (a walk to the boundary)",
    "harvesting": "many distinct records answered with full probability vectors",
    "volume": "more queries than benign keys send in the same period",
    "campaign": "keys that queried the same records share a campaign's evidence",
}


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
    #: Copies of one record that make a burst.
    burst_size: int = 4
    #: Seconds over which ``harvesting`` and ``volume`` count.
    period: float = 600.0
    #: The share of a campaign's distinct queries that are training records (alternative).
    member_rate: float = 0.25
    #: The share among benign distinct queries (null); the baseline's own when calibrated.
    baseline_rate: float = 0.05
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
        positive = ("window", "near_radius", "flip_radius", "burst_size", "period", "seen")
        for name in (*positive, "shared", "link_min"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise InputError(f"monitor setting {name} must be a positive number, got {value}")
        if self.similarity not in ("auto", "knn", "hash"):
            raise InputError(f"similarity must be auto, knn or hash, got {self.similarity!r}")
        if not 0 < self.hash_match <= self.hash_top:
            raise InputError(f"hash_match must be in 1..hash_top, got {self.hash_match}")
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


@dataclass
class KeyState:
    """One key's windows and scores: O(``window`` × features + ``seen``) memory."""

    queries: int = 0
    distinct: int = 0
    hits: int = 0
    switches: int = 0
    bursts: int = 0
    training_bursts: int = 0
    last_time: float = 0.0
    last_hit: bool | None = None
    scores: dict[str, float] = field(default_factory=lambda: dict.fromkeys(DETECTORS, 0.0))
    peaks: dict[str, float] = field(default_factory=lambda: dict.fromkeys(DETECTORS, 0.0))
    seen: dict[int, None] = field(default_factory=dict)
    # the ring of recent vector queries: features, label, cluster, flip flag
    ring: np.ndarray | None = None
    labels: np.ndarray | None = None
    cluster: np.ndarray | None = None
    flips: np.ndarray | None = None
    filled: int = 0
    position: int = 0
    next_cluster: int = 0
    clusters: dict[int, list[int]] = field(default_factory=dict)  # id: [size, training, burst]
    centres: dict[int, np.ndarray] = field(default_factory=dict)  # id: its first query
    # per-second counts within ``period``: [second, queries, distinct full-output records]
    seconds: deque = field(default_factory=deque)

    def set(self, detector: str, value: float) -> None:
        self.scores[detector] = value
        if value > self.peaks[detector]:
            self.peaks[detector] = value

    # ------------------------------------------------------------------ overlap, calibration
    def first_query(self, digest: int, hit: bool | None, settings: Settings) -> bool:
        """Record a query of the record ``digest``; True if the key had not queried it lately.
        A new record updates the overlap and calibration evidence (with a training index)."""
        if digest in self.seen:
            del self.seen[digest]  # refresh: most recently used last
            self.seen[digest] = None
            return False
        self.seen[digest] = None
        if len(self.seen) > settings.seen:
            del self.seen[next(iter(self.seen))]
        self.distinct += 1
        if hit is None:
            return True
        self.hits += hit
        up, down = settings.overlap_steps
        self.set(
            "training-overlap", max(0.0, self.scores["training-overlap"] + (up if hit else down))
        )
        if self.last_hit is not None:
            switched = hit != self.last_hit
            self.switches += switched
            up, down = settings.switch_steps
            score = self.scores["calibration"] + (up if switched else down)
            self.set("calibration", max(0.0, score))
        self.last_hit = hit
        return True

    # ------------------------------------------------------------------ rates
    def count(self, now: float, new_full: bool, period: float) -> None:
        """Count a query (and a newly seen record answered in full) in its second; the
        running totals are the ``volume`` and ``harvesting`` scores."""
        second = int(now)
        volume, harvest = self.scores["volume"] + 1, self.scores["harvesting"] + new_full
        if self.seconds and self.seconds[-1][0] >= second:  # this second (or logged late)
            self.seconds[-1][1] += 1
            self.seconds[-1][2] += new_full
        else:
            self.seconds.append([second, 1, int(new_full)])
        while self.seconds[0][0] <= second - period:
            _, queries, full = self.seconds.popleft()
            volume, harvest = volume - queries, harvest - full
        self.set("volume", float(volume))
        self.set("harvesting", float(harvest))

    # ------------------------------------------------------------------ near copies
    def place(
        self,
        x: np.ndarray,
        label: int,
        hit: bool,
        settings: Settings,
        prints: np.ndarray | None = None,
    ) -> None:
        """Add a vector query (standardised; or, for high-dimensional inputs, its quantised-
        window fingerprint ``prints``) to the ring; update the near-duplicate and boundary-walk
        evidence from its nearest recent query."""
        entry_value = x if prints is None else _padded(prints, settings.hash_top)
        width, dtype = len(entry_value), entry_value.dtype
        if self.ring is None or self.ring.shape[1] != width or self.ring.dtype != dtype:
            self._reset_ring(width, settings.window, dtype)
        assert self.ring is not None and self.labels is not None
        assert self.cluster is not None and self.flips is not None
        slot, full = self.position, self.filled == len(self.ring)
        nearest, near, close = self._nearest(entry_value, prints, slot, full, settings)
        if full:  # evict the oldest entry
            self._forget(int(self.cluster[slot]))
            self.set("boundary-walk", self.scores["boundary-walk"] - float(self.flips[slot]))
        labelled = label >= 0 and nearest >= 0 and self.labels[nearest] >= 0
        flipped = labelled and close and bool(self.labels[nearest] != label)
        cluster = int(self.cluster[nearest]) if nearest >= 0 else -1
        if near and self._near_centre(cluster, entry_value, prints, settings):
            entry = self.clusters[cluster]
            entry[0] += 1
            entry[1] |= hit
            if entry[0] >= settings.burst_size and not entry[2]:
                entry[2] = 1
                self._burst(bool(entry[1]), settings)
        else:
            cluster = self.next_cluster
            self.next_cluster += 1
            self.clusters[cluster] = [1, int(hit), 0]
            self.centres[cluster] = entry_value.astype(np.float32 if prints is None else dtype)
        self.ring[slot], self.labels[slot], self.cluster[slot] = entry_value, label, cluster
        self.flips[slot] = flipped
        self.set("boundary-walk", self.scores["boundary-walk"] + float(flipped))
        self.position = (slot + 1) % len(self.ring)
        self.filled = min(self.filled + 1, len(self.ring))

    def _nearest(
        self,
        value: np.ndarray,
        prints: np.ndarray | None,
        slot: int,
        full: bool,
        settings: Settings,
    ) -> tuple[int, bool, bool]:
        """The nearest recent query (``-1``: none), whether it is a near copy, and whether it
        is very close (a boundary-walk step)."""
        assert self.ring is not None
        if self.filled <= full:
            return -1, False, False
        if prints is None:  # k-NN: root-mean-square distance in standard deviations
            gaps = self.ring[: self.filled] - value
            distances = np.einsum("ij,ij->i", gaps, gaps)
            if full:
                distances[slot] = math.inf  # the oldest entry, about to be replaced
            nearest = int(np.argmin(distances))
            distance = math.sqrt(float(distances[nearest]) / len(value))
            return nearest, distance < settings.near_radius, distance < settings.flip_radius
        from miaudit.monitor.fingerprint import shared

        matches = shared(self.ring[: self.filled], prints)
        if full:
            matches[slot] = -1
        nearest = int(np.argmax(matches))
        count = int(matches[nearest])
        close = len(prints) > 0 and count >= math.ceil(0.9 * len(prints))
        return nearest, count >= settings.hash_match, close

    def _near_centre(
        self, cluster: int, value: np.ndarray, prints: np.ndarray | None, settings: Settings
    ) -> bool:
        """Whether the query is a near copy of the record that started ``cluster`` (copies
        join their record's cluster, not a chain of neighbours)."""
        centre = self.centres[cluster]
        if prints is None:
            gap = value - centre
            return math.sqrt(float(gap @ gap) / len(value)) < settings.near_radius
        from miaudit.monitor.fingerprint import shared

        return int(shared(centre[None, :], prints)[0]) >= settings.hash_match

    def _burst(self, training: bool, settings: Settings) -> None:
        self.bursts += 1
        self.training_bursts += training
        up, down = settings.burst_steps
        score = self.scores["near-duplicates"] + (up if training else down)
        self.set("near-duplicates", max(0.0, score))

    def _forget(self, cluster: int) -> None:
        entry = self.clusters.get(cluster)
        if entry is not None:
            entry[0] -= 1
            if entry[0] <= 0:
                del self.clusters[cluster]
                self.centres.pop(cluster, None)

    def _reset_ring(self, features: int, window: int, dtype: Any = np.float64) -> None:
        self.ring = np.zeros((window, features), dtype=dtype)
        self.labels = np.full(window, -1, dtype=np.int64)
        self.cluster = np.zeros(window, dtype=np.int64)
        self.flips = np.zeros(window, dtype=np.int8)
        self.filled = self.position = 0
        self.clusters.clear()
        self.centres.clear()

    # ------------------------------------------------------------------ persistence
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready copy (arrays as base64), so a restarted gateway keeps its windows."""
        data = {
            name: getattr(self, name)
            for name in (
                "queries", "distinct", "hits", "switches", "bursts", "training_bursts",
                "last_time", "last_hit", "scores", "peaks", "filled", "position", "next_cluster",
            )
        }  # fmt: skip
        data["seen"] = list(self.seen)
        data["clusters"] = {str(k): v for k, v in self.clusters.items()}
        if self.centres:
            stacked = np.stack(list(self.centres.values()))
            data["centres"] = [list(self.centres), str(stacked.dtype), list(stacked.shape),
                               _b64(stacked)]  # fmt: skip
        data["seconds"] = list(self.seconds)
        if self.ring is not None:
            for name in ("ring", "labels", "cluster", "flips"):
                array = getattr(self, name)
                data[name] = [str(array.dtype), list(array.shape), _b64(array)]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> KeyState:
        state = cls()
        for name, value in data.items():
            if name in ("ring", "labels", "cluster", "flips"):
                dtype, shape, raw = value
                array = np.frombuffer(base64.b64decode(raw), dtype=dtype).reshape(shape)
                setattr(state, name, array.copy())
            elif name == "seen":
                state.seen = dict.fromkeys(int(v) for v in value)
            elif name == "clusters":
                state.clusters = {int(k): list(v) for k, v in value.items()}
            elif name == "centres":
                ids, dtype, shape, raw = value
                stacked = np.frombuffer(base64.b64decode(raw), dtype=dtype).reshape(shape)
                state.centres = {int(k): row.copy() for k, row in zip(ids, stacked, strict=True)}
            elif name == "seconds":
                state.seconds = deque(list(v) for v in value)
            elif name in ("scores", "peaks"):
                getattr(state, name).update(value)
            else:
                setattr(state, name, value)
        return state


def _padded(prints: np.ndarray, width: int) -> np.ndarray:
    """A fingerprint as a fixed-width ring row (zeros after its hashes)."""
    row = np.zeros(width, dtype=np.uint64)
    row[: min(len(prints), width)] = prints[:width]
    return row


def _b64(array: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(array).tobytes()).decode()
