"""A ready-made PyTorch model factory for recipes: a multilayer perceptron with dropout.

``TorchRecipe(MLP(inputs=600, classes=100, hidden=(128,), dropout=0.5))`` — the factory is a
small picklable object (it travels to worker processes and Ray tasks), and its settings show
in the recipe's description and cache fingerprint.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from miaudit.errors import InputError, require


class MLP:
    """Builds ``Linear → ReLU → Dropout`` blocks for each hidden width, then a linear layer to
    the class logits. ``dropout`` = 0 builds the same layers with p = 0, so
    ``TorchRecipe(dropout=…)`` can sweep it."""

    def __init__(
        self, inputs: int, classes: int, hidden: Sequence[int] = (128,), dropout: float = 0.0
    ) -> None:
        if inputs < 1 or classes < 2 or any(int(h) < 1 for h in hidden):
            raise InputError(
                f"MLP: inputs ≥ 1, classes ≥ 2 and hidden widths ≥ 1; got inputs={inputs}, "
                f"classes={classes}, hidden={list(hidden)}"
            )
        if not 0 <= dropout < 1:
            raise InputError(f"MLP: dropout must be in [0, 1), got {dropout}")
        self.inputs, self.classes = int(inputs), int(classes)
        self.hidden, self.dropout = tuple(int(h) for h in hidden), float(dropout)

    def __call__(self) -> Any:
        torch: Any = require("torch", "torch", "A PyTorch MLP")
        layers: list[Any] = []
        width = self.inputs
        for h in self.hidden:
            layers += [torch.nn.Linear(width, h), torch.nn.ReLU(), torch.nn.Dropout(self.dropout)]
            width = h
        layers.append(torch.nn.Linear(width, self.classes))
        return torch.nn.Sequential(*layers)

    def __repr__(self) -> str:
        return (
            f"MLP(inputs={self.inputs}, classes={self.classes}, hidden={list(self.hidden)}, "
            f"dropout={self.dropout:g})"
        )
