"""Reference outputs trained elsewhere: a documented NPZ file read without pickle.

A team that trained its reference models on its own cluster hands over, for M models and N
records (the audit's members, non-members and population, matched by record id):

=============  ==========================  ====================================================
array          shape, dtype                meaning
=============  ==========================  ====================================================
``format``     (), str                     ``"miaudit.reference-file/1"``
``ids``        (N,), str or int            record ids, unique; every audited record's id
``kind``       (), str                     ``"logits"``, ``"probabilities"`` or ``"label"``
``outputs``    (M, N, K) float, or (M, N)  each model's output on each record (``label``: class
                                           indices into ``classes``)
``trained_on`` (M, N) bool                 True where model m trained on record n
``classes``    (K,), optional              class labels in column order (checked)
=============  ==========================  ====================================================

Write one with :func:`save_reference_outputs`. Keep logits (or float64 probabilities):
float32 probabilities round to 1.0 for the confident records that leak most.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from miaudit._io import atomic_path
from miaudit.data import RecordSet
from miaudit.data.readers import read_npz
from miaudit.errors import InputError
from miaudit.targets.exposure import OutputKind

FILE_FORMAT = "miaudit.reference-file/1"
_REQUIRED = ("format", "ids", "kind", "outputs", "trained_on")


def save_reference_outputs(
    path: str | Path,
    ids: Any,
    outputs: Any,
    trained_on: Any,
    kind: str = "logits",
    classes: Any | None = None,
) -> Path:
    """Write reference outputs in the format :func:`load_reference_outputs` reads."""
    path = Path(path)
    arrays: dict[str, Any] = {
        "format": np.array(FILE_FORMAT),
        "ids": np.asarray(ids).astype(str),
        "kind": np.array(OutputKind(kind).value),
        "outputs": np.asarray(outputs),
        "trained_on": np.asarray(trained_on, dtype=bool),
    }
    if classes is not None:
        arrays["classes"] = np.asarray(classes).astype(str)
    ReferenceOutputs.from_arrays(arrays, str(path))  # refuse to write what cannot be read
    with atomic_path(path) as tmp, tmp.open("wb") as handle:
        np.savez_compressed(handle, **arrays)  # to a handle: the file keeps the name given
    return path


@dataclass(frozen=True, eq=False)
class ReferenceOutputs:
    """M reference models' outputs on N records, and which records each trained on."""

    ids: np.ndarray
    kind: OutputKind
    outputs: np.ndarray
    trained_on: np.ndarray
    classes: np.ndarray | None
    source: str

    @property
    def n_models(self) -> int:
        return self.trained_on.shape[0]

    @classmethod
    def from_arrays(cls, arrays: Any, source: str) -> ReferenceOutputs:
        missing = [k for k in _REQUIRED if k not in arrays]
        if missing:
            raise InputError(
                f"{source}: not a miaudit reference-outputs file, missing arrays "
                f"{missing} (see docs/reference-models.md)"
            )
        if str(arrays["format"]) != FILE_FORMAT:
            raise InputError(
                f"{source}: format {str(arrays['format'])!r}, this miaudit reads {FILE_FORMAT!r}"
            )
        try:
            kind = OutputKind(str(arrays["kind"]))
        except ValueError:
            raise InputError(
                f"{source}: kind must be logits, probabilities or label, got "
                f"{str(arrays['kind'])!r}"
            ) from None
        ids = np.asarray(arrays["ids"]).astype(str)
        outputs, trained_on = np.asarray(arrays["outputs"]), np.asarray(arrays["trained_on"])
        if ids.ndim != 1 or len(np.unique(ids)) != len(ids):
            raise InputError(f"{source}: ids must be a 1-D array of unique record ids")
        if trained_on.dtype != bool:
            raise InputError(f"{source}: trained_on must be boolean, got {trained_on.dtype}")
        if trained_on.ndim != 2 or trained_on.shape[1] != len(ids) or trained_on.shape[0] < 1:
            raise InputError(
                f"{source}: trained_on must have shape (M, {len(ids)}), got {trained_on.shape}"
            )
        want = 2 if kind is OutputKind.LABEL else 3
        if outputs.ndim != want or outputs.shape[:2] != trained_on.shape:
            raise InputError(
                f"{source}: {kind.value} outputs must have shape "
                f"{trained_on.shape + (() if want == 2 else ('K',))}, got "
                f"{outputs.shape}"
            )
        if outputs.dtype.kind not in ("iu" if kind is OutputKind.LABEL else "f"):
            raise InputError(f"{source}: {kind.value} outputs have dtype {outputs.dtype}")
        classes = np.asarray(arrays["classes"]).astype(str) if "classes" in arrays else None
        if classes is not None and classes.ndim != 1:
            raise InputError(f"{source}: classes must be a 1-D array, got shape {classes.shape}")
        if (
            classes is not None
            and kind is not OutputKind.LABEL
            and len(classes) != outputs.shape[2]
        ):
            raise InputError(
                f"{source}: {len(classes)} classes but outputs have {outputs.shape[2]} columns"
            )
        return cls(ids, kind, outputs, trained_on, classes, source)

    def for_pool(
        self, pool: RecordSet, classes: np.ndarray
    ) -> tuple[list[tuple[str, np.ndarray]], np.ndarray]:
        """Each model's outputs and the in/out mask, in the pool's record order."""
        if self.classes is not None:
            want = np.asarray(classes).astype(str)
            if self.classes.shape != want.shape or not (self.classes == want).all():
                raise InputError(
                    f"{self.source}: classes {self.classes.tolist()[:10]} differ "
                    f"from the target's {want.tolist()[:10]} (same order needed)"
                )
        order = np.argsort(self.ids)
        wanted = pool.ids.astype(str)
        position = np.searchsorted(self.ids, wanted, sorter=order)
        position = np.minimum(position, len(order) - 1)
        found = self.ids[order[position]] == wanted
        if not found.all():
            absent = wanted[~found]
            raise InputError(
                f"{self.source}: no reference outputs for {len(absent)} audited "
                f"records, e.g. ids {absent[:3].tolist()}"
            )
        rows = order[position]
        return (
            [(self.kind.value, self.outputs[m, rows]) for m in range(self.n_models)],
            self.trained_on[:, rows],
        )


def load_reference_outputs(path: str | Path) -> ReferenceOutputs:
    """Read a reference-outputs file (never unpickles)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"reference outputs file {path} does not exist")
    arrays = read_npz(path, "reference outputs")
    return ReferenceOutputs.from_arrays(arrays, str(path))
