"""Text records for language-model audits: texts and stable ids, validated once, here.

Loaded from Python lists, TXT (one document per line), JSONL, CSV/Parquet (a text column) or a
Hugging Face ``datasets.Dataset``. Checks: empty sets, non-string or empty texts, duplicate ids,
and (across sets) texts that are both members and non-members.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from miaudit.data._checks import RoleNumbering, check_unique_ids, id_array
from miaudit.data.readers import read_table, read_text
from miaudit.errors import InputError


@dataclass(frozen=True, eq=False)
class TextRecords(RoleNumbering):
    """Texts (n,) and unique string ids (n,)."""

    texts: np.ndarray
    ids: np.ndarray
    name: str = "texts"
    #: The ids were numbered automatically (``name-0``, ``name-1``, ...), not given.
    generated_ids: bool = field(default=False, compare=False)

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
        record_ids = (
            np.array([f"{name}-{i}" for i in range(len(array))], dtype=object)
            if ids is None
            else id_array(ids, len(array), name)
        )
        return cls(array, record_ids, name, generated_ids=ids is None)

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
            lines = [line for line in read_text(path, name).splitlines() if line.strip()]
            return cls.from_texts(lines, None, name)
        if suffix in (".jsonl", ".ndjson"):
            rows = []
            for number, line in enumerate(read_text(path, name).splitlines(), 1):
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
