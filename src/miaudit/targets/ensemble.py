"""Several classifiers answering as one: their probabilities averaged, or their votes counted
(subsample-and-aggregate, when each was trained on its own shard of the data)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.special import softmax

from miaudit.errors import InputError
from miaudit.targets.exposure import Exposure, OutputKind
from miaudit.targets.interface import ClassifierTarget, Outputs, ProgressCallback

AGGREGATES = ("average", "vote")


def probabilities(outputs: Outputs) -> np.ndarray:
    """Outputs as probabilities: softmax of logits, one-hot labels, probabilities as they are."""
    if outputs.kind is OutputKind.LABEL:
        return np.eye(outputs.n_classes)[outputs.values]
    if outputs.kind is OutputKind.LOGITS:
        return softmax(outputs.values, axis=1)
    return outputs.values


class EnsembleTarget(ClassifierTarget):
    """``members`` answering together over ``classes``: ``average`` of their probabilities, or
    the share of their ``vote`` s (each member's predicted class). A member that never saw a
    class (its shard had none) gives it probability 0."""

    kind = "ensemble"

    def __init__(
        self, members: Sequence[ClassifierTarget], classes: Any, aggregate: str = "average"
    ) -> None:
        if aggregate not in AGGREGATES:
            raise InputError(f"aggregate must be one of {', '.join(AGGREGATES)}, got {aggregate!r}")
        if not members:
            raise InputError("an ensemble needs at least one member")
        self.members, self.aggregate = list(members), aggregate
        self._classes = np.asarray(classes)
        self._exposes = Exposure.PROBABILITIES
        where = {str(c): i for i, c in enumerate(self._classes.tolist())}
        self._columns = []
        for member in self.members:
            missing = [c for c in np.asarray(member.classes).tolist() if str(c) not in where]
            if missing:
                raise InputError(f"an ensemble member predicts classes {missing[:5]} unknown here")
            self._columns.append(np.array([where[str(c)] for c in member.classes.tolist()]))

    def _predict(self, features: Any) -> np.ndarray:  # pragma: no cover - outputs() overrides
        raise NotImplementedError

    def outputs(self, records: Any, progress: ProgressCallback | None = None) -> Outputs:
        total = np.zeros((len(records), len(self._classes)))
        for member, columns in zip(self.members, self._columns, strict=True):
            p = probabilities(member.outputs(records))
            if self.aggregate == "vote":
                total[np.arange(len(p)), columns[np.argmax(p, axis=1)]] += 1.0
            else:
                total[:, columns] += p
        if progress is not None:
            progress(len(records))
        share = total / len(self.members)
        return Outputs(
            OutputKind.PROBABILITIES, share / share.sum(axis=1, keepdims=True), len(self._classes)
        )

    def describe(self) -> dict[str, Any]:
        return {
            **super().describe(),
            "members": len(self.members),
            "aggregate": self.aggregate,
        }
