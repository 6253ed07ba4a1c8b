"""Recipes: how to train a model like the target on other data.

A scikit-learn estimator clones itself (``sklearn.base.clone``), exactly because estimators are
reconstructible from their constructor parameters. A PyTorch model is described by a
:class:`TorchRecipe` (model factory, optimiser, epochs, batch size), and anything else by a
:class:`FunctionRecipe` around the user's own ``fit(records)``. A recipe has a stable
``fingerprint`` so that the cache can tell two recipes apart.
"""

from __future__ import annotations

import hashlib
import inspect
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

import numpy as np

from miaudit.data import RecordSet
from miaudit.errors import InputError, require
from miaudit.targets._device import resolve_device
from miaudit.targets.interface import Target, label_indices


class Recipe(ABC):
    """Train one reference model and wrap it as a :class:`Target`."""

    @abstractmethod
    def fit(self, features: Any, labels: np.ndarray, seed: int, classes: np.ndarray) -> Target:
        """A model trained on these records with this seed, ready to query; its output columns
        are ``classes`` (the target's), in that order."""

    @abstractmethod
    def fingerprint(self) -> str:
        """A stable text that changes whenever the recipe would train a different model."""

    def prepare_worker(self) -> None:
        """Called once in each worker process before it trains (e.g. to limit threads); by
        default there is nothing to prepare."""
        return None


def _digest(*parts: object) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def _code_identity(function: Callable[..., Any]) -> tuple[str, str]:
    """A callable's qualified name and, when Python can find it, a hash of its source: editing
    the function's code changes the fingerprint, and so misses the cache."""
    name = f"{getattr(function, '__module__', '?')}.{getattr(function, '__qualname__', function)}"
    try:
        source = inspect.getsource(function)
    except (OSError, TypeError):
        source = ""
    return name, hashlib.sha256(source.encode()).hexdigest()[:16]


def _check_classes(target: Target, classes: np.ndarray, who: str) -> Target:
    got, want = np.asarray(target.classes).astype(str), np.asarray(classes).astype(str)
    if got.shape != want.shape or not (got == want).all():
        raise InputError(
            f"{who} returned a model with classes {got.tolist()[:10]}, but the "
            f"target's are {want.tolist()[:10]} (same classes, same order)"
        )
    return target


def fitted_dtype(estimator: Any) -> np.dtype | None:
    """float32 when the fitted estimator's weights are float32 (it was trained on float32
    features), so reference models train in the same precision; ``None`` otherwise."""
    final = estimator
    while hasattr(final, "steps"):  # a Pipeline: its last step holds the weights
        final = final.steps[-1][1]
    weights = getattr(final, "coefs_", None) or [getattr(final, "coef_", None)]
    first = weights[0]
    if isinstance(first, np.ndarray) and first.dtype == np.float32:
        return np.dtype(np.float32)
    return None


class SklearnRecipe(Recipe):
    """Clone an estimator (unfitted) and fit it; ``random_state`` parameters get the seed.
    A target fitted on float32 features (float32 weights) trains its references on float32
    features too: the same model, and faster (Privacy Meter trains in the target's dtype)."""

    def __init__(self, estimator: Any) -> None:
        from sklearn.base import clone

        try:
            self.template = clone(estimator)
        except Exception as exc:  # not an estimator that follows the sklearn contract
            raise InputError(
                f"cannot clone {type(estimator).__name__} to train reference models: {exc}"
            ) from exc
        self.dtype = fitted_dtype(estimator)

    def fit(self, features: Any, labels: np.ndarray, seed: int, classes: np.ndarray) -> Target:
        import warnings

        from sklearn.base import clone
        from sklearn.exceptions import ConvergenceWarning

        from miaudit.targets.sklearn import SklearnTarget

        model = clone(self.template)
        seeds = {
            k: seed
            for k in model.get_params(deep=True)
            if k == "random_state" or k.endswith("__random_state")
        }
        model.set_params(**seeds)
        if self.dtype is not None and isinstance(features, np.ndarray):
            features = features.astype(self.dtype)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(features, labels)
        # A model whose rows missed a class has fewer output columns; reference_signals names
        # the problem, so it is not checked here.
        return SklearnTarget(model)

    def fingerprint(self) -> str:
        params = self.template.get_params(deep=True)
        return _digest(
            type(self.template).__qualname__,
            sorted((k, repr(v)) for k, v in params.items() if not hasattr(v, "get_params")),
            *(["float32"] if self.dtype is not None else []),  # float64 keys stay as they were
        )


_TORCH = "Training PyTorch reference models"


