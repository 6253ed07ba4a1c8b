"""The attacks that fit scikit-learn models do so with one thread per native pool, and give
the pools back as they found them."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from miaudit.attacks import AttackInput, BlindBaselineAttack, ClassifierAttack, ShadowAttack
from miaudit.attacks import classifier as classifier_module
from miaudit.attacks import lm as lm_module
from miaudit.attacks import shadow as shadow_module
from miaudit.attacks.threads import FIT_THREADS
from miaudit.signals import SCORE_SIGNALS


def _pools() -> set[int]:
    return {int(pool["num_threads"]) for pool in threadpool_info()}


def _recording(base: type, seen: list[set[int]]) -> type:
    class Recording(base):  # type: ignore[misc, valid-type]
        def fit(self, *args: Any, **kwargs: Any) -> Any:
            seen.append(_pools())
            return super().fit(*args, **kwargs)

    return Recording


def test_fits_run_on_one_thread_and_restore_the_pools(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(0)
    n, models = 120, 2
    membership = np.r_[np.ones(50), np.zeros(50), np.full(20, -1)].astype(np.int8)
    signals = {s: rng.normal(size=n) for s in SCORE_SIGNALS}
    reference = {s: rng.normal(size=(models, n)) for s in SCORE_SIGNALS}
    texts = np.array([f"text number {i} of {'ab'[i % 2]}" for i in range(n)], dtype=object)
    data = AttackInput(
        signals,
        membership,
        0,
        reference,
        rng.random((models, n)) < 0.5,
        label_index=np.zeros(n, dtype=np.int64),
        texts=texts,
    )
    seen: list[set[int]] = []
    hist = classifier_module.HistGradientBoostingClassifier
    monkeypatch.setattr(classifier_module, "HistGradientBoostingClassifier", _recording(hist, seen))
    monkeypatch.setattr(shadow_module, "HistGradientBoostingClassifier", _recording(hist, seen))
    logistic = lm_module.LogisticRegression
    monkeypatch.setattr(lm_module, "LogisticRegression", _recording(logistic, seen))
    with threadpool_limits(limits=2):  # what the caller had: restored after each attack
        for attack in (
            ClassifierAttack(),
            ShadowAttack(min_class_examples=10),
            BlindBaselineAttack(),
        ):
            scores = attack.scores(data)
            assert scores.shape == (n,) and np.isfinite(scores).all()
            assert _pools() == {2}
    assert len(seen) >= 3 and all(pools == {FIT_THREADS} for pools in seen)
