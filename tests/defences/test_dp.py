"""DP-SGD through Opacus: the accountant's ε travels with the model into the report, no attack
refutes it, and Opacus' traps are clear errors. Tiny PyTorch models trained here."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import miaudit
from lazy_modules import lazily, needs
from miaudit.errors import InputError

torch = lazily("torch")
pytestmark = needs("torch", "opacus")


def _data(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 10)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64)
    flip = rng.random(n) < 0.3  # label noise: what a non-private model memorises
    y[flip] = 1 - y[flip]
    return x, y


def net() -> torch.nn.Module:
    return torch.nn.Sequential(torch.nn.Linear(10, 64), torch.nn.ReLU(), torch.nn.Linear(64, 2))


def test_dp_sgd_at_epsilon_1_is_not_refuted_by_any_attack() -> None:
    x, y = _data(1500)
    recipe = miaudit.TorchRecipe(net, epochs=10, lr=0.01, dp=miaudit.DP(epsilon=1.0))
    model = recipe.fit(x[:500], y[:500], 0, np.array([0, 1]))
    assert 0.5 < model.dp_epsilon <= 1.0 + 1e-6  # the accountant's ε, at most the target
    result = miaudit.audit(
        model,
        (x[:500], y[:500]),
        (x[500:1000], y[500:1000]),
        (x[1000:], y[1000:]),
        attacks=["loss", "gap", "label-boundary", "gradient-norm", "classifier"],
        dp_epsilon=model.dp_epsilon,
    )
    assert len(result.attacks) == 5
    bound = math.exp(model.dp_epsilon) * 0.01 + result.settings.delta
    for attack in result.attacks:
        # (ε, δ)-DP caps TPR at e^ε·FPR + δ; each interval must reach below that cap
        tpr = attack.tpr(0.01).tpr
        assert tpr.ci[0] <= bound, (attack.name, tpr)
        assert attack.epsilon.value <= model.dp_epsilon, attack.name
        assert attack.epsilon_gdp.epsilon <= model.dp_epsilon, attack.name  # DP-SGD is ≈ GDP
    report = json.loads(result.render("json"))
    dp = report["differential_privacy"]
    assert dp["declared_epsilon"] == model.dp_epsilon
    assert dp["measured_lower_bound"] <= dp["declared_epsilon"] < dp["ceiling"]
    answer = next(q for q in report["audit_questions"] if "differential" in q["question"])
    assert answer["answer"] == "declared" and "can show up to" in answer["detail"]
    assert not [f for f in report["findings"] if "refuted" in f["message"]]


def test_the_lower_bound_never_exceeds_the_accountants_epsilon() -> None:
    """Six seeds, each a fresh DP-SGD run (ε = 2) audited with the loss attack: the sound lower
    bound stays at or below the accountant's ε every time; the same recipe without DP shows
    leakage, so the bound is not vacuous by construction."""
    x, y = _data(900, seed=1)
    sets = ((x[:300], y[:300]), (x[300:600], y[300:600]), (x[600:], y[600:]))
    for seed in range(6):
        recipe = miaudit.TorchRecipe(net, epochs=5, lr=0.01, dp=miaudit.DP(epsilon=2.0))
        model = recipe.fit(*sets[0], seed, np.array([0, 1]))
        result = miaudit.audit(model, *sets, attacks=["loss"], seed=seed)
        found = result.attack("loss")
        assert found.epsilon.value <= model.dp_epsilon, seed
        assert found.epsilon_gdp.epsilon <= model.dp_epsilon, seed
    plain = miaudit.TorchRecipe(net, epochs=200, lr=0.01).fit(*sets[0], 0, np.array([0, 1]))
    leaky = miaudit.audit(plain, *sets, attacks=["loss"])
    assert leaky.attack("loss").auc.ci[0] > 0.6  # observed 0.8: memorised label noise


def test_opacus_traps_are_clear_errors() -> None:
    x, y = _data(200)

    def with_batchnorm() -> torch.nn.Module:
        return torch.nn.Sequential(
            torch.nn.Linear(10, 8), torch.nn.BatchNorm1d(8), torch.nn.Linear(8, 2)
        )

    recipe = miaudit.TorchRecipe(with_batchnorm, epochs=1, dp=miaudit.DP(epsilon=1.0))
    with pytest.raises(InputError, match=r"ModuleValidator\.fix"):
        recipe.fit(x, y, 0, np.array([0, 1]))
    unreachable = miaudit.TorchRecipe(net, epochs=50, dp=miaudit.DP(epsilon=1e-4))
    with pytest.raises(InputError, match="DP-SGD cannot reach"):
        unreachable.fit(x, y, 0, np.array([0, 1]))
    with pytest.raises(InputError, match="one of them"):
        miaudit.DP()
    with pytest.raises(InputError, match=r"must be a miaudit\.DP"):
        miaudit.TorchRecipe(net, dp={"epsilon": 1})


def test_a_dp_variant_in_a_comparison_carries_its_accountants_epsilon() -> None:
    x, y = _data(900, seed=2)
    found = miaudit.compare(
        {
            "plain": miaudit.TorchRecipe(net, epochs=5, lr=0.01),
            "dp-sgd": miaudit.TorchRecipe(net, epochs=5, lr=0.01, dp=miaudit.DP(epsilon=1.0)),
            "dp labels": ("dp-sgd", "label-only"),
        },
        (x[:300], y[:300]),
        (x[300:600], y[300:600]),
        (x[600:], y[600:]),
        attacks=["loss", "gap"],
    )
    report = {v["name"]: v for v in found.to_dict()["variants"]}
    assert report["plain"]["dp_epsilon"] is None
    assert 0.5 < report["dp-sgd"]["dp_epsilon"] <= 1.0 + 1e-6
    assert report["dp labels"]["dp_epsilon"] == report["dp-sgd"]["dp_epsilon"]
    assert found.variant("dp-sgd").result.declared_dp_epsilon == report["dp-sgd"]["dp_epsilon"]
