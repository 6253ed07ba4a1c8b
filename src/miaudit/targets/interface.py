"""What a target is: the one place that knows how to query a model.

A target declares what it exposes (:class:`Exposure`) and returns :class:`Outputs`, validated
here, at the boundary: finite logits, probabilities in [0, 1] whose rows sum to one, predicted
labels among the model's classes.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any, ClassVar

import numpy as np

from miaudit.data import RecordSet
from miaudit.errors import InputError
from miaudit.targets.exposure import Exposure, OutputKind

#: Rows of probabilities must sum to one within this absolute tolerance (float32 softmax
#: outputs over 1,000 classes stay within 1e-4; anything further off is not a distribution).
PROBABILITY_SUM_TOLERANCE = 1e-3

ProgressCallback = Callable[[int], None]


class Modality(str, Enum):
    """What kind of model a target is, and so which records and attacks it takes."""

    CLASSIFIER = "classifier"
    LANGUAGE_MODEL = "language model"


@dataclass(frozen=True, eq=False)
class Outputs:
    """Per-record model outputs: ``values`` is (n, k) for logits/probabilities, (n,) int class
    indices for label-only outputs."""

    kind: OutputKind
    values: np.ndarray
    n_classes: int
    #: Rows cut to the top classes or rounded, which need not sum to one (also implied by an
    #: Exposure that says so).
    partial: bool = False

    def __post_init__(self) -> None:
        # an Exposure cut to its top classes or rounded gives rows that need not sum to one
        partial = self.partial or (isinstance(self.kind, Exposure) and self.kind.partial)
        object.__setattr__(self, "partial", partial)
        if isinstance(self.kind, Exposure):
            object.__setattr__(self, "kind", self.kind.kind)
        object.__setattr__(self, "kind", OutputKind(self.kind))
        v = self.values
        if self.kind is OutputKind.LABEL:
            if v.ndim != 1:
                raise InputError(f"predicted labels must be 1-D, got shape {v.shape}")
            if len(v) and (v.min() < 0 or v.max() >= self.n_classes):
                raise InputError(f"predicted class indices outside 0..{self.n_classes - 1}")
            return
        if v.ndim != 2 or v.shape[1] != self.n_classes:
            raise InputError(
                f"model {self.kind.value} must have shape (n, {self.n_classes}), got {v.shape}"
            )
        if self.n_classes < 2:
            raise InputError("the model outputs a single class; membership needs two or more")
        finite = np.isfinite(v)
        if not finite.all():
            row = int(np.nonzero(~finite.all(axis=1))[0][0])
            raise InputError(f"model {self.kind.value} contain NaN or inf (first at row {row})")
        if self.kind is OutputKind.PROBABILITIES:
            if v.min() < -1e-9 or v.max() > 1 + 1e-9:
                raise InputError("model probabilities fall outside [0, 1]; are these logits?")
            if partial:
                return
            sums = v.sum(axis=1, dtype=np.float64)
            off = np.abs(sums - 1.0) > PROBABILITY_SUM_TOLERANCE
            if off.any():
                row = int(np.nonzero(off)[0][0])
                raise InputError(
                    f"model probabilities do not sum to one: {int(off.sum())} rows off by more "
                    f"than {PROBABILITY_SUM_TOLERANCE} (row {row} sums to {sums[row]:.6g})"
                )

    def __len__(self) -> int:
        return len(self.values)


class Target(ABC):
    """Anything miaudit can query: it says what kind of model it is (:attr:`modality`), what a
    query reveals (:attr:`exposes`) and answers :meth:`outputs` for a set of records."""

    kind: ClassVar[str]
    modality: ClassVar[Modality] = Modality.CLASSIFIER
    #: Whether the target answers for records it has never seen (perturbed copies): a table
    #: of precomputed outputs does not.
    queryable: ClassVar[bool] = True
    #: Whether each query crosses a network (attacks that send many queries per record then
    #: run only when named).
    remote: ClassVar[bool] = False
    _exposes: Exposure

    @property
    def exposes(self) -> Exposure:
        """What this target's outputs are."""
        return self._exposes

    @abstractmethod
    def outputs(self, records: Any, progress: ProgressCallback | None = None) -> Any:
        """Query the model on every record; validated outputs (:class:`Outputs` for a
        classifier)."""

    def describe(self) -> dict[str, Any]:
        """A JSON-safe description for the report."""
        return {"kind": self.kind, "exposes": self.exposes.value}


