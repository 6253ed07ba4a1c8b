"""A keyed-hash index of the training records, so the monitor can tell which queries hit the
training set without holding the training data.

Each record is canonicalised — numbers rounded to ``decimals`` places (so a value read back
from a CSV, or nudged by float noise, lands on the same point), text NFKC-normalised,
case-folded and with whitespace collapsed — and the index keeps only
``HMAC-SHA256(secret, canonical form)``, truncated to 16 bytes. Without the secret the file
reveals nothing about the records; with it, one can only test candidates. The secret is never
stored: the file carries an HMAC of a fixed label under it, so a wrong secret is refused
instead of silently matching nothing.

File format ``miaudit.trainindex/1``: an NPZ (no pickle) holding ``digests`` (N × 16 bytes,
sorted) and ``meta`` (JSON: format, decimals, count, secret check).
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

FORMAT = "miaudit.trainindex/1"
DIGEST_BYTES = 16
SECRET_ENV = "MIAUDIT_INDEX_SECRET"
MIN_SECRET_BYTES = 16
_CHECK_LABEL = b"miaudit training index secret check"


def canonical(record: Sequence[float] | str, decimals: int) -> bytes:
    """The form two near-identical records share: rounded numbers or normalised text."""
    if isinstance(record, str):
        text = unicodedata.normalize("NFKC", record).casefold()
        return b"t:" + re.sub(r"\s+", " ", text).strip().encode()
    values = np.round(np.asarray(record, dtype=np.float64), decimals) + 0.0  # -0.0 → 0.0
    if not np.all(np.isfinite(values)):
        raise InputError("a record to index has a missing or infinite value")
    return b"n:" + ",".join(f"{v:.{decimals}f}" for v in values).encode()


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
    """Keyed hashes of the training records; ``contains`` answers for query inputs."""

    def __init__(self, digests: np.ndarray, secret: bytes, decimals: int) -> None:
        self._secret, self.decimals = secret, decimals
        self._digests = {bytes(row) for row in np.asarray(digests, dtype=np.uint8)}

    def __len__(self) -> int:
        return len(self._digests)

    def digest(self, record: Sequence[float] | str) -> bytes:
        canon = canonical(record, self.decimals)
        return hmac.new(self._secret, canon, hashlib.sha256).digest()[:DIGEST_BYTES]

    def contains_canonical(self, canon: bytes) -> bool:
        """Whether the record of canonical form ``canon`` (see :func:`canonical`) is indexed."""
        digest = hmac.new(self._secret, canon, hashlib.sha256).digest()[:DIGEST_BYTES]
        return digest in self._digests

    def contains(self, record: Sequence[float] | str | None) -> bool:
        """Whether ``record`` is (within rounding) a training record; ``None`` is not."""
        if record is None:
            return False
        try:
            return self.digest(record) in self._digests
        except InputError:
            return False

    @classmethod
    def build(
        cls, records: Iterable[Sequence[float] | str], secret: bytes, decimals: int = 4
    ) -> TrainingIndex:
        if not 0 <= decimals <= 12:
            raise InputError(f"decimals must be between 0 and 12, got {decimals}")
        index = cls(np.zeros((0, DIGEST_BYTES), dtype=np.uint8), secret, decimals)
        index._digests = {index.digest(r) for r in records}
        return index

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        digests = np.frombuffer(b"".join(sorted(self._digests)), dtype=np.uint8)
        meta = {
            "format": FORMAT,
            "decimals": self.decimals,
            "count": len(self._digests),
            "check": _check(self._secret),
        }
        with atomic_path(path, suffix=".npz") as tmp:  # np.savez adds .npz to other names
            np.savez(
                tmp, digests=digests.reshape(-1, DIGEST_BYTES), meta=np.array(json.dumps(meta))
            )
        return path

    @classmethod
    def load(cls, path: str | Path, secret: bytes) -> TrainingIndex:
        try:
            with np.load(path, allow_pickle=False) as archive:
                meta: dict[str, Any] = json.loads(str(archive["meta"]))
                digests = archive["digests"]
        except (OSError, ValueError, KeyError) as exc:
            raise InputError(f"{path} is not a miaudit training index ({exc})") from None
        if meta.get("format") != FORMAT:
            raise InputError(f"{path}: expected format {FORMAT!r}, found {meta.get('format')!r}")
        if not hmac.compare_digest(str(meta.get("check")), _check(secret)):
            raise InputError(
                f"{path} was built with another secret: set {SECRET_ENV} (or --secret-file) to "
                "the secret used by 'miaudit monitor index'"
            )
        return cls(digests, secret, int(meta["decimals"]))


def _check(secret: bytes) -> str:
    return hmac.new(secret, _CHECK_LABEL, hashlib.sha256).hexdigest()
