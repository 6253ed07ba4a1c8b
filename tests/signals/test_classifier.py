"""Signals against their textbook formulas, and numerical stability at extreme logits."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import softmax

from miaudit.signals.classifier import compute_signals
from miaudit.targets import OutputKind, Outputs


def naive(p: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    rows = np.arange(len(y))
    py = p[rows, y]
    others = p.copy()
    others[rows, y] = 0
    mentr = -(1 - py) * np.log(py) - np.sum(others * np.log(1 - p), axis=1)
    return {
        "confidence": py,
        "loss": -np.log(py),
        "entropy": -np.sum(p * np.log(p), axis=1),
        "modified_entropy": mentr,
        "logit_confidence": np.log(py / (1 - py)),
        "margin": np.log(py) - np.log(others.max(axis=1)),
        "correct": (p.argmax(axis=1) == y).astype(float),
    }


@pytest.mark.parametrize("kind", [OutputKind.LOGITS, OutputKind.PROBABILITIES])
def test_signals_match_naive_formulas(kind: OutputKind) -> None:
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 2, (500, 5))
    y = rng.integers(0, 5, 500)
    p = softmax(logits, axis=1)
    values = logits if kind is OutputKind.LOGITS else p
    got = compute_signals(Outputs(kind, values, 5), y)
    for name, expected in naive(p, y).items():
        np.testing.assert_allclose(got[name], expected, rtol=1e-9, atol=1e-12, err_msg=name)


def test_signals_are_chunked_consistently(monkeypatch: pytest.MonkeyPatch) -> None:
    import miaudit.signals.classifier as signals

    rng = np.random.default_rng(1)
    outputs = Outputs(OutputKind.LOGITS, rng.normal(size=(1000, 4)), 4)
    y = rng.integers(0, 4, 1000)
    whole = compute_signals(outputs, y)
    monkeypatch.setattr(signals, "CHUNK_ROWS", 7)
    chunked = compute_signals(outputs, y)
    for name in whole:
        np.testing.assert_array_equal(whole[name], chunked[name])


def test_extreme_logits_stay_finite_and_ordered() -> None:
    # p_y = 1 - 1e-40 is exactly 1.0 in float64; from logits the logit-scaled confidence must
    # still be exact (≈ 92.1) rather than inf, and the loss must keep its order.
    logits = np.array([[100.0, 7.9, 0.0], [60.0, 0.0, 0.0], [-50.0, 50.0, 0.0]])
    got = compute_signals(Outputs(OutputKind.LOGITS, logits, 3), np.array([0, 0, 0]))
    for name, values in got.items():
        assert np.all(np.isfinite(values)), name
    assert got["logit_confidence"][0] == pytest.approx(100 - np.logaddexp(7.9, 0.0), rel=1e-12)
    assert got["logit_confidence"][0] > got["logit_confidence"][1] > got["logit_confidence"][2]
    assert got["loss"][2] == pytest.approx(100 + np.log1p(np.exp(-50)), rel=1e-12)
    # p_y rounds to 1.0 in rows 0 and 1, yet their losses stay exact and ordered.
    assert got["loss"][0] == pytest.approx(np.exp(7.9 - 100) + np.exp(-100), rel=1e-9)
    assert 0 < got["loss"][0] < got["loss"][1]
    assert got["margin"][2] == pytest.approx(-100.0)


def test_zero_probability_gives_large_finite_loss() -> None:
    probs = np.array([[0.0, 1.0], [0.5, 0.5]])
    got = compute_signals(Outputs(OutputKind.PROBABILITIES, probs, 2), np.array([0, 0]))
    assert np.isfinite(got["loss"]).all() and got["loss"][0] > 700


def test_label_only_outputs_give_correctness_only() -> None:
    got = compute_signals(Outputs(OutputKind.LABEL, np.array([0, 1, 1]), 2), np.array([0, 0, 1]))
    assert set(got) == {"correct"}
    assert got["correct"].tolist() == [1.0, 0.0, 1.0]
