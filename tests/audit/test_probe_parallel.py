"""Label-only probes side by side on worker processes find exactly what they find one after
another here — and a target that keeps state between queries is never probed apart."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from miaudit import SklearnTarget, audit, harden
from miaudit.audit import pipeline, probe
from miaudit.executors import create
from miaudit.results import AuditResult

ATTACKS = ["loss", "label-noise", "label-boundary"]


def _task() -> tuple[SklearnTarget, tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    x, y = make_classification(n_samples=400, n_features=8, n_informative=4, random_state=3)
    model = LogisticRegression(C=100.0).fit(x[:200], y[:200])
    return SklearnTarget(model), (x[:200], y[:200]), (x[200:], y[200:])


def _run(target: Any, members: Any, nonmembers: Any, executor: str) -> AuditResult:
    return audit(target, members, nonmembers, attacks=ATTACKS, executor=executor, seed=5)


def _same(a: AuditResult, b: AuditResult) -> None:
    assert list(a.score_table.scores) == list(b.score_table.scores)
    for name, scores in a.score_table.scores.items():
        np.testing.assert_array_equal(scores, b.score_table.scores[name])
    assert [x.to_dict() for x in a.attacks] == [x.to_dict() for x in b.attacks]


@pytest.fixture
def apart_calls(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The attacks each side-by-side run probed (on a 2-worker pool, whatever the cores, and
    on 400 records: small enough for a quick test)."""
    calls: list[list[str]] = []
    monkeypatch.setattr(probe, "SIDE_BY_SIDE_RECORDS", 400)
    real = probe._probe_apart

    def spy(model: Any, sets: Any, attacks: list[Any], *rest: Any) -> Any:
        calls.append([a.name for a in attacks])
        return real(model, sets, attacks, *rest)

    monkeypatch.setattr(probe, "_probe_apart", spy)
    monkeypatch.setattr(
        pipeline,
        "probing_executor",
        lambda name: create("inline" if name == "inline" else "local", workers=2),
    )
    return calls


def test_label_only_probes_side_by_side_equal_the_serial_run(
    apart_calls: list[list[str]],
) -> None:
    target, members, nonmembers = _task()
    serial = _run(target, members, nonmembers, "inline")
    assert apart_calls == []  # inline: one after another, here
    side_by_side = _run(target, members, nonmembers, "local")
    assert apart_calls == [["label-noise", "label-boundary"]]
    _same(side_by_side, serial)


def test_few_records_are_probed_here(apart_calls: list[list[str]]) -> None:
    target, members, nonmembers = _task()
    _run(target, members, (nonmembers[0][:100], nonmembers[1][:100]), "local")
    assert apart_calls == []  # 300 records: starting the workers would cost more


def test_a_target_with_noise_per_query_is_probed_here(apart_calls: list[list[str]]) -> None:
    target, members, nonmembers = _task()
    # fresh noise for every query from one generator: the order of queries matters
    results = [
        _run(harden(target, "noise:0.05", seed=1), members, nonmembers, name)
        for name in ("local", "inline")
    ]
    assert apart_calls == []
    _same(*results)
