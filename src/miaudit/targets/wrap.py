"""Meet users where they are: wrap a bare model in the right :class:`Target`.

Accepted: a :class:`Target`; a fitted scikit-learn estimator or ``Pipeline`` (and xgboost or
lightgbm models through their scikit-learn API); a ``torch.nn.Module`` returning logits; a
Python callable returning probabilities, logits or labels. Anything else is an
:class:`InputError` listing these.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from miaudit.errors import InputError
from miaudit.targets.callable import CallableTarget
from miaudit.targets.interface import PROBABILITY_SUM_TOLERANCE, Target
from miaudit.targets.sklearn import SklearnTarget

ACCEPTED = (
    "a miaudit Target (SklearnTarget, TorchTarget, CallableTarget, PrecomputedTarget, "
    "CausalLMTarget), a fitted scikit-learn estimator or Pipeline (xgboost and lightgbm through "
    "their scikit-learn API), a torch.nn.Module that returns logits, or a function from a batch "
    "of feature rows to probabilities, logits or labels"
)


def as_target(model: Any, probe: Any = None, labels: np.ndarray | None = None) -> Target:
    """``model`` as a :class:`Target`. For a torch module or a function, the classes are taken
    from ``labels`` (every true label of the audit) and the width of its outputs on ``probe``
    (a few feature rows)."""
    if isinstance(model, Target):
        return model
    if _is_sklearn(model):
        if getattr(model, "classes_", None) is None:
            raise InputError(
                f"{type(model).__name__} is not fitted (it has no classes_): fit it first"
            )
        return SklearnTarget(model)
    refuse_bare_language_model(model)
    if _is_torch_module(model):
        from miaudit.targets.torch import TorchTarget

        values = _probe(lambda x: TorchTarget(model, 2)._predict(x), probe)
        return TorchTarget(model, _classes(values.shape[1], labels), output="logits")
    if callable(model):
        values = _probe(model, probe)
        output = _output_kind(values)
        if output == "label" and labels is not None and not np.isin(values, labels).all():
            raise InputError(
                "the function returns one number per record that is not a class label; return "
                "an (n, k) array of probabilities or logits, or wrap it in "
                "CallableTarget(fn, classes, output=...)"
            )
        width = 0 if output == "label" else values.shape[1]
        return CallableTarget(model, _classes(width, labels, values), output=output)
    raise InputError(f"cannot audit a {type(model).__name__}: pass {ACCEPTED}")


def refuse_bare_language_model(model: Any) -> None:
    """A transformers model cannot be wrapped without its tokenizer: say how."""
    if not isinstance(model, Target) and hasattr(model, "generate") and hasattr(model, "config"):
        raise InputError(
            f"{type(model).__name__} is a language model: wrap it with its tokenizer, "
            "CausalLMTarget(model, tokenizer), and pass texts as members and non-members"
        )


def _is_sklearn(model: Any) -> bool:
    return (
        hasattr(model, "fit")
        and (hasattr(model, "predict_proba") or hasattr(model, "predict"))
        and hasattr(model, "get_params")
    )


def _is_torch_module(model: Any) -> bool:
    torch = sys.modules.get("torch")  # a torch module exists only if torch was imported
    return torch is not None and isinstance(model, torch.nn.Module)


def _probe(fn: Callable[[Any], Any], probe: Any) -> np.ndarray:
    if probe is None:
        raise InputError("a bare model needs records to infer its classes from; pass members")
    try:
        values = np.asarray(fn(probe))
    except Exception as exc:  # the user's model refusing our records
        raise InputError(f"the model failed on the first records: {exc}") from exc
    if values.ndim not in (1, 2):
        raise InputError(f"the model returned an array of shape {values.shape}; expected (n, k)")
    return values


def _output_kind(values: np.ndarray) -> str:
    """Labels (1-D), probabilities (rows in [0, 1] summing to one) or logits."""
    if values.ndim == 1:
        return "label"
    numeric = values.astype(np.float64)
    in_range = numeric.min() >= 0 and numeric.max() <= 1
    sums_to_one = np.all(np.abs(numeric.sum(axis=1) - 1) <= PROBABILITY_SUM_TOLERANCE)
    return "probabilities" if in_range and sums_to_one else "logits"


def _classes(width: int, labels: np.ndarray | None, predicted: Any = None) -> Any:
    """The classes of a model whose outputs have ``width`` columns (0: labels only)."""
    known = np.unique(labels) if labels is not None else np.array([])
    if width == 0:
        return np.unique(np.r_[known, np.asarray(predicted)]) if len(known) else predicted
    if known.dtype.kind in "iu" and (len(known) == 0 or (known.min() >= 0 and known.max() < width)):
        return width
    if len(known) == width:
        return known
    raise InputError(
        f"the model returns {width} columns but the records hold {len(known)} classes "
        f"({known[:10].tolist()}); wrap it in a target that names its classes, e.g. "
        "CallableTarget(fn, classes=[...]) or TorchTarget(module, classes=[...])"
    )
