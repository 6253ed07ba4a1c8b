"""A classifier in an ONNX file, run with onnxruntime (``pip install 'miaudit[onnx]'``).

Which output to read: ``output_name`` (and ``output``: probabilities, logits or label) if given;
else the model's metadata property ``miaudit.output`` (``"NAME:KIND"``); else the names
converters use — skl2onnx's ``output_probability`` (probabilities, a ZipMap of class → score or
a tensor), an output named like ``logits`` or ``probabilities``, or ``output_label``. Anything
else is an error listing the model's outputs. An ONNX file holds no code: no ``trust`` needed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, get_args

import numpy as np

from miaudit.errors import InputError, require
from miaudit.targets.exposure import ClassifierOutput, Exposure
from miaudit.targets.interface import ClassifierTarget

KINDS: tuple[str, ...] = get_args(ClassifierOutput)


def _guess(names: list[str]) -> tuple[str, str] | None:
    """(output name, kind) from the names converters use."""
    lowered = {n.lower(): n for n in names}
    for key, kind in (("output_probability", "probabilities"), ("output_label", "label")):
        if key in lowered and (kind != "label" or len(names) == 1):
            return lowered[key], kind
    for name in names:
        low = name.lower()
        if "logit" in low:
            return name, "logits"
        if "prob" in low:
            return name, "probabilities"
    if "output_label" in lowered:
        return lowered["output_label"], "label"
    return None


class OnnxTarget(ClassifierTarget):
    """An ONNX classifier (see the module for how its output is chosen)."""

    kind = "onnx"

    def __init__(
        self,
        session: Any,
        output_name: str,
        output: str,
        classes: Any = None,
        batch_size: int = 4096,
        source: str = "",
    ) -> None:
        if output not in KINDS:
            raise InputError(f"output must be one of {', '.join(KINDS)}, got {output!r}")
        inputs = session.get_inputs()
        if len(inputs) != 1:
            raise InputError(
                f"the ONNX model has {len(inputs)} inputs ({', '.join(i.name for i in inputs)}); "
                "miaudit feeds one feature matrix"
            )
        self._session, self._input = session, inputs[0]
        self._dtype = np.float64 if "double" in self._input.type else np.float32
        self.output_name, self.batch_size, self.source = output_name, int(batch_size), source
        self._exposes = Exposure.of(output)
        self._classes = self._find_classes(classes)

    @classmethod
    def from_file(
        cls,
        path: str | Path,
        classes: Any = None,
        output: str | None = None,
        output_name: str | None = None,
        batch_size: int = 4096,
    ) -> OnnxTarget:
        ort: Any = require("onnxruntime", "onnx", "Auditing an ONNX model")
        path = Path(path)
        if not path.is_file():
            raise InputError(f"ONNX model not found: {path}")
        try:
            session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        except Exception as exc:  # a corrupt file can raise nearly anything
            raise InputError(f"cannot load ONNX model {path}: {exc}") from exc
        names = [o.name for o in session.get_outputs()]
        if output_name is None:
            meta = session.get_modelmeta().custom_metadata_map.get("miaudit.output", "")
            if meta:
                output_name, _, kind = meta.partition(":")
                output = output or kind or "probabilities"
            else:
                guessed = _guess(names)
                if guessed is None:
                    raise InputError(
                        f"cannot tell which output of {path} holds the predictions (outputs: "
                        f"{', '.join(names)}); pass output_name= and output= (config: "
                        "target.output_name, target.output)"
                    )
                output_name, kind = guessed
                output = output or kind
        if output_name not in names:
            raise InputError(f"{path} has no output {output_name!r}; it has {', '.join(names)}")
        return cls(session, output_name, output or "probabilities", classes, batch_size, str(path))

    def _find_classes(self, classes: Any) -> np.ndarray:
        if classes is not None:
            found = np.arange(classes) if isinstance(classes, int) else np.asarray(classes)
        else:  # a ZipMap names the classes: ask the model once
            probe = np.zeros((1, self._width()), dtype=self._dtype)
            first = self._session.run([self.output_name], {self._input.name: probe})[0]
            if isinstance(first, list) and first and isinstance(first[0], dict):
                found = np.asarray(list(first[0].keys()))
            else:
                raise InputError(
                    "the ONNX model's output does not name its classes; pass classes= (the "
                    "number of classes or a list; config: target.classes)"
                )
        if len(found) < 2:
            raise InputError("an ONNX classifier needs 2 or more classes")
        return found

    def _width(self) -> int:
        shape = self._input.shape
        if len(shape) != 2 or not isinstance(shape[1], int):
            raise InputError(
                f"the ONNX model's input {self._input.name!r} has shape {shape}; pass classes="
            )
        return shape[1]

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "output_name": self.output_name}

    def _predict(self, features: Any) -> np.ndarray:
        batch = np.asarray(features, dtype=self._dtype)
        values = self._session.run([self.output_name], {self._input.name: batch})[0]
        if isinstance(values, list) and values and isinstance(values[0], dict):  # ZipMap
            keys = list(values[0].keys())
            order = [keys.index(c) for c in self.classes.tolist()]
            values = np.asarray([[row[keys[i]] for i in order] for row in values])
        values = np.asarray(values)
        if self.exposes.label_only:
            return values.reshape(len(batch))
        return values.astype(np.float64).reshape(len(batch), -1)
