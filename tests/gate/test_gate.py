"""The --fail-on gate."""

from __future__ import annotations

import pytest

from miaudit import SklearnTarget, audit
from miaudit.errors import InputError
from miaudit.gate.policy import evaluate, parse_conditions, required_fprs


def test_parse_conditions() -> None:
    parsed = parse_conditions(["auc>0.6", "loss:tpr@0.001 >= 1e-2", "gap<0.1"])
    assert [(c.attack, c.metric, c.op, c.value, c.fpr) for c in parsed] == [
        (None, "auc", ">", 0.6, None),
        ("loss", "tpr", ">=", 0.01, 0.001),
        (None, "gap", "<", 0.1, None),
    ]
    assert required_fprs(parsed) == [0.001]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("auc", "cannot parse"),
        ("auc=>0.5", "cannot parse"),
        ("recall>0.5", "unknown metric"),
        ("tpr@2>0.1", "in \\(0, 1\\)"),
        ("loss:gap>0.1", "model metric"),
    ],
)
def test_bad_conditions(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_conditions([text])


def test_gate_verdicts(overfit_model: tuple) -> None:
    model, (x_in, x_out, y_in, y_out) = overfit_model
    result = audit(SklearnTarget(model), (x_in, y_in), (x_out, y_out), attacks=["loss", "gap"])
    auc = result.attack("loss").auc.value
    assert not evaluate(result, parse_conditions([f"auc>{auc - 0.01}"])).passed
    assert evaluate(result, parse_conditions([f"auc>{auc + 0.01}"])).passed
    assert not evaluate(result, parse_conditions(["gap>0.05"])).passed
    assert evaluate(result, parse_conditions(["gap:auc>0.99"])).passed
    with pytest.raises(InputError, match="cannot be evaluated"):
        evaluate(result, parse_conditions(["tpr@0.001>0.01"]))  # 150 calibration non-members
    with pytest.raises(InputError, match="did not run"):
        evaluate(result, parse_conditions(["margin:auc>0.5"]))


def test_baseline_tolerance_and_what_is_compared(overfit_model: tuple, tmp_path) -> None:
    from sklearn.linear_model import LogisticRegression

    from miaudit.gate import Baseline
    from miaudit.report import save_json as save_baseline

    model, (x_in, x_out, y_in, y_out) = overfit_model
    regularised = LogisticRegression(C=0.01, max_iter=1000).fit(x_in, y_in)
    kwargs = dict(attacks=["loss", "gap"], seed=0)
    before = audit(SklearnTarget(regularised), (x_in, y_in), (x_out, y_out), **kwargs)
    after = audit(SklearnTarget(model), (x_in, y_in), (x_out, y_out), **kwargs)
    baseline = Baseline.load(save_baseline(before, tmp_path / "b.json"))
    strict = evaluate(after, [], baseline)
    failed = {c.name for c in strict.checks if not c.passed}
    assert "no regression: loss auc" in failed and not strict.passed
    # every check says what it compared: values and both intervals
    loss_auc = next(c for c in strict.checks if c.name == "no regression: loss auc")
    assert "vs baseline" in loss_auc.detail and loss_auc.detail.count("[") == 2
    # a tolerance wider than any possible AUC gap lets everything pass
    assert evaluate(after, [], baseline, tolerance=0.99).passed
    # itself as its own baseline: never a regression
    assert evaluate(before, [], baseline).passed
    with pytest.raises(InputError, match="none of this audit's attacks"):
        evaluate(
            audit(SklearnTarget(model), (x_in, y_in), (x_out, y_out), attacks=["margin"]),
            [],
            baseline,
        )