class TorchRecipe(Recipe):
    """Train a fresh ``model()`` (a factory returning an ``nn.Module`` that outputs logits) with
    cross-entropy, ``optimizer`` (``"adam"``, ``"sgd"`` with momentum 0.9, or a callable
    ``params -> torch.optim.Optimizer``), ``epochs`` passes over shuffled mini-batches of
    ``batch_size``. Seeded: the same seed trains the same model, in any process.

    For the local process pool the factory (and a callable optimiser) must be picklable:
    defined at module level, or a ``functools.partial`` of such. ``threads`` caps torch's
    threads in each worker so parallel models do not oversubscribe the cores.
    """

    def __init__(
        self,
        model: Callable[[], Any],
        *,
        optimizer: str | Callable[[Any], Any] = "adam",
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        epochs: int = 10,
        batch_size: int = 64,
        threads: int | None = 1,
        version: str = "",
        device: str = "auto",
    ) -> None:
        if not callable(model):
            raise InputError(
                "TorchRecipe: model must be a factory, a callable returning a fresh torch.nn.Module"
            )
        if isinstance(optimizer, str) and optimizer not in ("adam", "sgd"):
            raise InputError(
                f"TorchRecipe: optimizer {optimizer!r}; use 'adam', 'sgd' or a "
                "callable params -> torch.optim.Optimizer"
            )
        if epochs < 1 or batch_size < 1 or not lr > 0 or weight_decay < 0:
            raise InputError(
                "TorchRecipe: epochs and batch_size must be ≥ 1, lr > 0, weight_decay ≥ 0"
            )
        self.model, self.optimizer = model, optimizer
        self.lr, self.weight_decay = float(lr), float(weight_decay)
        self.epochs, self.batch_size, self.threads = int(epochs), int(batch_size), threads
        self.version = version
        self.device = device

    def prepare_worker(self) -> None:
        if self.threads:
            torch: Any = require("torch", "torch", _TORCH)
            torch.set_num_threads(self.threads)

    def _optimizer(self, parameters: Any) -> Any:
        torch: Any = require("torch", "torch", _TORCH)
        if self.optimizer == "adam":
            return torch.optim.Adam(parameters, lr=self.lr, weight_decay=self.weight_decay)
        if self.optimizer == "sgd":
            return torch.optim.SGD(
                parameters, lr=self.lr, momentum=0.9, weight_decay=self.weight_decay
            )
        return self.optimizer(parameters)  # type: ignore[operator]

    def fit(self, features: Any, labels: np.ndarray, seed: int, classes: np.ndarray) -> Target:
        torch: Any = require("torch", "torch", _TORCH)
        from miaudit.targets.torch import TorchTarget

        torch.manual_seed(seed)
        device = resolve_device(self.device, torch)
        module = self.model()
        if not isinstance(module, torch.nn.Module):
            raise InputError(
                f"TorchRecipe: the factory returned {type(module).__name__}, not a torch.nn.Module"
            )
        module = module.to(device)
        x = torch.as_tensor(np.asarray(features, dtype=np.float32)).to(device)
        y = torch.as_tensor(label_indices(np.asarray(labels), np.asarray(classes))).to(device)
        optimizer = self._optimizer(module.parameters())
        generator = torch.Generator().manual_seed(seed)
        module.train()
        for _ in range(self.epochs):
            for batch in torch.randperm(len(x), generator=generator).split(self.batch_size):
                optimizer.zero_grad()
                loss = torch.nn.functional.cross_entropy(module(x[batch]), y[batch])
                loss.backward()
                optimizer.step()
        return TorchTarget(module, classes=classes, device=device)

    def fingerprint(self) -> str:
        optimizer = (
            self.optimizer if isinstance(self.optimizer, str) else _code_identity(self.optimizer)
        )
        return _digest(
            "torch",
            _code_identity(self.model),
            str(self.model()),
            optimizer,
            self.lr,
            self.weight_decay,
            self.epochs,
            self.batch_size,
            self.version,
        )


class FunctionRecipe(Recipe):
    """The user's own training function: ``fit(records)`` or ``fit(records, seed)`` takes a
    :class:`RecordSet` and returns a :class:`Target` (or a fitted scikit-learn estimator).

    The cache fingerprint is the function's name and source; pass ``version`` to tell the cache
    that something the source does not show (data files, library versions) changed."""

    def __init__(self, fit: Callable[..., Any], version: str = "") -> None:
        if not callable(fit):
            raise InputError("FunctionRecipe: fit must be a function fit(records[, seed])")
        try:
            arity = len(inspect.signature(fit).parameters)
        except (TypeError, ValueError):
            arity = 1
        self.function, self.with_seed, self.version = fit, arity >= 2, version

    def fit(self, features: Any, labels: np.ndarray, seed: int, classes: np.ndarray) -> Target:
        records = RecordSet.from_arrays(features, labels, name="reference training set")
        model = self.function(records, seed) if self.with_seed else self.function(records)
        if not isinstance(model, Target):
            if not hasattr(model, "predict"):
                raise InputError(
                    f"FunctionRecipe: fit returned {type(model).__name__}; return "
                    "a miaudit Target or a fitted scikit-learn estimator"
                )
            from miaudit.targets.sklearn import SklearnTarget

            model = SklearnTarget(model)
        return _check_classes(model, classes, "FunctionRecipe's fit")

    def fingerprint(self) -> str:
        return _digest("function", _code_identity(self.function), self.with_seed, self.version)
