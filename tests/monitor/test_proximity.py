"""The proximity index: near copies of training records hit it, fresh records rarely do, at the
rates its own formula predicts; keyed by the secret; nothing but bucket keys and the features'
means and scales in it."""

from __future__ import annotations

import numpy as np
import pytest

from miaudit.errors import InputError
from miaudit.monitor.proximity import ProximityIndex, ProximityParams, hit_probability

SECRET = b"0123456789abcdef-test-secret"


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3000, 10)) * np.arange(1, 11) + 5  # features on their own scales
    return x[:1000], x[1000:]


def _moved(x: np.ndarray, scale: np.ndarray, rms: float, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    d = rng.normal(size=x.shape)
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    return x + d * rms * np.sqrt(x.shape[1]) * scale


def test_near_copies_hit_at_the_predicted_rate_and_fresh_records_do_not(data) -> None:
    train, fresh = data
    params = ProximityParams(radius=0.1)
    index = ProximityIndex.build(train, SECRET, params)
    assert index.near(train).all()  # the records themselves
    measured = []
    for rms in (1e-5, 1e-3, 0.05, 0.1, 0.2, 0.4):
        found = index.near(_moved(train, index.scale, rms)).mean()
        expected = float(hit_probability(rms, params, 10))
        # the formula averages over random projections; these are fixed ones (observed within
        # 0.06 of it on this data), and 1,000 records add a binomial s.e. of at most 0.016
        assert abs(found - expected) <= 0.08, (rms, found, expected)
        measured.append(found)
    assert measured[:2] == [1.0, 1.0] and measured == sorted(measured, reverse=True)
    assert hit_probability(0.1, params, 10) > 0.9
    assert hit_probability(0.3, params, 10) < 0.05
    # fresh records of the same distribution: few are that near a training record
    assert index.near(fresh).mean() < 0.05


def test_keyed_by_the_secret_and_holds_no_record(data, tmp_path) -> None:
    train, _ = data
    index = ProximityIndex.build(train, SECRET)
    other = ProximityIndex.build(train, b"another-secret-0123456789")
    # another secret: other projections and other keys (no bucket key in common)
    assert np.intersect1d(index.buckets, other.buckets).size == 0
    wrong = ProximityIndex(index.params, index.mean, index.scale, index.buckets, b"x" * 32)
    assert wrong.near(train).mean() < 0.01
    stored = index.arrays()
    assert set(stored) == {"proximity_buckets", "proximity_mean", "proximity_scale"}
    assert stored["proximity_buckets"].dtype == np.uint64
    assert len(stored["proximity_buckets"]) <= 1000 * index.params.tables
    raw = set(np.round(train.ravel(), 6).tolist())
    assert not raw & set(np.round(stored["proximity_buckets"].astype(np.float64), 6).tolist())


def test_bad_records_and_settings_are_clear_errors(data) -> None:
    train, _ = data
    index = ProximityIndex.build(train, SECRET)
    with pytest.raises(InputError, match="records of 3 values, but the index has 10"):
        index.near(np.zeros((2, 3)))
    with pytest.raises(InputError, match="finite"):
        index.near(np.full((1, 10), np.nan))
    with pytest.raises(InputError, match="radius"):
        ProximityParams(radius=0)
    with pytest.raises(InputError, match="tables"):
        ProximityParams(tables=0)
    with pytest.raises(InputError, match="at least 20 records"):
        ProximityIndex.build(train[:2], SECRET)  # their means and stds would give them away
    with pytest.raises(InputError, match="rows of a matrix"):
        ProximityIndex.build(train[0], SECRET)  # one record, not ten of one feature
    with pytest.raises(InputError, match="rows of a matrix"):
        ProximityIndex.build(np.zeros((30, 0)), SECRET)
    with pytest.raises(InputError, match="secret of 16"):
        ProximityIndex.build(train, b"")
    with pytest.raises(InputError, match="finite"):
        ProximityIndex.build(np.full((30, 2), 1.7e308), SECRET)  # the mean overflows
    with pytest.raises(InputError, match="too far"):
        index.near(np.full((1, 10), 1e300))
    assert ProximityParams(0.1, np.int64(24), np.int64(10)).tables == 24
    broken = {**index.arrays(), "proximity_scale": index.scale[:3]}
    with pytest.raises(InputError, match="broken proximity index"):
        ProximityIndex.from_saved(index.meta(), broken, SECRET)
