"""Checks shared by every kind of record set."""

from __future__ import annotations

import dataclasses
import math
import numbers
from typing import Any

import numpy as np

from miaudit.errors import InputError

#: Fewer records than this in the member or non-member set cannot support any useful interval
#: (a Clopper–Pearson interval on 20 records is still about ±0.2 wide).
MIN_RECORDS = 20


def check_unique_ids(ids: np.ndarray, name: str) -> None:
    """Raise :class:`InputError` if ``ids`` repeat."""
    unique, counts = np.unique(ids.astype(str), return_counts=True)
    if len(unique) != len(ids):
        dupes = unique[counts > 1][:5].tolist()
        raise InputError(f"{name}: duplicate record ids, e.g. {dupes}")


def id_array(ids: Any, n: int, name: str) -> np.ndarray:
    """Record ids as strings: ``n`` of them, each a string or a whole number (a list, a
    mapping, a missing value or true/false is not an id)."""
    if isinstance(ids, np.ndarray) and ids.shape == (n,) and ids.dtype.kind in "iuU":
        return ids.astype(str).astype(object)  # integers or strings: nothing to check one by one
    values = list(ids)
    if len(values) != n:
        raise InputError(f"{name}: {n} records but {len(values)} ids")
    for i, value in enumerate(values):
        ok = isinstance(value, (str, numbers.Integral)) and not isinstance(value, bool)
        if isinstance(value, numbers.Real) and not isinstance(value, bool):
            ok = ok or (math.isfinite(value) and float(value).is_integer())
        if not ok:
            raise InputError(
                f"{name}: record {i + 1}'s id {value!r:.40} is not an id (a string or a whole "
                "number)"
            )
    out = np.empty(n, dtype=object)
    out[:] = [str(v) for v in values]
    return out


class RoleNumbering:
    """For record sets (frozen dataclasses with ``ids``, ``name`` and ``generated_ids``)."""

    ids: np.ndarray
    name: str
    generated_ids: bool

    def for_role(self, role: str) -> Any:
        """This set as the audit's ``role`` ("members", "non-members", "population"): record
        ids that were numbered automatically are numbered again under that name, so two sets
        built without ids never share them."""
        if not self.generated_ids or self.name == role:
            return self
        ids = np.array([f"{role}-{i}" for i in range(len(self.ids))], dtype=object)
        return dataclasses.replace(self, ids=ids, name=role)  # type: ignore[type-var]
