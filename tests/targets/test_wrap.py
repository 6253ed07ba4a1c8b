"""Bare models are wrapped: estimators and pipelines, lightgbm, torch modules, functions."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import miaudit
from miaudit import InputError, audit
from miaudit.targets import CallableTarget, SklearnTarget, as_target


@pytest.fixture(scope="module")
def task() -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 4))
    y = (x[:, 0] + 0.5 * rng.normal(size=200) > 0).astype(int)
    return x[:100], x[100:], y[:100], y[100:]


def test_estimators_and_pipelines_are_wrapped(task: tuple) -> None:
    x_in, x_out, y_in, y_out = task
    for model in (
        LogisticRegression().fit(x_in, y_in),
        make_pipeline(StandardScaler(), LogisticRegression()).fit(x_in, y_in),
    ):
        bare = audit(model, (x_in, y_in), (x_out, y_out), attacks=["loss"])
        wrapped = audit(SklearnTarget(model), (x_in, y_in), (x_out, y_out), attacks=["loss"])
        assert bare.to_dict()["attacks"] == wrapped.to_dict()["attacks"]
        assert bare.target["kind"] == "sklearn"


def test_lightgbm_through_its_sklearn_api(task: tuple) -> None:
    lightgbm = pytest.importorskip("lightgbm")
    x_in, x_out, y_in, y_out = task
    model = lightgbm.LGBMClassifier(n_estimators=20, verbose=-1).fit(x_in, y_in)
    result = audit(model, (x_in, y_in), (x_out, y_out), attacks=["loss"])
    assert result.target["estimator"] == "LGBMClassifier"


def test_unfitted_estimator_is_a_clear_error(task: tuple) -> None:
    x_in, x_out, y_in, y_out = task
    with pytest.raises(InputError, match="not fitted"):
        audit(LogisticRegression(), (x_in, y_in), (x_out, y_out))


def test_torch_module_is_wrapped_with_classes_from_its_outputs(task: tuple) -> None:
    torch = pytest.importorskip("torch")
    x_in, x_out, y_in, y_out = task
    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    result = audit(module, (x_in, y_in), (x_out, y_out), attacks=["loss", "gap"])
    assert result.target == {"kind": "torch", "exposes": "logits", "n_classes": 2}
    explicit = audit(
        miaudit.TorchTarget(module, classes=2), (x_in, y_in), (x_out, y_out), attacks=["loss"]
    )
    assert result.attack("loss").auc == explicit.attack("loss").auc


def test_functions_are_wrapped_by_what_they_return(task: tuple) -> None:
    x_in, x_out, y_in, y_out = task
    model = LogisticRegression().fit(x_in, y_in)
    for fn, exposes in (
        (model.predict_proba, "probabilities"),
        (lambda x: np.log(model.predict_proba(x)) + 3.0, "logits"),
        (model.predict, "label"),
    ):
        target = as_target(fn, x_in[:8], np.r_[y_in, y_out])
        assert isinstance(target, CallableTarget) and target.exposes.value == exposes
    probabilities = audit(model.predict_proba, (x_in, y_in), (x_out, y_out), attacks=["loss"])
    logits = audit(
        lambda x: np.log(model.predict_proba(x)) + 3.0,
        (x_in, y_in),
        (x_out, y_out),
        attacks=["loss"],
    )
    # the same model seen through probabilities or shifted log-probabilities: the same ranking
    assert probabilities.attack("loss").auc.value == pytest.approx(
        logits.attack("loss").auc.value, abs=1e-9
    )


def test_string_labels_match_the_output_width_or_fail_clearly(task: tuple) -> None:
    x_in, _, y_in, y_out = task
    names = np.array(["benign", "malignant"])
    model = LogisticRegression().fit(x_in, names[y_in])
    target = as_target(model.predict_proba, x_in[:8], names[np.r_[y_in, y_out]])
    assert target.classes.tolist() == ["benign", "malignant"]
    with pytest.raises(InputError, match="returns 2 columns but the records hold 3 classes"):
        as_target(model.predict_proba, x_in[:8], np.array(["a", "b", "c"]))


def test_anything_else_lists_what_is_accepted(task: tuple) -> None:
    x_in, x_out, y_in, y_out = task
    with pytest.raises(InputError, match=r"scikit-learn estimator or Pipeline.*torch\.nn\.Module"):
        audit("model.pkl", (x_in, y_in), (x_out, y_out))
    with pytest.raises(InputError, match="not a class label"):
        audit(LogisticRegression().fit(x_in, y_in).decision_function, (x_in, y_in), (x_out, y_out))
    with pytest.raises(InputError, match="failed on the first records"):
        audit(lambda x: 1 / 0, (x_in, y_in), (x_out, y_out))
