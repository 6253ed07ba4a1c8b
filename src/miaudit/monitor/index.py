"""A keyed-hash index of the training records, so the monitor can tell which queries hit the
training set without holding the training data.

Each record is canonicalised — numbers rounded to ``decimals`` places (so a value read back
from a CSV, or nudged by float noise, lands on the same point), text NFKC-normalised,
case-folded and with whitespace collapsed — and the index keeps only
``HMAC-SHA256(secret, canonical form)``, truncated to 16 bytes. Without the secret the file
reveals nothing about the records; with it, one can only test candidates. The secret is never
stored: the file carries an HMAC of a fixed label under it, so a wrong secret is refused
instead of silently matching nothing.

Numeric records are also indexed by proximity (:mod:`miaudit.monitor.proximity`): keyed
locality-sensitive buckets, so a query within ``radius`` standard deviations of a training
record (a candidate nudged before it is sent) is a hit too, and the exact hash no longer has to
match digit for digit. Text stays exact.

File format ``miaudit.trainindex/2``: an NPZ (no pickle) holding ``digests`` (N × 16 bytes,
sorted), ``meta`` (JSON: format, decimals, count, secret check, ``proximity``: the radius and
the hash shape, or ``null``) and, for numeric records, the proximity tables' arrays. A
``miaudit.trainindex/1`` file (exact hashes only) still loads.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from miaudit._io import atomic_path
from miaudit.errors import InputError
from miaudit.monitor.proximity import MIN_RECORDS, ProximityIndex, ProximityParams

FORMAT = "miaudit.trainindex/2"
#: The formats :meth:`TrainingIndex.load` reads (/1: exact hashes only).
FORMATS = ("miaudit.trainindex/1", FORMAT)
#: Records whose proximity buckets the index remembers (by digest), for the monitor.
CACHE_RECORDS = 1 << 16
#: The default proximity radius (standard deviations, root-mean-square over the features),
#: chosen from the recall and false-hit curves of ``bench/monitor_index.py``.
DEFAULT_RADIUS = 0.1
DIGEST_BYTES = 16
SECRET_ENV = "MIAUDIT_INDEX_SECRET"
MIN_SECRET_BYTES = 16
_CHECK_LABEL = b"miaudit training index secret check"
#: ``str.format`` of a number to ``decimals`` places, for each ``decimals`` an index may use
#: (the monitor's hot path: a bound method per value is the cheapest way).
_FORMATS = {d: f"{{:.{d}f}}".format for d in range(13)}


def canonical(record: Sequence[float] | str, decimals: int) -> bytes:
    """The form two near-identical records share: rounded numbers or normalised text."""
    if isinstance(record, str):
        text = unicodedata.normalize("NFKC", record).casefold()
        return b"t:" + re.sub(r"\s+", " ", text).strip().encode()
    values = np.asarray(record, dtype=np.float64).round(decimals) + 0.0  # -0.0 → 0.0
    if not np.isfinite(values).all():
        raise InputError("a record to index has a missing or infinite value")
    return b"n:" + ",".join(map(_FORMATS[decimals], values.tolist())).encode()


def load_secret(secret_file: str | Path | None = None) -> bytes:
    """The index secret: from ``secret_file``, else the ``MIAUDIT_INDEX_SECRET`` variable."""
    if secret_file is not None:
        try:
            secret = Path(secret_file).read_bytes().strip()
        except OSError as exc:
            raise InputError(f"cannot read the secret file {secret_file}: {exc.strerror}") from None
    else:
        secret = os.environ.get(SECRET_ENV, "").encode()
    if len(secret) < MIN_SECRET_BYTES:
        raise InputError(
            f"the index needs a secret of at least {MIN_SECRET_BYTES} bytes: set "
            f"{SECRET_ENV} or pass --secret-file (e.g. made with: openssl rand -hex 32)"
        )
    return secret


class TrainingIndex:
    """Keyed hashes of the training records; ``contains`` answers for query inputs: an exact
    match (within rounding), or for numbers a near copy (within the proximity radius)."""

    def __init__(
        self,
        digests: np.ndarray,
        secret: bytes,
        decimals: int,
        proximity: ProximityIndex | None = None,
    ) -> None:
        self._secret, self.decimals = secret, decimals
        self._digests = {bytes(row) for row in np.asarray(digests, dtype=np.uint8)}
        #: The proximity tables of numeric records (``None``: exact hashes only).
        self.proximity = proximity
        self._cache: dict[int, tuple[int, ...]] = {}

    def __len__(self) -> int:
        return len(self._digests)

    @property
    def radius(self) -> float | None:
        """The proximity radius in standard deviations (``None``: exact matches only)."""
        return None if self.proximity is None else self.proximity.params.radius

    def digest(self, record: Sequence[float] | str) -> bytes:
        canon = canonical(record, self.decimals)
        return hmac.digest(self._secret, canon, "sha256")[:DIGEST_BYTES]

    def contains_canonical(self, canon: bytes) -> bool:
        """Whether the record of canonical form ``canon`` (see :func:`canonical`) is indexed
        exactly (no proximity)."""
        return hmac.digest(self._secret, canon, "sha256")[:DIGEST_BYTES] in self._digests

    def contains_exact(self, record: Sequence[float] | str | None) -> bool:
        """Whether ``record`` is, within rounding, a training record."""
        if record is None:
            return False
        try:
            return self.digest(record) in self._digests
        except (InputError, OverflowError, TypeError, ValueError):  # not a record
            return False

    def near(self, record: Any) -> bool:
        """Whether a numeric ``record`` is within the proximity radius of a training record
        (``False`` without proximity tables, for text, or another number of values)."""
        return bool(self.regions(record))

    def regions(self, record: Any, digest: int | None = None) -> list[int]:
        """The proximity buckets of a numeric ``record`` that hold a training record (empty:
        not near one, or no proximity tables): near copies of one training record share some,
        so a key's second look at one neighbourhood can be told from a new one. ``digest``
        (the record's 64-bit digest, as the monitor has it) lets a record seen lately, by any
        key, be answered from a bounded cache."""
        if digest is not None and digest in self._cache:
            return list(self._cache[digest])
        if not self._near_candidate(record):
            return []
        assert self.proximity is not None
        found = self.proximity.matched_one(np.asarray(record, dtype=np.float64))
        if digest is not None:
            if len(self._cache) >= CACHE_RECORDS:  # forget the older half
                for old in list(self._cache)[: CACHE_RECORDS // 2]:
                    del self._cache[old]
            self._cache[digest] = tuple(found)
        return found

    def _near_candidate(self, record: Any) -> bool:
        if self.proximity is None or record is None or isinstance(record, str):
            return False
        try:
            values = np.asarray(record, dtype=np.float64)
        except (TypeError, ValueError, OverflowError):
            return False
        return (
            values.ndim == 1
            and len(values) == self.proximity.features
            and bool(np.isfinite(values).all())
        )

    def contains(self, record: Sequence[float] | str | None) -> bool:
        """Whether ``record`` is a training record: exactly (within rounding), or a near copy
        of one (numbers, within the proximity radius)."""
        return self.contains_exact(record) or self.near(record)

    @classmethod
    def build(
        cls,
        records: Iterable[Sequence[float] | str],
        secret: bytes,
        decimals: int = 4,
        radius: float | None = DEFAULT_RADIUS,
    ) -> TrainingIndex:
        """The index of ``records``; numeric ones (at least ``MIN_RECORDS``, all of one
        length) also get proximity tables of ``radius`` standard deviations (``None`` or 0:
        exact hashes only)."""
        if not 0 <= decimals <= 12:
            raise InputError(f"decimals must be between 0 and 12, got {decimals}")
        rows = list(records)
        index = cls(np.zeros((0, DIGEST_BYTES), dtype=np.uint8), secret, decimals)
        index._digests = {index.digest(r) for r in rows}
        if radius:
            params = ProximityParams(radius=radius)
            numeric = [r for r in rows if not isinstance(r, str)]
            if len(numeric) >= MIN_RECORDS and len(numeric) == len(rows):
                index.proximity = ProximityIndex.build(numeric, secret, params)
        return index

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        digests = np.frombuffer(b"".join(sorted(self._digests)), dtype=np.uint8)
        meta = {
            "format": FORMAT,
            "decimals": self.decimals,
            "count": len(self._digests),
            "check": _check(self._secret),
            "proximity": None if self.proximity is None else self.proximity.meta(),
        }
        arrays = {} if self.proximity is None else self.proximity.arrays()
        with atomic_path(path, suffix=".npz") as tmp:  # np.savez adds .npz to other names
            np.savez(
                tmp,
                digests=digests.reshape(-1, DIGEST_BYTES),
                meta=np.array(json.dumps(meta)),
                **arrays,
            )
        return path

    @classmethod
    def load(cls, path: str | Path, secret: bytes) -> TrainingIndex:
        try:
            with open(path, "rb") as handle:
                is_zip = handle.read(4) == b"PK\x03\x04"
        except OSError as exc:
            raise InputError(f"{path} is not a miaudit training index ({exc.strerror})") from None
        if not is_zip:  # np.load would offer to unpickle it: never
            raise InputError(
                f"{path} is not a miaudit training index (not an NPZ archive): build one with "
                "'miaudit monitor index'"
            )
        try:
            with np.load(path, allow_pickle=False) as archive:
                meta: dict[str, Any] = json.loads(str(archive["meta"]))
                digests = archive["digests"]
                arrays = {
                    name: archive[name] for name in archive.files if name.startswith("proximity_")
                }
        except (OSError, ValueError, KeyError) as exc:
            raise InputError(f"{path} is not a miaudit training index ({exc})") from None
        if not isinstance(meta, dict) or meta.get("format") not in FORMATS:
            found = meta.get("format") if isinstance(meta, dict) else None
            raise InputError(f"{path}: expected format {FORMAT!r}, found {found!r}")
        if not hmac.compare_digest(str(meta.get("check")), _check(secret)):
            raise InputError(
                f"{path} was built with another secret: set {SECRET_ENV} (or --secret-file) to "
                "the secret used by 'miaudit monitor index'"
            )
        try:
            decimals = int(meta["decimals"])
        except (KeyError, TypeError, ValueError):
            raise InputError(f"{path}: a broken training index (no rounding)") from None
        proximity = None
        if meta.get("proximity"):
            try:
                proximity = ProximityIndex.from_saved(meta["proximity"], arrays, secret)
            except InputError as exc:
                raise InputError(f"{path}: {exc}") from None
        return cls(digests, secret, decimals, proximity)


def _check(secret: bytes) -> str:
    return hmac.new(secret, _CHECK_LABEL, hashlib.sha256).hexdigest()
