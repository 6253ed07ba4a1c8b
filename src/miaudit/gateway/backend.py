"""What the gateway serves: a local model file or an upstream model server, as a classifier
target, and the answer one key may see of it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy.special import softmax

from miaudit.data import RecordSet
from miaudit.errors import InputError
from miaudit.targets.exposure import OutputKind
from miaudit.targets.harden import OutputPolicy
from miaudit.targets.interface import ClassifierTarget, Outputs, Target
from miaudit.targets.kinds import load_model_file


def load_model(
    path: str | Path,
    trust: bool = False,
    classes: Sequence[Any] | int | None = None,
    output: str | None = None,
) -> Target:
    """A model file as a target, by its suffix — the same table ``miaudit audit --model``
    reads (:mod:`miaudit.targets.kinds`): scikit-learn (``.skops``; ``.joblib`` / ``.pkl``
    only with ``trust``), ONNX (``.onnx``), ``torch.export`` (``.pt2``, with ``trust`` and
    ``classes``)."""
    return load_model_file(
        path, trust, classes, output, otherwise="or proxy a model server with --upstream"
    )


def upstream_model(
    url: str,
    classes: Sequence[Any] | int,
    output: str = "probabilities",
    protocol: str = "v1",
    headers: dict[str, str] | None = None,
) -> Target:
    """An upstream model server (V1 or Open Inference Protocol v2) as a target."""
    from miaudit.targets.http import HttpTarget

    return HttpTarget(url, classes, output=output, protocol=protocol, headers=headers)


class Backend:
    """The served model: answers a batch of instances under an output policy."""

    def __init__(self, target: Target, name: str) -> None:
        if not isinstance(target, ClassifierTarget):
            raise InputError(f"the gateway serves classifiers; {type(target).__name__} is not one")
        self.target, self.name = target, name
        self.classes = [_plain(c) for c in np.asarray(target.classes).tolist()]

    def predict(self, instances: list[Any]) -> Outputs:
        """The model's own outputs for ``instances`` (lists of numbers)."""
        try:
            features = np.asarray(instances, dtype=np.float64)
        except (TypeError, ValueError):
            raise InputError("instances must be lists of numbers of one length each") from None
        if features.ndim != 2 or not np.all(np.isfinite(features)):
            raise InputError(
                "instances must be a non-empty list of equal-length lists of finite numbers"
            )
        records = RecordSet.from_arrays(features, np.zeros(len(features), dtype=np.int64))
        return self.target.outputs(records)

    def answer(self, outputs: Outputs, policy: OutputPolicy, rng: np.random.Generator) -> list:
        """What a caller under ``policy`` receives, one entry per instance: a probability list
        (``full``, top-k, rounded, noisy, re-tempered) or a label (``label-only``)."""
        shown = policy.apply(outputs, rng)
        if shown.kind is OutputKind.LABEL:
            return [self.classes[int(i)] for i in np.asarray(shown.values)]
        values = np.asarray(shown.values, dtype=np.float64)
        if shown.kind is OutputKind.LOGITS:
            values = softmax(values, axis=1)
        return values.tolist()


def _plain(value: Any) -> Any:
    """A class label as JSON: numbers stay numbers, anything else becomes text."""
    if isinstance(value, bool | int | float | str):
        return value
    return str(value)
