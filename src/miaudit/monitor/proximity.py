"""Membership by proximity: a keyed locality-sensitive index of numeric training records, so a
query that is a *near* copy of a training record (a candidate nudged before it is sent) still
counts as a training hit, without the monitor holding the training data.

Records are standardised (each feature by the training records' mean and standard deviation,
stored in the index), then hashed by ``tables`` independent hash functions of ``projections``
quantised random projections each (E2LSH, Datar et al. 2004): ``floor((a·z + b) / width)``
with ``a`` Gaussian and ``b`` uniform in ``[0, width)``. Two records at Euclidean distance
``c`` share a projection's bucket with probability

    p(c) = 1 - 2 Φ(-w/c) - 2 c / (√(2π) w) · (1 - exp(-w² / 2c²)),

a table's bucket with ``p(c)^projections``, and at least one of the tables' buckets with
``1 - (1 - p(c)^projections)^tables``: near copies hit, records far from every training record
almost never do. The radius is a setting in standard deviations (root-mean-square over the
features, as the monitor's other radii): ``width`` is ``WIDTH_PER_RADIUS`` radii, scaled to the
Euclidean distance of the features.

Keyed: the projections are drawn from a seed derived from the secret, and each bucket is kept
only as ``BLAKE2b(key=secret, table ‖ bucket)`` truncated to 8 bytes. Without the secret the
file says which buckets are occupied under hash functions nobody can compute; with it one can
test candidates (as with the exact index), and learn which stored buckets two candidates
share. The file does reveal, in the clear, the features' count, means and standard deviations
over the training records (what the standardisation needs; hence at least ``MIN_RECORDS``
records), and how many distinct buckets the records fill: fewer than ``tables`` × records tells
that some records are near copies of each other (duplicates, tight clusters).
"""

from __future__ import annotations

import hashlib
import hmac
import math
import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np

from miaudit.errors import InputError

#: Bucket width per radius (in the features' Euclidean scale); see :func:`collision`.
WIDTH_PER_RADIUS = 4.0
_SEED_LABEL = b"miaudit proximity projections"
#: Fewer records would be revealed by the stored means and standard deviations themselves.
MIN_RECORDS = 20
MIN_SECRET_BYTES = 16
_BUCKET_BYTES = 8


@dataclass(frozen=True)
class ProximityParams:
    """How near a query must be to a training record to count as it, and the hash shape."""

    #: Root-mean-square distance over the standardised features (standard deviations).
    radius: float = 0.1
    #: Independent hash tables (a near copy must share a bucket in one of them).
    tables: int = 24
    #: Quantised projections per table.
    projections: int = 10

    def __post_init__(self) -> None:
        if not (isinstance(self.radius, numbers.Real) and 0 < self.radius <= 10):
            raise InputError(
                f"proximity radius must be in (0, 10] standard deviations, got {self.radius}"
            )
        for name, top in (("tables", 256), ("projections", 64)):
            value = getattr(self, name)
            if not (isinstance(value, numbers.Integral) and 1 <= value <= top):
                raise InputError(
                    f"proximity {name} must be an integer in [1, {top}], got {value!r}"
                )

    def width(self, features: int) -> float:
        return WIDTH_PER_RADIUS * self.radius * math.sqrt(features)


def collision(distance: float | np.ndarray, width: float) -> np.ndarray:
    """``p(c)``: the probability that one quantised Gaussian projection of width ``width`` puts
    two points at Euclidean distance ``distance`` in the same bucket."""
    from scipy import stats  # here: the monitor's hot path never needs it

    c = np.maximum(np.asarray(distance, dtype=np.float64), 1e-300)
    r = width / c
    return 1 - 2 * stats.norm.cdf(-r) - 2 / (math.sqrt(2 * math.pi) * r) * (1 - np.exp(-(r**2) / 2))


def hit_probability(rms: float | np.ndarray, params: ProximityParams, features: int) -> np.ndarray:
    """The chance that a query at root-mean-square distance ``rms`` (standard deviations) of
    one training record shares a bucket with it in at least one table."""
    p = collision(np.asarray(rms, dtype=np.float64) * math.sqrt(features), params.width(features))
    return 1 - (1 - p**params.projections) ** params.tables


