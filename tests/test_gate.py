"""The --fail-on gate."""

from __future__ import annotations

import pytest

from miaudit import SklearnTarget, audit
from miaudit.errors import InputError
from miaudit.gate import evaluate, parse_conditions, required_fprs


def test_parse_conditions() -> None:
    parsed = parse_conditions(["auc>0.6", "loss:tpr@0.001 >= 1e-2", "gap<0.1"])
    assert [(c.attack, c.metric, c.op, c.value, c.fpr) for c in parsed] == [
        (None, "auc", ">", 0.6, None), ("loss", "tpr", ">=", 0.01, 0.001),
        (None, "gap", "<", 0.1, None)]
    assert required_fprs(parsed) == [0.001]


@pytest.mark.parametrize(("text", "message"), [
    ("auc", "cannot parse"), ("auc=>0.5", "cannot parse"), ("recall>0.5", "unknown metric"),
    ("tpr@2>0.1", "in \\(0, 1\\)"), ("loss:gap>0.1", "model metric"),
])
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
