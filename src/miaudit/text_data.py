"""Text records for language-model audits: texts and stable ids, validated once, here.

Loaded from Python lists, TXT (one document per line), JSONL, CSV/Parquet (a text column) or a
Hugging Face ``datasets.Dataset``. Checks: empty sets, non-string or empty texts, duplicate ids,
and (across sets) texts that are both members and non-members.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from miaudit.data import MIN_RECORDS, check_unique_ids, read_table
from miaudit.errors import InputError


@dataclass(frozen=True, eq=False)
class TextRecords:
    """Texts (n,) and unique string ids (n,)."""

    texts: np.ndarray
    ids: np.ndarray
    name: str = "texts"

    def __post_init__(self) -> None:
        if len(self.texts) == 0:
            raise InputError(f"{self.name}: the set is empty")
        if len(self.ids) != len(self.texts):
            raise InputError(f"{self.name}: {len(self.texts)} texts but {len(self.ids)} ids")
        for i, text in enumerate(self.texts):
            if not isinstance(text, str):
                raise InputError(f"{self.name}: record {i} is a {type(text).__name__}, not text")
            if not text.strip():
                raise InputError(f"{self.name}: record {i} is empty")
        check_unique_ids(self.ids, self.name)

    def __len__(self) -> int:
        return len(self.texts)

    @classmethod
    def from_texts(
        cls, texts: Sequence[str] | Any, ids: Sequence[Any] | None = None, name: str = "texts"
    ) -> TextRecords:
        if isinstance(texts, str):
            raise InputError(f"{name}: pass a list of texts, not one string")
        if hasattr(texts, "column_names"):  # a Hugging Face datasets.Dataset
            return cls.from_dataset(texts, name=name)
        array = np.empty(len(texts), dtype=object)
        array[:] = list(texts)
        id_array = (
            np.array([f"{name}-{i}" for i in range(len(array))], dtype=object)
            if ids is None
            else np.asarray(ids).astype(str).astype(object)
        )
        return cls(array, id_array, name)

    @classmethod
    def from_dataset(
        cls, dataset: Any, column: str = "text", id_column: str | None = None, name: str = "texts"
    ) -> TextRecords:
        """A Hugging Face ``datasets.Dataset`` (already loaded; nothing is downloaded here)."""
        if column not in dataset.column_names:
            raise InputError(
                f"{name}: the dataset has no column {column!r} (columns: {dataset.column_names})"
            )
        ids = dataset[id_column] if id_column else None
        return cls.from_texts(list(dataset[column]), ids, name)

    @classmethod
    def from_file(
        cls,
        path: str | Path,
        column: str = "text",
        id_column: str | None = None,
        name: str = "texts",
    ) -> TextRecords:
        """TXT (one document per line), JSONL (``column`` key), CSV or Parquet (``column``)."""
        path = Path(path)
        if not path.is_file():
            raise InputError(f"{name}: file not found: {path}")
        suffix = path.suffix.lower()
        if suffix == ".txt":
            lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
            return cls.from_texts(lines, None, name)
        if suffix in (".jsonl", ".ndjson"):
            rows = []
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if not line.strip():
                    continue
                try:
                    rows.append(json.loads(line))
                except ValueError as exc:
                    raise InputError(f"{name}: {path} line {number} is not JSON ({exc})") from exc
            missing = [
                i for i, row in enumerate(rows, 1) if not isinstance(row, dict) or column not in row
            ]
            if missing:
                raise InputError(f"{name}: {path}: no {column!r} key in record {missing[0]}")
            ids = [row.get(id_column) for row in rows] if id_column else None
            return cls.from_texts([row[column] for row in rows], ids, name)
        frame = read_table(path, name)
        if column not in frame.columns:
            raise InputError(
                f"{name}: {path} has no column {column!r} (columns: {list(frame.columns)[:10]})"
            )
        ids = frame[id_column].tolist() if id_column else None
        return cls.from_texts(frame[column].tolist(), ids, name)


def check_text_sets(
    members: TextRecords,
    nonmembers: TextRecords,
    population: TextRecords | None = None,
    allow_overlap: bool = False,
) -> None:
    for records in (members, nonmembers):
        if len(records) < MIN_RECORDS:
            raise InputError(
                f"{records.name}: only {len(records)} texts; an audit needs at "
                f"least {MIN_RECORDS} members and {MIN_RECORDS} non-members"
            )
    pairs = [(members, nonmembers)] + (
        [(members, population), (nonmembers, population)] if population is not None else []
    )
    for a, b in pairs:
        shared = np.intersect1d(a.ids.astype(str), b.ids.astype(str))
        if len(shared):
            raise InputError(
                f"{a.name} and {b.name} share {len(shared)} record ids, e.g. {shared[:3].tolist()}"
            )
        if not allow_overlap:
            common = set(a.texts.tolist()) & set(b.texts.tolist())
            if common:
                raise InputError(
                    f"{a.name} and {b.name} share {len(common)} identical texts, e.g. "
                    f"{next(iter(common))[:60]!r}; a text cannot be both a member and a "
                    "non-member (pass allow_overlap=True if they are distinct records)"
                )