class ProximityIndex:
    """The keyed LSH tables of a set of numeric records (see the module's text)."""

    def __init__(
        self,
        params: ProximityParams,
        mean: np.ndarray,
        scale: np.ndarray,
        buckets: np.ndarray,
        secret: bytes,
    ) -> None:
        if not isinstance(secret, bytes) or len(secret) < MIN_SECRET_BYTES:
            raise InputError(f"the proximity index needs a secret of {MIN_SECRET_BYTES}+ bytes")
        self.params, self._secret = params, secret
        self.mean = np.asarray(mean, dtype=np.float64)
        self.scale = np.asarray(scale, dtype=np.float64)
        if (
            self.mean.ndim != 1
            or self.mean.shape != self.scale.shape
            or len(self.mean) == 0
            or not np.isfinite(self.mean).all()
            or not (np.isfinite(self.scale) & (self.scale > 0)).all()
        ):
            raise InputError(
                "a broken proximity index: the features' means and scales must be finite, of "
                "one length, the scales positive (build the index again)"
            )
        self.features = len(self.mean)
        #: every (table, bucket) key of the records, sorted, as unsigned 64-bit integers
        self.buckets = np.unique(np.asarray(buckets, dtype=np.uint64))
        width = params.width(self.features)
        rng = np.random.default_rng(_seed(secret))
        n = params.tables * params.projections
        self._a = rng.normal(size=(self.features, n))
        self._b = rng.uniform(0.0, width, size=n)
        self._width = width
        keyed = hashlib.blake2b(digest_size=_BUCKET_BYTES, key=secret[:64])
        self._tables = []
        for t in range(params.tables):
            table = keyed.copy()
            table.update(t.to_bytes(2, "little"))
            self._tables.append(table)
        #: The share of fresh records from the training distribution expected to hit (a false
        #: hit), estimated when the index is built: half the records against the other half,
        #: extrapolated to all of them. ``None`` when unknown (an index saved without it).
        self.heldout_hit_rate: float | None = None

    @classmethod
    def build(
        cls, records: Any, secret: bytes, params: ProximityParams | None = None
    ) -> ProximityIndex:
        params = params or ProximityParams()
        x = _matrix(records, one_record=False)
        if len(x) < MIN_RECORDS:
            raise InputError(
                f"a proximity index needs at least {MIN_RECORDS} records (the features' means "
                f"and standard deviations it stores would reveal fewer), got {len(x)}"
            )
        with np.errstate(over="ignore", invalid="ignore"):  # overflow: refused as not finite
            mean = x.mean(axis=0)
            scale = x.std(axis=0)
        scale = np.where(scale > 0, scale, 1.0)  # a constant feature: any unit will do
        empty = cls(params, mean, scale, np.zeros(0, dtype=np.uint64), secret)
        keys = np.concatenate([empty.keys(chunk) for chunk in _chunks(x)])
        made = cls(params, mean, scale, keys.ravel(), secret)
        made.heldout_hit_rate = _heldout_hits(keys)
        return made

    def keys(self, records: Any) -> np.ndarray:
        """(N, tables) bucket keys of ``records`` (N × features)."""
        x = _matrix(records)
        if x.shape[1] != self.features:
            raise InputError(f"records of {x.shape[1]} values, but the index has {self.features}")
        cells = self._cells(x)
        if cells is None:
            raise InputError(
                "a record is too far from the training records' range to look up (values "
                "beyond what the index can place)"
            )
        return self._hash(cells).reshape(len(x), -1)

    def matched_one(self, values: np.ndarray) -> list[int]:
        """The bucket keys of one finite record of the index's width that hold a training
        record (empty: not near one), as Python integers — the monitor's hot path, so no
        checks beyond the range. Two near copies of one training record share some of them:
        the monitor tells a new training neighbourhood from another look at one by them."""
        cells = self._cells(values[None, :])
        if cells is None:
            return []  # beyond any bucket: never one of the records'
        found = self._hash(cells)
        return [int(k) for k in found[self._stored(found)]]

    def matched_many(self, values: np.ndarray) -> list[list[int]]:
        """:meth:`matched_one` for each row of a finite matrix (the monitor's search-line
        probes), hashed in one pass."""
        if len(values) == 0:
            return []
        cells = self._cells(values)
        if cells is None:  # a row beyond any bucket: one at a time
            return [self.matched_one(row) for row in values]
        found = self._hash(cells).reshape(len(values), -1)
        stored = self._stored(found)
        return [[int(k) for k in row[hit]] for row, hit in zip(found, stored, strict=True)]

    def matches(self, records: Any) -> np.ndarray:
        """(N, tables) booleans: which of each record's buckets hold a training record."""
        return self._stored(self.keys(records))

    def _cells(self, x: np.ndarray) -> np.ndarray | None:
        """The quantised projections of standardised ``x`` (N × tables·projections), or
        ``None`` when one lies beyond any bucket (never one of the records')."""
        with np.errstate(over="ignore", invalid="ignore"):
            cells = np.floor(((x - self.mean) / self.scale @ self._a + self._b) / self._width)
        return cells if np.abs(cells).max() < 2.0**62 else None  # NaN fails too

    def _hash(self, cells: np.ndarray) -> np.ndarray:
        """The bucket keys of ``cells``, flat, row by row: one keyed BLAKE2b per (record,
        table) over the table's number and its cells as little-endian int64 bytes, cut per
        table from one buffer (each table's hasher holds its key and number already)."""
        raw = np.ascontiguousarray(cells.astype("<i8")).tobytes()
        step = 8 * self.params.projections
        digests = []
        for at, table in zip(range(0, len(raw), step), self._tables * len(cells), strict=True):
            one = table.copy()
            one.update(raw[at : at + step])
            digests.append(one.digest())
        return np.frombuffer(b"".join(digests), dtype="<u8").astype(np.uint64)

    def _stored(self, found: np.ndarray) -> np.ndarray:
        """Which bucket keys in ``found`` (any shape) hold a training record."""
        if len(self.buckets) == 0:
            return np.zeros(found.shape, dtype=bool)
        where = np.minimum(self.buckets.searchsorted(found), len(self.buckets) - 1)
        return self.buckets[where] == found

    def near(self, records: Any) -> np.ndarray:
        """Whether each record is, by the index, a near copy of a training record."""
        return self.matches(records).any(axis=1)

    def arrays(self) -> dict[str, np.ndarray]:
        """What the index file stores of it."""
        return {"proximity_buckets": self.buckets, "proximity_mean": self.mean,
                "proximity_scale": self.scale}  # fmt: skip

    def meta(self) -> dict[str, Any]:
        return {
            "radius": self.params.radius,
            "tables": self.params.tables,
            "projections": self.params.projections,
            "width_per_radius": WIDTH_PER_RADIUS,
            "features": self.features,
            "heldout_hit_rate": self.heldout_hit_rate,
        }

    @classmethod
    def from_saved(cls, meta: dict[str, Any], arrays: Any, secret: bytes) -> ProximityIndex:
        try:
            params = ProximityParams(
                float(meta["radius"]), int(meta["tables"]), int(meta["projections"])
            )
            if float(meta.get("width_per_radius", WIDTH_PER_RADIUS)) != WIDTH_PER_RADIUS:
                raise InputError(
                    "the index's proximity tables were made by another miaudit version "
                    "(another bucket width): build the index again with 'miaudit monitor index'"
                )
            index = cls(params, arrays["proximity_mean"], arrays["proximity_scale"],
                        arrays["proximity_buckets"], secret)  # fmt: skip
            features = int(meta.get("features", index.features))
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"a broken proximity index ({exc})") from None
        if features != index.features:
            raise InputError("a broken proximity index: its feature count does not match")
        rate = meta.get("heldout_hit_rate")
        index.heldout_hit_rate = float(rate) if isinstance(rate, int | float) else None
        return index


