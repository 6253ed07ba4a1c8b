"""PyTorch ``nn.Module`` classifiers returning logits (needs the ``torch`` extra)."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from miaudit.errors import InputError, require
from miaudit.targets._device import resolve_device
from miaudit.targets.interface import (
    ClassifierTarget,
    Exposure,
    ProgressCallback,
    WhiteBox,
    label_indices,
)

_FEATURE = "Auditing a PyTorch model"


class TorchTarget(ClassifierTarget, WhiteBox):
    """Query ``module(x)`` in ``eval()`` mode under ``torch.no_grad()``, in batches.

    ``output`` is ``logits`` (default) or ``probabilities`` if the module ends in a softmax.
    """

    kind = "torch"

    def __init__(
        self,
        module: Any,
        classes: Sequence[Any] | int,
        output: str = "logits",
        batch_size: int = 1024,
        device: str = "auto",
    ) -> None:
        self._torch: Any = require("torch", "torch", _FEATURE)
        if not isinstance(module, self._torch.nn.Module):
            raise InputError(f"expected a torch.nn.Module, got {type(module).__name__}")
        if output not in ("logits", "probabilities"):
            raise InputError(f"output={output!r}; a torch target returns logits or probabilities")
        device = resolve_device(device, self._torch)
        self.module = module.to(device)
        # torch.export modules refuse eval(); they are already in inference form.
        with contextlib.suppress(NotImplementedError):
            self.module.eval()
        self.device = device
        self.batch_size = batch_size
        self._exposes = Exposure.of(output)
        self.output = output
        #: The accountant's ε when the module was trained with DP-SGD (``None``: not DP).
        self.dp_epsilon: float | None = None
        self._classes = np.arange(classes) if isinstance(classes, int) else np.asarray(classes)

    def __getstate__(self) -> dict[str, Any]:
        """Picklable (a model trained in a worker process or a Ray task comes back pickled):
        everything but the torch module object, imported again on arrival."""
        return {k: v for k, v in self.__dict__.items() if k != "_torch"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._torch = require("torch", "torch", _FEATURE)

    @classmethod
    def from_file(
        cls, path: str | Path, classes: Sequence[Any] | int, trust: bool = False, **kwargs: Any
    ) -> TorchTarget:
        """Load a ``torch.export`` program (``.pt2``, in any case) or a TorchScript file (any
        other suffix).

        A model file's code runs when the model is used, so ``trust`` must be set."""
        torch: Any = require("torch", "torch", _FEATURE)
        path = Path(path)
        if not trust:
            raise InputError(
                f"refusing to load {path}: a model file runs its code when used. If you trust "
                "it, pass trust=True (CLI: --trust-model-file, config: target.trust = true)"
            )
        if not path.is_file():
            raise InputError(f"model file not found: {path}")
        try:
            if path.suffix.lower() == ".pt2":  # as the file-type table reads it
                module = torch.export.load(str(path)).module()
            else:
                module = torch.jit.load(str(path), map_location="cpu")
        except Exception as exc:  # a corrupt or foreign file can raise nearly anything
            raise InputError(f"cannot load PyTorch model {path}: {exc}") from exc
        return cls(module, classes, **kwargs)

    def _predict(self, features: Any) -> np.ndarray:
        torch = self._torch
        array = np.asarray(features, dtype=np.float32)
        with torch.no_grad():
            out = self.module(torch.from_numpy(array).to(self.device))
        return out.detach().cpu().double().numpy()

    def gradient_norms(self, records: Any, progress: ProgressCallback | None = None) -> np.ndarray:
        """Per-record norm of the gradient of the cross-entropy on the true label with respect
        to every trainable parameter, vectorised over records with ``torch.func``."""
        torch = self._torch
        from torch.func import functional_call, grad, vmap

        params = {k: v.detach() for k, v in self.module.named_parameters() if v.requires_grad}
        if not params:
            raise InputError(
                "gradient-norm needs a module with trainable parameters (a torch.export or "
                "TorchScript file has none to differentiate: pass the nn.Module)"
            )
        buffers = {k: v.detach() for k, v in self.module.named_buffers()}
        module, probabilities = self.module, self.output == "probabilities"

        def loss(p: Any, x: Any, y: Any) -> Any:
            out = functional_call(module, (p, buffers), (x.unsqueeze(0),))
            logp = torch.log(out.clamp_min(1e-12)) if probabilities else out.log_softmax(-1)
            return torch.nn.functional.nll_loss(logp, y.unsqueeze(0))

        per_record = vmap(grad(loss), in_dims=(None, 0, 0))
        y_all = label_indices(np.asarray(records.labels), self.classes)
        x_all = np.asarray(records.features, dtype=np.float32)
        parts = []
        for start in range(0, len(y_all), 256):
            x = torch.from_numpy(x_all[start : start + 256]).to(self.device)
            y = torch.from_numpy(y_all[start : start + 256]).to(self.device)
            try:
                grads = per_record(params, x, y)
            except Exception as exc:  # torch.func refuses some modules; say which
                raise InputError(f"cannot take per-record gradients of this module: {exc}") from exc
            squares = sum(g.reshape(len(y), -1).double().pow(2).sum(1) for g in grads.values())
            parts.append(torch.sqrt(squares).cpu().numpy())
            if progress is not None:
                progress(len(y))
        return np.concatenate(parts)
