"""Finished variants of a comparison, kept in the cache directory so an interrupted
``compare`` resumes where it stopped.

Each audited variant is one JSON file (its ``report.json`` object and its training seconds),
named by a hash of everything that decides its result: miaudit's version, the records, the
recipe's fingerprint, the seed and the audit's settings. Files are written atomically
(``miaudit._io``), so an interruption leaves only complete entries; nothing is unpickled.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from miaudit._io import atomic_write_text
from miaudit._version import __version__
from miaudit.data import RecordSet
from miaudit.errors import InputError
from miaudit.results import AuditResult, result_from_dict
from miaudit.training.cache import pool_digest

FORMAT = "miaudit.compare-variant/1"


def records_digest(*sets: RecordSet | None) -> str:
    digest = hashlib.sha256()
    for records in sets:
        digest.update(b"-" if records is None else pool_digest(records).encode())
    return digest.hexdigest()


class VariantStore:
    """Audited variants by key under ``directory`` (``None``: a store that keeps nothing)."""

    def __init__(self, directory: str | Path | None, records: str, settings: dict[str, Any]):
        self.directory = Path(directory) if directory is not None else None
        if self.directory is not None:
            try:
                self.directory.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise InputError(f"cache directory {directory}: {exc.strerror}") from None
        self._base = f"{FORMAT}|{__version__}|{records}|{json.dumps(settings, sort_keys=True)}"
        self.loaded: list[str] = []

    def key(self, fingerprint: str) -> str:
        return hashlib.sha256(f"{self._base}|{fingerprint}".encode()).hexdigest()[:32]

    def _path(self, fingerprint: str) -> Path:
        assert self.directory is not None
        return self.directory / f"variant-{self.key(fingerprint)}.json"

    def get(self, name: str, fingerprint: str) -> tuple[AuditResult, float] | None:
        """A finished variant's result and training seconds, if this store holds it intact
        (a damaged entry is as good as none: the variant is audited again, and overwritten)."""
        if self.directory is None or not self._path(fingerprint).is_file():
            return None
        path = self._path(fingerprint)
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
            result = result_from_dict(entry["report"], source=str(path))
            seconds = entry["train_seconds"]
        except (OSError, ValueError, LookupError, TypeError, RecursionError, InputError):
            return None
        if isinstance(seconds, bool) or not isinstance(seconds, int | float):
            return None
        if not (math.isfinite(seconds) and seconds >= 0):
            return None
        self.loaded.append(name)
        return result, float(seconds)

    def put(self, name: str, fingerprint: str, result: AuditResult, seconds: float) -> None:
        if self.directory is None:
            return
        path = self._path(fingerprint)
        entry = {
            "format": FORMAT,
            "variant": name,
            "train_seconds": seconds,
            "report": result.to_dict(),
        }
        atomic_write_text(path, json.dumps(entry, allow_nan=False))


def settings_key(
    attacks: Sequence[str] | None,
    reference_models: int,
    seed: int,
    fprs: Sequence[float],
) -> dict[str, Any]:
    """What, besides the records and the recipe, decides a variant's audit."""
    return {
        "attacks": list(attacks) if attacks is not None else None,
        "reference_models": reference_models,
        "seed": seed,
        "fprs": list(fprs),
    }