def _heldout_hits(keys: np.ndarray) -> float:
    """The false-hit rate fresh records from the training distribution should expect: each
    record of a random half looked up among the other half's buckets (a share ``r``), taken to
    all the records as ``1 - (1 - r)²`` (twice as many records to fall near)."""
    order = np.random.default_rng(0).permutation(len(keys))
    half = len(keys) // 2
    stored = np.unique(keys[order[:half]].ravel())
    probe = keys[order[half:]]
    where = np.minimum(np.searchsorted(stored, probe), len(stored) - 1)
    r = float((stored[where] == probe).any(axis=1).mean())
    return 1 - (1 - r) ** 2


def _seed(secret: bytes) -> int:
    return int.from_bytes(hmac.new(secret, _SEED_LABEL, hashlib.sha256).digest()[:8], "little")


def _matrix(records: Any, one_record: bool = True) -> np.ndarray:
    """Records as an (N, features) matrix; a 1-D input is one record where ``one_record``."""
    try:
        x = np.asarray(records, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError("a proximity index takes numeric records of one length") from None
    if x.ndim == 1 and one_record:
        x = x[None, :]
    if x.ndim != 2 or x.shape[1] == 0 or not np.isfinite(x).all():
        raise InputError(
            "a proximity index takes finite numeric records of one length, at least one value "
            "each, as rows of a matrix"
        )
    return x


def _chunks(x: np.ndarray, size: int = 4096) -> list[np.ndarray]:
    return [x[i : i + size] for i in range(0, len(x), size)]
