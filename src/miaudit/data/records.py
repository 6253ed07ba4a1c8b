"""Records: features, labels and stable record ids, validated once at this boundary.

Every other module may trust a :class:`RecordSet`. The checks here are the ones that would
otherwise turn into a silent wrong number later: shape mismatches, NaN/inf, undeclared
non-numeric columns, duplicate ids, empty sets. :func:`check_audit_sets` adds the checks that
need several sets at once: tiny sets, a single class, labels the model does not know, and
members that overlap non-members.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from miaudit.data._checks import RoleNumbering, check_unique_ids, id_array
from miaudit.data.readers import read_npz, read_table
from miaudit.errors import InputError

FeatureMatrix = np.ndarray | pd.DataFrame
_LABEL = "__miaudit_label__"


@dataclass(frozen=True, eq=False)
class RecordSet(RoleNumbering):
    """A set of records: ``features`` (n, d), ``labels`` (n,), unique string ``ids`` (n,).

    ``features`` is a float array, or a DataFrame when the records came from a table (so that a
    fitted pipeline sees its column names, and declared categorical columns pass through).
    """

    features: FeatureMatrix
    labels: np.ndarray
    ids: np.ndarray
    name: str = "records"
    #: The ids were numbered automatically (``name-0``, ``name-1``, ...), not given.
    generated_ids: bool = field(default=False, compare=False)

    def __post_init__(self) -> None:
        n = len(self.features)
        if n == 0:
            raise InputError(f"{self.name}: the set is empty")
        if self.labels.ndim != 1:
            raise InputError(
                f"{self.name}: labels must be one-dimensional, got shape {self.labels.shape}"
            )
        if len(self.labels) != n:
            raise InputError(
                f"{self.name}: {n} feature rows but {len(self.labels)} labels (shape mismatch)"
            )
        if len(self.ids) != n:
            raise InputError(f"{self.name}: {n} feature rows but {len(self.ids)} record ids")
        if self.labels.dtype.kind == "f" and not np.all(np.isfinite(self.labels)):
            raise InputError(f"{self.name}: labels contain NaN or inf")
        if pd.isna(self.labels).any():
            raise InputError(f"{self.name}: labels contain missing values")
        check_unique_ids(self.ids, self.name)

    def __len__(self) -> int:
        return len(self.labels)

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_arrays(
        cls,
        features: Any,
        labels: Any,
        ids: Sequence[Any] | np.ndarray | None = None,
        name: str = "records",
    ) -> RecordSet:
        """Records from array-likes; ``features`` may be a DataFrame (kept as a table)."""
        if isinstance(features, pd.DataFrame):
            y = np.asarray(labels)
            if len(features) != len(y):
                raise InputError(
                    f"{name}: {len(features)} feature rows but {len(y)} labels (shape mismatch)"
                )
            frame = features.assign(**{_LABEL: y})
            return cls.from_frame(frame, label=_LABEL, ids=ids, name=name)
        x = _numeric_matrix(features, name)
        y = np.asarray(labels)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        return cls(x, y, _make_ids(ids, len(x), name), name, generated_ids=ids is None)

    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        label: str,
        id_column: str | None = None,
        categorical: Sequence[str] = (),
        name: str = "records",
        ids: Sequence[Any] | np.ndarray | None = None,
    ) -> RecordSet:
        """Records from a DataFrame: ``label`` column, optional ``id_column``, the rest features.

        Non-numeric feature columns must be declared in ``categorical``; they pass through to
        the model unchanged (for a pipeline that encodes them).
        """
        if label not in frame.columns:
            raise InputError(
                f"{name}: no label column {label!r}; columns are {list(frame.columns)[:20]}"
            )
        if id_column is not None:
            if id_column not in frame.columns:
                raise InputError(f"{name}: no id column {id_column!r}")
            ids = frame[id_column].to_numpy()
        unknown = [c for c in categorical if c not in frame.columns]
        if unknown:
            raise InputError(f"{name}: categorical columns {unknown} are not in the table")
        feature_columns = [c for c in frame.columns if c not in (label, id_column)]
        if not feature_columns:
            raise InputError(f"{name}: the table has no feature columns besides the label")
        features = frame[feature_columns].copy()
        numeric = [c for c in feature_columns if c not in categorical]
        bad = [c for c in numeric if not pd.api.types.is_numeric_dtype(features[c])]
        _check_declared(features, bad, name)
        values = features[numeric].to_numpy(dtype=np.float64, na_value=np.nan)
        _check_finite(values, name, numeric)
        for column in categorical:
            if features[column].isna().any():
                raise InputError(f"{name}: categorical column {column!r} has missing values")
        return cls(
            features.reset_index(drop=True),
            frame[label].to_numpy(),
            _make_ids(ids, len(frame), name),
            name,
            generated_ids=ids is None,
        )

    @classmethod
    def from_file(
        cls,
        path: str | Path,
        label: str = "label",
        id_column: str | None = None,
        categorical: Sequence[str] = (),
        name: str = "records",
    ) -> RecordSet:
        """Records from a CSV, Parquet or NPZ file (NPZ keys: ``features``, ``labels``, ``ids``)."""
        path = Path(path)
        if not path.is_file():
            raise InputError(f"{name}: file not found: {path}")
        suffix = path.suffix.lower()
        if suffix == ".npz":
            arrays = read_npz(path, name)
            missing = {"features", "labels"} - set(arrays)
            if missing:
                raise InputError(f"{name}: {path} lacks arrays {sorted(missing)}")
            return cls.from_arrays(arrays["features"], arrays["labels"], arrays.get("ids"), name)
        return cls.from_frame(read_table(path, name), label, id_column, categorical, name)


def _check_declared(features: pd.DataFrame, bad: list[Any], name: str) -> None:
    """Undeclared non-numeric columns are an error; one holding a distinct string on every row
    is a record id, not a feature, and the error says how to declare it."""
    if not bad:
        return
    # 20 rows: fewer distinct values by chance in a real categorical column are common
    ids = [c for c in bad if len(features) >= 20 and features[c].nunique() == len(features)]
    if ids:
        raise InputError(
            f"{name}: column {ids[0]!r} holds a different string on every row, like a record id; "
            f"declare it as the id column (CLI: --id-column {ids[0]}, config: data.id, "
            "Python: id_column=...) so it is not fed to the model"
        )
    raise InputError(
        f"{name}: non-numeric feature columns {bad[:10]} were not declared; declare them "
        "as categorical (CLI: --categorical, config: data.categorical, Python: "
        "categorical=[...]) or encode them"
    )


def _numeric_matrix(features: Any, name: str) -> np.ndarray:
    kind = getattr(getattr(features, "dtype", None), "kind", "f")
    if kind in "cmMSUV":  # complex, times, bytes, text, raw: no silent cast to numbers
        raise InputError(
            f"{name}: features must be real numbers, got {features.dtype} values; encode them "
            "or pass a DataFrame and declare categorical columns"
        )
    try:
        x = np.asarray(features, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(
            f"{name}: features are not numeric ({exc}); pass a DataFrame and declare "
            "categorical columns"
        ) from exc
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise InputError(f"{name}: features must be 2-D (records × features), got {x.shape}")
    _check_finite(x, name, None)
    return x


def _check_finite(values: np.ndarray, name: str, columns: Sequence[str] | None) -> None:
    bad = ~np.isfinite(values)
    if bad.any():
        rows, cols = np.nonzero(bad)
        where = columns[cols[0]] if columns is not None else f"column {cols[0]}"
        raise InputError(
            f"{name}: features contain {int(bad.sum())} NaN/inf values "
            f"(first at row {rows[0]}, {where})"
        )


def _make_ids(ids: Sequence[Any] | np.ndarray | None, n: int, name: str) -> np.ndarray:
    if ids is None:
        return np.array([f"{name}-{i}" for i in range(n)], dtype=object)
    given = np.asarray(ids)
    if given.shape != (n,):
        raise InputError(f"{name}: {n} records but ids have shape {given.shape}")
    if pd.isna(given).any():
        raise InputError(f"{name}: record ids contain missing values")
    return id_array(given, n, name)
