"""Extending miaudit with attacks of your own, without editing the package: a classifier attack
with a parameter, and a language-model attack with its own scoring pass, written in a module of
their own (here a temporary one), registered through the public registry and run end to end by
``miaudit.audit``."""

from __future__ import annotations

import importlib.util
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

import miaudit
from miaudit.attacks import REGISTRY, unregister
from miaudit.errors import InputError

THROWAWAY = '''
"""Throwaway attacks: what a user's own module holds."""

import numpy as np

from miaudit.attacks import (
    Access, Attack, Param, PassInput, Requirements, SignalAttack, TextPass, register,
)
from miaudit.errors import InputError
from miaudit.signals.lm import mean_loss
from miaudit.targets.interface import Modality

#: How often the reversed-text pass ran, and on how many texts.
RUNS = []


class MarginPower(Attack):
    """The margin raised to an odd power: ranks records as the margin does."""

    name = "test-margin-power"
    description = "margin to an odd power (a throwaway attack)"
    requires = Requirements(signals=("margin",))
    parameters = (Param("power", int, 3, "an odd power", low=1, high=9),)

    def __init__(self):
        self._defaults()

    def check(self):
        if self.power % 2 == 0:
            raise InputError(f"attack {self.name}: power must be odd, got {self.power}")

    def scores(self, data):
        return np.asarray(data.signals["margin"], dtype=np.float64) ** self.power


class ReversedPass(TextPass):
    """Each text with its words in reverse order, scored by the target."""

    signal = "reversed_difference"

    def run(self, data: PassInput) -> np.ndarray:
        RUNS.append(len(data.texts))
        flipped = [" ".join(reversed(t.split())) for t in data.texts]
        reversed_stats = data.score(data.target, flipped, "scoring reversed texts")
        return mean_loss(data.stats) - mean_loss(reversed_stats)


NEEDS = Requirements(Modality.LANGUAGE_MODEL, Access.TOKEN_LOGPROBS, ("reversed_difference",))
register(MarginPower())
for name, sign in (("test-reversed", -1.0), ("test-reversed-flipped", 1.0)):
    register(SignalAttack(name, "reversed_difference", sign, "loss minus reversed", NEEDS,
                          (ReversedPass(),)))
'''
NAMES = ("test-margin-power", "test-reversed", "test-reversed-flipped")


@pytest.fixture
def throwaway(tmp_path: Path) -> Iterator[ModuleType]:
    """The throwaway module, imported from a temporary folder (its attacks registered), and
    the registry restored afterwards."""
    path = tmp_path / "my_attacks.py"
    path.write_text(textwrap.dedent(THROWAWAY), encoding="utf-8")
    spec = importlib.util.spec_from_file_location("my_attacks", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["my_attacks"] = module
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        for name in NAMES:
            if name in REGISTRY:
                unregister(name)
        sys.modules.pop("my_attacks", None)


def test_a_classifier_attack_of_ones_own(throwaway: ModuleType, overfit_model: tuple) -> None:
    model, (x_in, x_out, y_in, y_out) = overfit_model
    result = miaudit.audit(
        model,
        (x_in, y_in),
        (x_out, y_out),
        attacks=["margin", "test-margin-power"],
        attack_params={"test-margin-power": {"power": "5"}},  # text, as from the CLI
    )
    margin, power = result.attack("margin"), result.attack("test-margin-power")
    np.testing.assert_allclose(
        result.score_table.scores["test-margin-power"], result.score_table.scores["margin"] ** 5
    )
    assert power.auc.value == pytest.approx(margin.auc.value, abs=1e-12)  # the same ranking
    assert power.description == "margin to an odd power (a throwaway attack)"
    with pytest.raises(InputError, match=r"parameter power must be in \[1, 9\]"):
        miaudit.audit(model, (x_in, y_in), (x_out, y_out), attacks=["test-margin-power"],
                      attack_params={"test-margin-power": {"power": 11}})  # fmt: skip
    with pytest.raises(InputError, match="power must be odd, got 4"):
        miaudit.audit(model, (x_in, y_in), (x_out, y_out), attacks=["test-margin-power"],
                      attack_params={"test-margin-power": {"power": 4}})  # fmt: skip


def test_a_language_model_attack_with_its_own_pass(throwaway: ModuleType, tiny_lm) -> None:
    target, members, nonmembers, _ = tiny_lm
    members, nonmembers = members[:30], nonmembers[:30]
    result = miaudit.audit(
        target,
        members,
        nonmembers,
        attacks=["lm-loss", "test-reversed", "test-reversed-flipped"],
    )
    assert throwaway.RUNS == [60]  # one pass for the two attacks that read its signal
    texts = members + nonmembers
    flipped = [" ".join(reversed(t.split())) for t in texts]
    own = miaudit.signals.mean_loss(target.token_stats(texts))
    expected = -(own - miaudit.signals.mean_loss(target.token_stats(flipped)))
    scores = result.score_table.scores
    np.testing.assert_allclose(scores["test-reversed"], expected, rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(scores["test-reversed-flipped"], -scores["test-reversed"])
    assert result.attack("test-reversed").queries_per_record == 1.0
    # an audit that does not choose it runs no pass
    miaudit.audit(target, members, nonmembers, attacks=["lm-loss"])
    assert throwaway.RUNS == [60]
