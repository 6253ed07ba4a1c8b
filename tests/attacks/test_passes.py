"""Scoring passes over texts, declared by language-model attacks: each runs once per signal,
and only with the resources it names."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from miaudit.attacks import REGISTRY, PassInput, TextPass
from miaudit.attacks.passes import run_passes


class Counted(TextPass):
    """Text lengths, counting its runs."""

    def __init__(self, signal: str, resources: tuple[str, ...] = ()) -> None:
        self.signal, self.resources, self.runs = signal, resources, 0

    def run(self, data: PassInput) -> np.ndarray:
        self.runs += 1
        return np.array([len(t) for t in data.texts], dtype=float)


def _input(resources: dict[str, Any]) -> PassInput:
    def score(model: Any, texts: list[str], what: str) -> Any:  # pragma: no cover - unused
        raise AssertionError("these passes never score")

    return PassInput(None, ["ab", "abcd"], None, resources, score)  # type: ignore[arg-type]


def test_each_signal_is_made_once_and_only_with_its_resources() -> None:
    first, same, needs = Counted("a"), Counted("a"), Counted("b", ("masked_lm",))
    made = run_passes([first, same, needs], _input({"masked_lm": None}))
    assert list(made) == ["a"] and made["a"].tolist() == [2.0, 4.0]
    assert (first.runs, same.runs, needs.runs) == (1, 0, 0)
    made = run_passes([needs], _input({"masked_lm": object()}))
    assert list(made) == ["b"] and needs.runs == 1


def test_a_pass_that_returns_the_wrong_shape_is_a_bug() -> None:
    class Short(Counted):
        def run(self, data: PassInput) -> np.ndarray:
            return np.zeros(1)

    with pytest.raises(RuntimeError, match="pass c returned shape"):
        run_passes([Short("c")], _input({}))


def test_the_language_model_attacks_declare_their_passes_and_resources() -> None:
    # what observe.py once chose by attack name is now declared by the attacks
    declared = {
        name: [(p.signal, p.resources) for p in attack.passes]
        for name, attack in REGISTRY.items()
        if attack.passes
    }
    assert declared == {
        "lowercase": [("lowercase_ratio", ())],
        "reference": [("reference_difference", ("reference_lm",))],
        "neighbourhood": [("neighbourhood_difference", ("masked_lm",))],
    }
    for name in declared:  # a pass makes the signal its attack reads
        assert REGISTRY[name].requires.signals == (declared[name][0][0],)
        # and the resource it needs is one the attack declares (so cannot_run explains it)
        for resource in declared[name][0][1]:
            assert getattr(REGISTRY[name].requires, resource) is True
