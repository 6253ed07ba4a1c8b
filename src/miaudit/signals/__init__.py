"""Signals: pure, vectorised functions from a target's outputs to one number per record —
:mod:`.classifier` from logits, probabilities or labels; :mod:`.lm` from token statistics."""

from miaudit.signals.classifier import (
    LABEL_SIGNALS,
    SCORE_SIGNALS,
    compute_signals,
    tempered_loss_name,
)
from miaudit.signals.lm import MIN_K, lm_signals, mean_loss, min_k, min_k_plus_plus

__all__ = [
    "LABEL_SIGNALS",
    "MIN_K",
    "SCORE_SIGNALS",
    "compute_signals",
    "lm_signals",
    "mean_loss",
    "min_k",
    "min_k_plus_plus",
    "tempered_loss_name",
]
