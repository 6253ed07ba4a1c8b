"""Precomputed outputs: a table of per-record outputs when the model is not at hand.

Format (see ``docs/precomputed-outputs.md``): columns ``id``, ``label`` (class index
0..k-1), optional ``member`` (1 member, 0 non-member, empty = population), and either
``logit_0..logit_{k-1}`` or ``prob_0..prob_{k-1}``. CSV and Parquet hold those columns; an NPZ
holds arrays ``id``, ``label``, optional ``member`` (-1 = population) and a 2-D ``logits`` or
``probs``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from miaudit.data import MEMBER, NONMEMBER, POPULATION, RecordSet, check_unique_ids, read_table
from miaudit.data.readers import numeric_columns, read_npz
from miaudit.errors import InputError
from miaudit.targets.exposure import Exposure, OutputKind
from miaudit.targets.interface import ClassifierTarget, Outputs


@dataclass(frozen=True, eq=False)
class OutputsTable:
    """Validated per-record outputs: ids, integer labels, membership (-1 unknown), values."""

    ids: np.ndarray
    labels: np.ndarray
    membership: np.ndarray
    kind: OutputKind
    values: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.ids)
        if n == 0:
            raise InputError("outputs table: no rows")
        if not (len(self.labels) == len(self.membership) == len(self.values) == n):
            raise InputError("outputs table: columns have different lengths")
        Outputs(self.kind, self.values, self.values.shape[1])  # validates values
        k = self.values.shape[1]
        if self.labels.min() < 0 or self.labels.max() >= k:
            raise InputError(
                f"outputs table: labels must be class indices 0..{k - 1}, found "
                f"{int(self.labels.min())}..{int(self.labels.max())}"
            )
        bad = ~np.isin(self.membership, (MEMBER, NONMEMBER, POPULATION))
        if bad.any():
            raise InputError("outputs table: member must be 1, 0 or empty (population)")

    @classmethod
    def from_file(cls, path: str | Path) -> OutputsTable:
        path = Path(path)
        if not path.is_file():
            raise InputError(f"outputs table not found: {path}")
        if path.suffix.lower() == ".npz":
            return cls.from_arrays(**read_npz(path, "outputs table"))
        return cls.from_frame(read_table(path, "outputs table"))

    @classmethod
    def from_arrays(
        cls,
        id: np.ndarray | None = None,
        label: np.ndarray | None = None,
        member: np.ndarray | None = None,
        logits: np.ndarray | None = None,
        probs: np.ndarray | None = None,
        **unknown: Any,
    ) -> OutputsTable:
        if unknown:
            raise InputError(
                f"outputs table: unknown arrays {sorted(unknown)}; an NPZ holds id, label, "
                "optional member, and logits or probs"
            )
        if id is None or label is None:
            missing = [n for n, a in (("id", id), ("label", label)) if a is None]
            raise InputError(
                f"outputs table: missing arrays {missing} (docs/precomputed-outputs.md)"
            )
        if (logits is None) == (probs is None):
            raise InputError("outputs table: give exactly one of 'logits' or 'probs'")
        name, kind = (
            ("logits", OutputKind.LOGITS)
            if logits is not None
            else ("probs", OutputKind.PROBABILITIES)
        )
        values = _matrix(logits if logits is not None else probs, name)
        labels = _integer_column(_vector(label, "label"), "label")
        membership = (
            np.full(len(labels), POPULATION, dtype=np.int8)
            if member is None
            else _integer_column(_vector(member, "member"), "member").astype(np.int8)
        )
        ids = _vector(id, "id").astype(str).astype(object)
        check_unique_ids(ids, "outputs table")
        return cls(ids, labels, membership, kind, values)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> OutputsTable:
        for required in ("id", "label"):
            if required not in frame.columns:
                raise InputError(f"outputs table: missing column {required!r}")
        logit_columns = _indexed_columns(frame, "logit")
        prob_columns = _indexed_columns(frame, "prob")
        if logit_columns and prob_columns:
            raise InputError("outputs table: has both logit_* and prob_* columns; keep one")
        if not logit_columns and not prob_columns:
            raise InputError("outputs table: needs logit_0..logit_{k-1} or prob_0..prob_{k-1}")
        columns = logit_columns or prob_columns
        ids = frame["id"].tolist()
        values = numeric_columns(frame, columns, "outputs table", ids)
        member = None
        if "member" in frame.columns:
            member = numeric_columns(frame, ["member"], "outputs table", ids)[:, 0]
            member = np.where(np.isnan(member), POPULATION, member)
        arrays = {"logits" if logit_columns else "probs": values}
        return cls.from_arrays(frame["id"].to_numpy(), frame["label"].to_numpy(), member, **arrays)

    def split(self) -> tuple[RecordSet, RecordSet, RecordSet | None]:
        """Members, non-members and (if any rows lack membership) population, as records."""
        sets: list[RecordSet | None] = []
        for value, name in (
            (MEMBER, "members"),
            (NONMEMBER, "non-members"),
            (POPULATION, "population"),
        ):
            rows = np.nonzero(self.membership == value)[0]
            if len(rows) == 0:
                if value != POPULATION:
                    raise InputError(f"outputs table: no {name} (member column needs 1 and 0 rows)")
                sets.append(None)
                continue
            sets.append(
                RecordSet(np.empty((len(rows), 0)), self.labels[rows], self.ids[rows], name)
            )
        return sets[0], sets[1], sets[2]  # type: ignore[return-value]


class PrecomputedTarget(ClassifierTarget):
    """A target whose outputs are looked up by record id in an :class:`OutputsTable`."""

    kind = "precomputed"
    queryable = False

    def __init__(self, table: OutputsTable) -> None:
        self.table = table
        self._row = pd.Index(table.ids)

    @classmethod
    def from_file(cls, path: str | Path) -> PrecomputedTarget:
        return cls(OutputsTable.from_file(path))

    @property
    def classes(self) -> np.ndarray:
        return np.arange(self.table.values.shape[1])

    @property
    def exposes(self) -> Exposure:
        return Exposure.of(self.table.kind)

    def _predict(self, features: Any) -> np.ndarray:  # pragma: no cover - outputs() overrides
        raise NotImplementedError

    def outputs(self, records: RecordSet, progress: Any = None) -> Outputs:
        rows = self._row.get_indexer(records.ids)
        if (rows < 0).any():
            missing = records.ids[rows < 0][:3].tolist()
            raise InputError(f"{records.name}: ids {missing} are not in the outputs table")
        if progress is not None:
            progress(len(rows))
        if len(rows) and rows[-1] - rows[0] == len(rows) - 1 and np.all(np.diff(rows) == 1):
            values = self.table.values[rows[0] : rows[-1] + 1]  # a view, not a copy
        else:
            values = self.table.values[rows]
        return Outputs(self.table.kind, values, self.table.values.shape[1])


def _indexed_columns(frame: pd.DataFrame, prefix: str) -> list[str]:
    found = {
        int(m.group(1)): c for c in frame.columns if (m := re.fullmatch(rf"{prefix}_(\d+)", str(c)))
    }
    if not found:
        return []
    expected = list(range(len(found)))
    if sorted(found) != expected:
        raise InputError(
            f"outputs table: {prefix}_* columns must be {prefix}_0..{prefix}_{len(found) - 1} "
            f"with none missing; found indices {sorted(found)[:10]}"
        )
    return [found[i] for i in expected]


def _vector(values: Any, name: str) -> np.ndarray:
    """A 1-D column (an (n, 1) array is flattened)."""
    array = np.asarray(values)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise InputError(
            f"outputs table: {name!r} must be one value per record (1-D), got shape {array.shape}"
        )
    return array


def _matrix(values: Any, name: str) -> np.ndarray:
    """The outputs: a 2-D float matrix, one column per class (float32 kept: half the memory)."""
    array = np.asarray(values)
    if array.ndim != 2 or array.shape[1] < 2:
        raise InputError(
            f"outputs table: {name!r} must be 2-D, one row per record and one column per class "
            f"(at least 2), got shape {array.shape}"
        )
    if array.dtype in (np.float32, np.float64):
        return array
    if array.dtype.kind not in "biuf":
        raise InputError(f"outputs table: {name!r} must be real numbers, got {array.dtype} values")
    return array.astype(np.float64)


def _integer_column(values: np.ndarray, name: str) -> np.ndarray:
    try:
        as_float = values.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"outputs table: column {name!r} must be integers") from exc
    whole = np.isfinite(as_float) & (np.abs(as_float) < 2**53)
    if not np.all(whole) or not np.all(as_float == np.round(as_float)):
        raise InputError(f"outputs table: column {name!r} must be whole numbers with no gaps")
    return as_float.astype(np.int64)