class ClassifierTarget(Target):
    """A classifier queried on feature rows in batches: subclasses implement :meth:`_predict`."""

    batch_size: int = 4096
    _classes: np.ndarray

    @property
    def classes(self) -> np.ndarray:
        """The model's classes, in the order of its output columns."""
        return self._classes

    @abstractmethod
    def _predict(self, features: Any) -> np.ndarray:
        """Raw outputs for a batch of feature rows, in the form :attr:`exposes` says."""

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "n_classes": len(self.classes)}

    def outputs(self, records: RecordSet, progress: ProgressCallback | None = None) -> Outputs:
        """Query the model on every record, in batches, and validate what comes back."""
        features = records.features
        parts = []
        for start in range(0, len(records), self.batch_size):
            stop = min(start + self.batch_size, len(records))
            batch = features.iloc[start:stop] if hasattr(features, "iloc") else features[start:stop]
            part = np.asarray(self._predict(batch))
            if part.ndim == 0 or len(part) != stop - start:
                raise InputError(
                    f"the {self.kind} target returned {_rows(part)} for {stop - start} records "
                    f"(records {start}..{stop - 1}); it must return one output row per record"
                )
            parts.append(part)
            if progress is not None:
                progress(stop - start)
        values = np.concatenate(parts)
        if self.exposes.label_only:
            values = _label_indices(values, self.classes)
        elif values.dtype.kind in "biuf":
            values = values.astype(np.float64, copy=False)
        else:
            raise InputError(
                f"the {self.kind} target returned {values.dtype} values; it must return numbers "
                f"({self.exposes.kind.value})"
            )
        return Outputs(self.exposes.kind, values, len(self.classes))


def _rows(part: np.ndarray) -> str:
    return "a single value" if part.ndim == 0 else f"{len(part)} rows"


class WhiteBox(ABC):
    """A target whose parameters the auditor holds (the model's owner): it can say how hard
    each record pulls on them."""

    @abstractmethod
    def gradient_norms(self, records: Any, progress: ProgressCallback | None = None) -> np.ndarray:
        """Per-record L2 norm of the gradient of the loss on the record's true label (the next
        tokens, for a language model) with respect to every trainable parameter, (n,)."""


def predicted_indices(outputs: Outputs) -> np.ndarray:
    """The class each output row predicts (column index): the label itself for label-only
    outputs, the highest score otherwise (the first of tied scores)."""
    if outputs.kind is OutputKind.LABEL:
        return outputs.values.astype(np.int64, copy=False)
    return np.argmax(outputs.values, axis=1)


def _label_indices(predicted: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Map predicted labels to column indices of ``classes``; unknown labels are an error."""
    lookup = {value: index for index, value in enumerate(np.asarray(classes).tolist())}
    try:
        return np.fromiter(
            (lookup[v] for v in predicted.tolist()), dtype=np.int64, count=len(predicted)
        )
    except KeyError as exc:
        raise InputError(f"the model predicted {exc.args[0]!r}, not one of its classes") from exc


def label_indices(labels: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Column index of each true label in the model's ``classes`` (labels already validated)."""
    classes = np.asarray(classes)
    if classes.dtype.kind in "iu" and labels.dtype.kind in "iuf":
        order = np.argsort(classes)
        position = np.searchsorted(classes[order], labels)
        return order[np.clip(position, 0, len(classes) - 1)].astype(np.int64)
    return _label_indices(labels, classes)
