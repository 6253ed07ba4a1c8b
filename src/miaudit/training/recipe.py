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

    def __repr__(self) -> str:
        return repr(self.template)

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

    Regularisation: ``weight_decay``; ``label_smoothing`` (cross-entropy against smoothed
    targets); ``early_stopping`` — a fraction of the records held out (seeded), training stopped
    once their loss has not improved for ``patience`` epochs, the best epoch's weights kept;
    ``dropout`` sets p on every dropout layer of the factory's module (a sweep without editing
    the factory; :class:`miaudit.training.MLP` builds one with dropout layers).
    ``dp=miaudit.DP(...)`` trains with DP-SGD.

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
        dp: Any = None,
        label_smoothing: float = 0.0,
        early_stopping: float | None = None,
        patience: int = 3,
        dropout: float | None = None,
    ) -> None:
        from miaudit.training.dp import DP

        if dp is not None and not isinstance(dp, DP):
            raise InputError(f"TorchRecipe: dp must be a miaudit.DP, got {type(dp).__name__}")
        self.dp = dp
        #: The target ε of DP training (the accountant's ε after training is on the model).
        self.dp_epsilon = dp.epsilon if dp is not None else None
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
        if not 0 <= label_smoothing < 1:
            raise InputError(
                f"TorchRecipe: label_smoothing must be in [0, 1), got {label_smoothing}"
            )
        if early_stopping is not None and not 0 < early_stopping < 1:
            raise InputError(
                f"TorchRecipe: early_stopping is the validation fraction, in (0, 1); got "
                f"{early_stopping}"
            )
        if early_stopping is not None and dp is not None:
            raise InputError("TorchRecipe: early stopping on held-out records is not DP; drop one")
        self.label_smoothing, self.early_stopping = float(label_smoothing), early_stopping
        self.patience = int(patience)
        if dropout is not None and not 0 <= dropout < 1:
            raise InputError(f"TorchRecipe: dropout must be in [0, 1), got {dropout}")
        self.dropout = dropout

    def __repr__(self) -> str:
        name = getattr(self.model, "__qualname__", None)
        model = f"{name}()" if name else repr(self.model)
        parts = [model, f"{self.optimizer if isinstance(self.optimizer, str) else 'custom'}"]
        parts += [f"lr={self.lr:g}", f"epochs={self.epochs}", f"batch_size={self.batch_size}"]
        if self.weight_decay:
            parts.append(f"weight_decay={self.weight_decay:g}")
        if self.label_smoothing:
            parts.append(f"label_smoothing={self.label_smoothing:g}")
        if self.dropout is not None:
            parts.append(f"dropout={self.dropout:g}")
        if self.early_stopping is not None:
            parts.append(f"early_stopping={self.early_stopping:g}")
        if self.dp is not None:
            target = (
                f"ε={self.dp.epsilon:g}" if self.dp.epsilon else f"σ={self.dp.noise_multiplier:g}"
            )
            parts.append(f"DP-SGD({target}, δ={self.dp.delta:g}, C={self.dp.max_grad_norm:g})")
        return f"TorchRecipe({', '.join(parts)})"

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
        module = self._build(torch)
        module = module.to(device)
        x = torch.as_tensor(np.asarray(features, dtype=np.float32)).to(device)
        y = torch.as_tensor(label_indices(np.asarray(labels), np.asarray(classes))).to(device)
        optimizer = self._optimizer(module.parameters())
        if self.dp is not None:
            from miaudit.training.dp import train_private

            trained, epsilon = train_private(
                module, optimizer, x, y, self.dp, self.epochs, self.batch_size, seed
            )
            # a fresh module with the trained weights: Opacus' hooks stay on the one it wrapped
            module = self._build(torch).to(device)
            module.load_state_dict(trained.state_dict())
            target = TorchTarget(module, classes=classes, device=device)
            target.dp_epsilon = epsilon
            return target
        self._train(module, optimizer, x, y, seed)
        return TorchTarget(module, classes=classes, device=device)

    def _build(self, torch: Any) -> Any:
        """A fresh module from the factory, its dropout layers set to ``dropout`` if given."""
        module = self.model()
        if not isinstance(module, torch.nn.Module):
            raise InputError(
                f"TorchRecipe: the factory returned {type(module).__name__}, not a torch.nn.Module"
            )
        if self.dropout is not None:
            layers = [
                m for m in module.modules() if isinstance(m, torch.nn.modules.dropout._DropoutNd)
            ]
            if not layers:
                raise InputError(
                    f"TorchRecipe: dropout={self.dropout:g}, but the model has no dropout "
                    "layer to set; add torch.nn.Dropout layers to the factory's model (or use "
                    "miaudit.training.MLP)"
                )
            for layer in layers:
                layer.p = self.dropout
        return module

    def _train(self, module: Any, optimizer: Any, x: Any, y: Any, seed: int) -> None:
        """Mini-batch training; with ``early_stopping``, on all but a held-out fraction, kept
        at the epoch whose held-out loss was lowest."""
        torch: Any = require("torch", "torch", _TORCH)
        generator = torch.Generator().manual_seed(seed)
        held = torch.zeros(len(x), dtype=torch.bool)
        if self.early_stopping is not None:
            order = torch.randperm(len(x), generator=generator)
            held[order[: max(1, int(self.early_stopping * len(x)))]] = True
        train = torch.nonzero(~held).flatten()
        best, best_state, waited = float("inf"), None, 0
        for _ in range(self.epochs):
            module.train()
            for batch in train[torch.randperm(len(train), generator=generator)].split(
                self.batch_size
            ):
                optimizer.zero_grad()
                loss = torch.nn.functional.cross_entropy(
                    module(x[batch]), y[batch], label_smoothing=self.label_smoothing
                )
                loss.backward()
                optimizer.step()
            if self.early_stopping is None:
                continue
            module.eval()
            with torch.no_grad():
                held_loss = float(torch.nn.functional.cross_entropy(module(x[held]), y[held]))
            if held_loss < best:
                best, waited = held_loss, 0
                best_state = {k: v.detach().clone() for k, v in module.state_dict().items()}
            else:
                waited += 1
                if waited >= self.patience:
                    break
        if best_state is not None:
            module.load_state_dict(best_state)

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
            *([repr(self.dp)] if self.dp is not None else []),
            *(
                [self.label_smoothing, self.early_stopping, self.patience]
                if self.label_smoothing or self.early_stopping is not None
                else []
            ),  # older fingerprints unchanged for the default recipe
            *([f"dropout={self.dropout!r}"] if self.dropout is not None else []),
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
