"""A content-addressed store of reference-model outputs, so nothing is trained twice.

The key hashes everything that determines a reference model's outputs: the pool's features and
labels, the recipe's fingerprint, the model's seed and its training rows. Files are NPZ (no
pickle), written through a temporary file that replaces the entry in one step
(``miaudit._io.atomic_path``), so an interrupted run leaves only complete entries behind and
resumes where it stopped.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd

from miaudit._io import atomic_path
from miaudit.data import RecordSet


def pool_digest(pool: RecordSet) -> str:
    """A digest of the pool's features, labels and ids (order-sensitive)."""
    frame = (
        pool.features if isinstance(pool.features, pd.DataFrame) else pd.DataFrame(pool.features)
    )
    digest = hashlib.sha256()
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    digest.update(
        pd.util.hash_pandas_object(pd.Series(pool.labels.astype(str)), index=False)
        .to_numpy()
        .tobytes()
    )
    digest.update(pd.util.hash_pandas_object(pd.Series(pool.ids), index=False).to_numpy().tobytes())
    return digest.hexdigest()


#: Bumped whenever what an entry holds changes, so old entries are never misread.
CACHE_FORMAT = "miaudit.reference-outputs/1"


def model_key(pool_hash: str, recipe: str, seed: int, train_rows: np.ndarray) -> str:
    digest = hashlib.sha256(f"{CACHE_FORMAT}|{pool_hash}|{recipe}|{seed}|".encode())
    digest.update(np.asarray(train_rows, dtype=np.int64).tobytes())
    return digest.hexdigest()[:32]


class OutputCache:
    """Reference outputs by key under ``directory`` (``None``: a cache that keeps nothing)."""

    def __init__(self, directory: str | Path | None) -> None:
        self.directory = Path(directory) if directory is not None else None
        if self.directory is not None:
            self.directory.mkdir(parents=True, exist_ok=True)
        self.hits = 0
        self.misses = 0

    def _path(self, key: str) -> Path:
        assert self.directory is not None
        return self.directory / f"reference-{key}.npz"

    def get(self, key: str) -> tuple[str, np.ndarray] | None:
        if self.directory is None or not self._path(key).is_file():
            self.misses += 1
            return None
        with np.load(self._path(key), allow_pickle=False) as archive:
            self.hits += 1
            return str(archive["kind"]), archive["values"]

    def put_design(
        self, key: str, ids: np.ndarray, trained_on: np.ndarray, seeds: np.ndarray
    ) -> Path | None:
        """Record which records each reference model trained on (ids, (M, N) mask, seeds)."""
        if self.directory is None:
            return None
        path = self.directory / f"design-{key}.npz"
        with atomic_path(path, suffix=".npz") as tmp:  # np.savez keeps a name ending in .npz
            np.savez_compressed(
                tmp, ids=np.asarray(ids).astype(str), trained_on=trained_on, seeds=seeds
            )
        return path

    def put(self, key: str, kind: str, values: np.ndarray) -> None:
        if self.directory is None:
            return
        with atomic_path(self._path(key), suffix=".npz") as tmp:
            np.savez(tmp, kind=np.array(kind), values=values)
