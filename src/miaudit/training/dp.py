"""DP-SGD for PyTorch recipes, through Opacus (``pip install 'miaudit[dp]'``).

``TorchRecipe(model, ..., dp=DP(epsilon=1.0))`` trains with per-example gradient clipping and
Gaussian noise, Poisson-sampled batches, and Opacus' RDP accountant; the ε it reports after
training is recorded with the model (``target.dp_epsilon``) and shown in every report beside
the empirical lower bound. Reference models of a DP recipe are trained with DP too.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

from miaudit.errors import InputError, require

_FEATURE = "Training with DP-SGD"


@dataclass(frozen=True)
class DP:
    """DP-SGD settings: a target ``epsilon`` (the noise is chosen to reach it over the
    recipe's epochs) or a ``noise_multiplier``; ``delta``; ``max_grad_norm`` (the per-example
    clipping bound)."""

    epsilon: float | None = None
    delta: float = 1e-5
    max_grad_norm: float = 1.0
    noise_multiplier: float | None = None

    def __post_init__(self) -> None:
        if (self.epsilon is None) == (self.noise_multiplier is None):
            raise InputError("DP: give a target epsilon or a noise_multiplier (one of them)")
        if self.epsilon is not None and not 0 < self.epsilon < math.inf:
            raise InputError(f"DP: epsilon must be a finite positive number, got {self.epsilon}")
        if self.noise_multiplier is not None and not 0 < self.noise_multiplier < math.inf:
            raise InputError(f"DP: noise_multiplier must be positive, got {self.noise_multiplier}")
        if not 0 < self.delta < 1:
            raise InputError(f"DP: delta must be in (0, 1), got {self.delta}")
        if not 0 < self.max_grad_norm < math.inf:
            raise InputError(f"DP: max_grad_norm must be positive, got {self.max_grad_norm}")


def train_private(
    module: Any, optimizer: Any, x: Any, y: Any, dp: DP, epochs: int, batch_size: int, seed: int
) -> tuple[Any, float]:
    """Train ``module`` with DP-SGD; the trained module (unwrapped) and the accountant's ε."""
    torch: Any = require("torch", "torch", _FEATURE)
    require("opacus", "dp", _FEATURE)
    from opacus import PrivacyEngine
    from opacus.validators import ModuleValidator

    problems = ModuleValidator.validate(module, strict=False)
    if problems:
        raise InputError(
            f"this model cannot train with DP-SGD: {problems[0]}. Build it with "
            "opacus.validators.ModuleValidator.fix(model) in your factory (BatchNorm becomes "
            "GroupNorm)"
        )
    generator = torch.Generator().manual_seed(seed)
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(x, y), batch_size=batch_size, generator=generator
    )
    engine = PrivacyEngine(accountant="rdp")
    common = {"module": module, "optimizer": optimizer, "data_loader": loader}
    try:
        if dp.epsilon is not None:
            module, optimizer, loader = engine.make_private_with_epsilon(
                **common,
                target_epsilon=dp.epsilon,
                target_delta=dp.delta,
                epochs=epochs,
                max_grad_norm=dp.max_grad_norm,
                noise_generator=generator,
            )
        else:
            module, optimizer, loader = engine.make_private(
                **common,
                noise_multiplier=dp.noise_multiplier,
                max_grad_norm=dp.max_grad_norm,
                noise_generator=generator,
            )
    except ValueError as exc:  # e.g. a target ε the accountant cannot reach
        raise InputError(f"DP-SGD cannot reach these settings: {exc}") from None
    module.train()
    with warnings.catch_warnings():
        # Opacus' hooks warn on every step that inputs need no gradient, and its RDP accountant
        # that a larger order might tighten ε (the ε it reports still holds)
        warnings.simplefilter("ignore", UserWarning)
        for _ in range(epochs):
            for xb, yb in loader:
                if len(xb) == 0:  # Poisson sampling can draw an empty batch
                    continue
                optimizer.zero_grad()
                torch.nn.functional.cross_entropy(module(xb), yb).backward()
                optimizer.step()
        epsilon = float(engine.get_epsilon(dp.delta))
    return module._module, epsilon
