"""Readers for files of records — CSV, Parquet, NPZ, text — with errors that name the file,
the row and the column, and the fix. A malformed file is an :class:`InputError` (exit code 2),
never a library's traceback."""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from miaudit.errors import InputError, require


def read_table(path: Path, name: str) -> pd.DataFrame:
    """Read a CSV or Parquet table (Parquet needs the ``parquet`` extra)."""
    suffix = path.suffix.lower()
    if suffix in {".csv", ".txt"}:
        try:
            return pd.read_csv(path)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            raise InputError(f"{name}: cannot read {path}: {exc}") from exc
    if suffix in {".parquet", ".pq"}:
        require("pyarrow", "parquet", "Reading Parquet files")
        try:
            return pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises its own errors for a corrupt file
            raise InputError(f"{name}: cannot read {path} as Parquet: {exc}") from exc
    raise InputError(f"{name}: unsupported file type {suffix!r} for {path} (use .csv, .parquet)")


def read_npz(path: Path, name: str) -> dict[str, np.ndarray]:
    """Every array of an NPZ file, never unpickling (an object array is an error)."""
    if not zipfile.is_zipfile(path):  # np.load would try the file as a pickle
        raise InputError(f"{name}: cannot read {path} as NPZ: it is not a zip archive")
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {k: archive[k] for k in archive.files}
    except ValueError as exc:  # object arrays need pickle
        raise InputError(
            f"{name}: {path} holds an array that needs pickle to load ({exc}); save numbers "
            "and strings only"
        ) from exc
    except (OSError, zipfile.BadZipFile, EOFError) as exc:
        raise InputError(f"{name}: cannot read {path} as NPZ: {exc}") from exc


def read_text(path: Path, name: str) -> str:
    """A UTF-8 text file."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{name}: {path} is not UTF-8 text ({exc})") from exc


def numeric_columns(
    frame: pd.DataFrame, columns: Sequence[str], name: str, ids: Sequence[object] | None = None
) -> np.ndarray:
    """``columns`` as a float64 matrix; a cell that is not a number (empty cells are NaN) is
    an :class:`InputError` naming its row, record id and column."""
    # filled column by column and returned column-major, as pandas hands out a float block
    out = np.empty((len(columns), len(frame)), dtype=np.float64)
    for j, column in enumerate(columns):
        raw = frame[column]
        values = pd.to_numeric(raw, errors="coerce")
        bad = values.isna().to_numpy() & raw.notna().to_numpy()
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            who = f" (id {ids[row]!r})" if ids is not None else ""
            raise InputError(
                f"{name}: row {row + 1}{who}, column {column!r}: {raw.iloc[row]!r} is not a "
                f"number ({int(bad.sum())} such cells in that column)"
            )
        out[j] = values.to_numpy(dtype=np.float64, na_value=np.nan)
    return out.T
