"""Signals: pure, vectorised functions from model outputs to one number per record.

All score-based signals are computed from log-probabilities, which are exact for logits
(``log_softmax``) and as good as the probabilities allow otherwise, so nothing cancels
catastrophically near ``p = 1``. Work is done in row chunks so that a million records × 100
classes never materialises more than one chunk of temporaries.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from scipy.special import log_softmax, logsumexp

from miaudit.targets.exposure import OutputKind
from miaudit.targets.interface import Outputs

#: Smallest log-probability we keep: log of the smallest normal float64. A probability reported
#: as exactly 0 becomes this, so the loss is large and finite instead of inf.
LOG_FLOOR = float(np.log(np.finfo(np.float64).tiny))

SCORE_SIGNALS = ("confidence", "loss", "entropy", "modified_entropy", "logit_confidence", "margin")
LABEL_SIGNALS = ("correct",)
CHUNK_ROWS = 32768


def log_probabilities(values: np.ndarray, kind: OutputKind) -> np.ndarray:
    """Row-wise log-probabilities from logits or probabilities."""
    if kind is OutputKind.LOGITS:
        return log_softmax(values, axis=1)
    if kind is OutputKind.PROBABILITIES:
        with np.errstate(divide="ignore"):
            logp = np.log(np.clip(values, 0.0, 1.0))
        return np.maximum(logp, LOG_FLOOR)
    raise ValueError("label-only outputs have no probabilities")


def log1mexp(logp: np.ndarray, p: np.ndarray | None = None) -> np.ndarray:
    """``log(1 - exp(logp))`` for ``logp <= 0``, stable at both ends (Mächler 2012):
    ``log1p(-p)`` where p < 1/2, ``log(-expm1(logp))`` where p ≥ 1/2 (only those entries)."""
    logp = np.minimum(logp, -np.finfo(np.float64).tiny)
    with np.errstate(divide="ignore"):  # p == 1 entries are replaced just below
        out = np.log1p(-(np.exp(logp) if p is None else p))
    near_one = logp > -np.log(2.0)
    out[near_one] = np.log(-np.expm1(logp[near_one]))
    return np.maximum(out, LOG_FLOOR)


def _score_signals(logp: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    rows = np.arange(len(y))
    logp_y = logp[rows, y]
    p = np.exp(logp)
    others = logp.copy()
    others[rows, y] = -np.inf
    # Song & Mittal (2021), eq. 4: Mentr = -(1-p_y) log p_y - sum_{j != y} p_j log(1 - p_j).
    log_one_minus = log1mexp(logp, p)
    p_others = p.copy()
    p_others[rows, y] = 0.0
    modified_entropy = -(1.0 - p[rows, y]) * logp_y - np.einsum("ij,ij->i", p_others, log_one_minus)
    # Carlini et al. (2022), eq. 4: log(p_y / (1 - p_y)), computed as
    # log p_y - logsumexp_{j != y} log p_j so that nothing cancels as p_y -> 1.
    logit_confidence = logp_y - logsumexp(others, axis=1)
    return {
        "confidence": p[rows, y],
        # -log p_y = softplus(-logit confidence): stays exact (≈ 1e-20, not 0) when p_y
        # rounds to 1, where -log_softmax would tie every saturated record at 0.
        "loss": np.logaddexp(0.0, -logit_confidence),
        "entropy": -np.einsum("ij,ij->i", p, logp),
        "modified_entropy": modified_entropy,
        "logit_confidence": logit_confidence,
        "margin": logp_y - others.max(axis=1),
        "correct": (logp.argmax(axis=1) == y).astype(np.float64),
    }


def tempered_loss_name(temperature: float) -> str:
    """The signal holding −log softmax(z / T)_y; ``loss`` itself at T = 1."""
    return "loss" if temperature == 1.0 else f"loss@T={temperature:g}"


def _tempered_loss(logp: np.ndarray, y: np.ndarray, temperature: float) -> np.ndarray:
    # Log-probabilities are logits up to a per-row constant, which softmax ignores: the
    # tempered distribution is well defined from probabilities as well as from logits.
    scaled = logp / temperature
    rows = np.arange(len(y))
    others = scaled.copy()
    others[rows, y] = -np.inf
    return np.logaddexp(0.0, logsumexp(others, axis=1) - scaled[rows, y])


def compute_signals(
    outputs: Outputs, label_index: np.ndarray, temperatures: tuple[float, ...] = ()
) -> dict[str, np.ndarray]:
    """Every signal the outputs allow, per record. ``label_index`` is the true class column;
    each of ``temperatures`` adds the loss of the tempered softmax (see
    :func:`tempered_loss_name`)."""
    n = len(outputs)
    if outputs.kind is OutputKind.LABEL:
        return {"correct": (outputs.values == label_index).astype(np.float64)}
    extra = tuple(t for t in dict.fromkeys(temperatures) if t != 1.0)
    names = (*SCORE_SIGNALS, *LABEL_SIGNALS, *map(tempered_loss_name, extra))
    result = {name: np.empty(n, dtype=np.float64) for name in names}
    for start in range(0, n, CHUNK_ROWS):
        stop = min(start + CHUNK_ROWS, n)
        chunk = outputs.values[start:stop].astype(np.float64, copy=False)
        logp = log_probabilities(chunk, outputs.kind)
        y = label_index[start:stop]
        for name, column in _score_signals(logp, y).items():
            result[name][start:stop] = column
        for t in extra:
            result[tempered_loss_name(t)][start:stop] = _tempered_loss(logp, y, t)
    return result


def saturated(signals: Mapping[str, np.ndarray], audited: np.ndarray) -> int:
    """How many ``audited`` records have a true-class probability of exactly 1.0 (0 without
    the confidence signal): their loss and logit-scaled confidence are cut off by the
    probabilities' precision and tie."""
    if "confidence" not in signals:
        return 0
    return int((signals["confidence"][audited] >= 1.0).sum())
