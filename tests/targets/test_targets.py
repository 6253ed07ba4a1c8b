"""Every kind of target on real small models, and the output checks at the target boundary."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC

from miaudit.data import RecordSet
from miaudit.errors import InputError
from miaudit.targets import (
    CallableTarget,
    Exposure,
    OutputKind,
    Outputs,
    OutputsTable,
    PrecomputedTarget,
    SklearnTarget,
)


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 4))
    return x, (x[:, 0] + 0.3 * rng.normal(size=200) > 0).astype(int)


class LabelOnly:
    """A deployed classifier whose API returns only the predicted label."""

    def __init__(self, model: LogisticRegression) -> None:
        self.model = model
        self.classes_ = model.classes_

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.model.predict(x)


def test_sklearn_probabilities_logits_and_labels(data: tuple[np.ndarray, np.ndarray]) -> None:
    x, y = data
    records = RecordSet.from_arrays(x, y)
    proba = SklearnTarget(LogisticRegression().fit(x, y), exact_logits=False)
    assert proba.exposes is Exposure.PROBABILITIES
    np.testing.assert_allclose(proba.outputs(records).values, proba.estimator.predict_proba(x))
    svm = SklearnTarget(LinearSVC().fit(x, y))
    assert svm.exposes is Exposure.LOGITS
    out = svm.outputs(records)
    assert out.values.shape == (200, 2)
    np.testing.assert_allclose(out.values[:, 1], svm.estimator.decision_function(x))
    labels_only = SklearnTarget(LabelOnly(LogisticRegression().fit(x, y)))
    assert labels_only.exposes is Exposure.LABEL
    assert set(labels_only.outputs(records).values.tolist()) <= {0, 1}


def test_exact_logits_replace_saturated_probabilities() -> None:
    import warnings

    from scipy.special import softmax
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from miaudit.demo.classifier import demo_setup

    demo, members, _ = demo_setup(0)  # binary: one logistic output unit
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 5))
    y3 = np.digitize(x[:, 0], [-0.3, 0.3])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        three = make_pipeline(
            StandardScaler(), MLPClassifier((256, 256), alpha=0, max_iter=500, random_state=0)
        ).fit(x, y3)
    for model, records in ((demo.estimator, members), (three, RecordSet.from_arrays(x, y3))):
        target = SklearnTarget(model)
        out = target.outputs(records)
        x_all = records.features
        assert target.exposes is Exposure.LOGITS and out.kind is OutputKind.LOGITS
        assert "verified" in target.describe()["outputs_note"]
        probabilities = model.predict_proba(x_all)
        np.testing.assert_allclose(softmax(out.values, axis=1), probabilities, atol=1e-9)
        # The point: records whose probability rounds to exactly 1.0 keep distinct logits.
        saturated = probabilities.max(axis=1) == 1.0
        assert saturated.sum() > 10
        margins = np.sort(out.values[saturated], axis=1)
        assert len(np.unique(margins[:, -1] - margins[:, -2])) == saturated.sum()
    logistic = SklearnTarget(LogisticRegression().fit(x, y3))
    logistic.outputs(RecordSet.from_arrays(x, y3))
    assert logistic.exposes is Exposure.LOGITS


def test_inconsistent_decision_function_keeps_probabilities() -> None:
    from sklearn.multiclass import OneVsRestClassifier

    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 3))
    y = np.digitize(x[:, 0], [-0.5, 0.5])
    # One-vs-rest probabilities are normalised sigmoids, not the softmax of the decision scores.
    target = SklearnTarget(OneVsRestClassifier(LogisticRegression()).fit(x, y))
    target.outputs(RecordSet.from_arrays(x, y))
    assert target.exposes is Exposure.PROBABILITIES
    assert "differs from predict_proba" in target.describe()["outputs_note"]


def test_sklearn_batches_report_progress(data: tuple[np.ndarray, np.ndarray]) -> None:
    x, y = data
    target = SklearnTarget(LogisticRegression().fit(x, y), batch_size=64)
    seen: list[int] = []
    target.outputs(RecordSet.from_arrays(x, y), seen.append)
    assert seen == [64, 64, 64, 8]


def test_table_records_meet_array_and_frame_models(data: tuple[np.ndarray, np.ndarray]) -> None:
    import warnings

    x, y = data
    frame = pd.DataFrame(x, columns=["a", "b", "c", "d"])
    records = RecordSet.from_frame(frame.assign(label=y), "label")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "X has feature names" noise for array-fitted models
        SklearnTarget(LogisticRegression().fit(x, y)).outputs(records)
        SklearnTarget(LogisticRegression().fit(frame, y)).outputs(records)
    renamed = RecordSet.from_frame(frame.rename(columns={"d": "e"}).assign(label=y), "label")
    with pytest.raises(InputError, match="fitted on columns"):
        SklearnTarget(LogisticRegression().fit(frame, y)).outputs(renamed)
    with pytest.raises(InputError, match="rejected the records"):
        SklearnTarget(LogisticRegression().fit(x, y)).outputs(RecordSet.from_arrays(x[:, :3], y))


def test_unfitted_estimator_rejected() -> None:
    with pytest.raises(InputError, match="no classes_"):
        SklearnTarget(LogisticRegression())


def test_model_file_needs_trust(tmp_path: Path, data: tuple[np.ndarray, np.ndarray]) -> None:
    x, y = data
    path = tmp_path / "model.joblib"
    joblib.dump(LogisticRegression().fit(x, y), path)
    with pytest.raises(InputError, match="arbitrary code"):
        SklearnTarget.from_file(path)
    assert SklearnTarget.from_file(path, trust=True).exposes is Exposure.PROBABILITIES
    (tmp_path / "junk.joblib").write_bytes(b"not a pickle")
    with pytest.raises(InputError, match="cannot load model file"):
        SklearnTarget.from_file(tmp_path / "junk.joblib", trust=True)


def test_lightgbm_through_sklearn_api(data: tuple[np.ndarray, np.ndarray]) -> None:
    lightgbm = pytest.importorskip("lightgbm")
    x, y = data
    from scipy.special import softmax

    model = lightgbm.LGBMClassifier(n_estimators=20, verbose=-1).fit(x, y)
    out = SklearnTarget(model).outputs(RecordSet.from_arrays(x, y))
    probabilities = out.values if out.kind is OutputKind.PROBABILITIES else softmax(out.values, 1)
    np.testing.assert_allclose(probabilities, model.predict_proba(x), atol=1e-9)


def test_torch_module_logits(data: tuple[np.ndarray, np.ndarray]) -> None:
    torch = pytest.importorskip("torch")
    from miaudit.targets.torch import TorchTarget

    x, y = data
    torch.manual_seed(0)
    module = torch.nn.Sequential(
        torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2), torch.nn.Dropout(0.5)
    )
    target = TorchTarget(module, classes=2, batch_size=50)
    first = target.outputs(RecordSet.from_arrays(x, y)).values
    second = target.outputs(RecordSet.from_arrays(x, y)).values
    np.testing.assert_array_equal(first, second)  # eval(): dropout off, deterministic
    with torch.no_grad():
        expected = module(torch.tensor(x, dtype=torch.float32)).double().numpy()
    np.testing.assert_allclose(first, expected, rtol=1e-6)
    import pickle  # a model trained in a worker process comes back pickled

    target.dp_epsilon = 2.0
    copy = pickle.loads(pickle.dumps(target))
    np.testing.assert_array_equal(copy.outputs(RecordSet.from_arrays(x, y)).values, first)
    assert copy.dp_epsilon == 2.0


def test_exported_model_file_needs_trust(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    from miaudit.targets.torch import TorchTarget

    torch.manual_seed(0)
    module = torch.nn.Linear(4, 3)
    batch = torch.export.Dim("batch")
    program = torch.export.export(module, (torch.zeros(2, 4),), dynamic_shapes=({0: batch},))
    path = tmp_path / "m.pt2"
    torch.export.save(program, str(path))
    with pytest.raises(InputError, match="refusing to load"):
        TorchTarget.from_file(path, 3)
    target = TorchTarget.from_file(path, 3, trust=True, batch_size=4)
    x = np.random.default_rng(0).normal(size=(10, 4))
    got = target.outputs(RecordSet.from_arrays(x, np.zeros(10))).values
    with torch.no_grad():
        expected = module(torch.tensor(x, dtype=torch.float32)).double().numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_callable_target_and_bad_outputs() -> None:
    records = RecordSet.from_arrays(np.zeros((10, 2)), np.zeros(10))
    good = CallableTarget(lambda x: np.tile([0.2, 0.8], (len(x), 1)), classes=2)
    assert good.outputs(records).values.shape == (10, 2)
    not_normalised = CallableTarget(lambda x: np.tile([0.2, 0.7], (len(x), 1)), classes=2)
    with pytest.raises(InputError, match="do not sum to one"):
        not_normalised.outputs(records)
    with_nan = CallableTarget(lambda x: np.full((len(x), 2), np.nan), classes=2, output="logits")
    with pytest.raises(InputError, match="NaN or inf"):
        with_nan.outputs(records)
    wrong_width = CallableTarget(lambda x: np.zeros((len(x), 3)), classes=2, output="logits")
    with pytest.raises(InputError, match=r"shape \(n, 2\)"):
        wrong_width.outputs(records)
    logits_as_probs = CallableTarget(lambda x: np.tile([-3.0, 4.0], (len(x), 1)), classes=2)
    with pytest.raises(InputError, match="outside"):
        logits_as_probs.outputs(records)
    unknown_label = CallableTarget(lambda x: np.full(len(x), 7), classes=[0, 1], output="label")
    with pytest.raises(InputError, match="predicted 7"):
        unknown_label.outputs(records)
    with pytest.raises(InputError, match="output="):
        CallableTarget(lambda x: x, classes=2, output="scores")


def test_callable_from_spec_needs_trust() -> None:
    with pytest.raises(InputError, match="refusing to import"):
        CallableTarget.from_spec("numpy:ones", 2, "probabilities")
    with pytest.raises(InputError, match="cannot import"):
        CallableTarget.from_spec("no_such_module_xyz:f", 2, "probabilities", trust=True)


def _table_frame(n: int = 6) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [f"r{i}" for i in range(n)],
            "label": [i % 2 for i in range(n)],
            "member": [1, 0, None, 1, 0, None][:n],
            "logit_0": np.linspace(-1, 1, n),
            "logit_1": np.zeros(n),
        }
    )


def test_outputs_table_formats(tmp_path: Path) -> None:
    frame = _table_frame()
    frame.to_csv(tmp_path / "o.csv", index=False)
    frame.to_parquet(tmp_path / "o.parquet")
    np.savez(
        tmp_path / "o.npz",
        id=frame["id"].to_numpy(dtype=str),
        label=frame["label"].to_numpy(),
        member=frame["member"].fillna(-1).to_numpy(),
        logits=frame[["logit_0", "logit_1"]].to_numpy(),
    )
    tables = [OutputsTable.from_file(tmp_path / f) for f in ("o.csv", "o.parquet", "o.npz")]
    for table in tables:
        assert table.kind is OutputKind.LOGITS
        assert table.membership.tolist() == [1, 0, -1, 1, 0, -1]
        np.testing.assert_allclose(table.values, tables[0].values)
    target = PrecomputedTarget(tables[0])
    members, nonmembers, population = tables[0].split()
    assert members.ids.tolist() == ["r0", "r3"] and population is not None
    np.testing.assert_allclose(target.outputs(nonmembers).values, tables[0].values[[1, 4]])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.drop(columns="id"), "missing column 'id'"),
        (lambda f: f.drop(columns=["logit_0", "logit_1"]), "needs logit_0"),
        (lambda f: f.assign(prob_0=0.5, prob_1=0.5), "both logit_"),
        (lambda f: f.rename(columns={"logit_1": "logit_2"}), "none missing"),
        (lambda f: f.assign(label=[0, 1, 2, 0, 1, 0]), "class indices 0..1"),
        (lambda f: f.assign(label=[0, 1, 0.5, 0, 1, 0]), "whole numbers"),
        (lambda f: f.assign(member=[1, 0, 2, 1, 0, 0]), "member must be 1, 0"),
        (lambda f: f.assign(id=["a", "a", "b", "c", "d", "e"]), "duplicate record ids"),
        (lambda f: f.assign(logit_0=[np.inf, 0, 0, 0, 0, 0]), "NaN or inf"),
        (
            lambda f: f.drop(columns=["logit_0", "logit_1"]).assign(prob_0=0.3, prob_1=0.3),
            "do not sum to one",
        ),
    ],
)
def test_bad_outputs_tables(change: object, message: str) -> None:
    with pytest.raises(InputError, match=message):
        OutputsTable.from_frame(change(_table_frame()))  # type: ignore[operator]


def test_outputs_without_members_or_nonmembers() -> None:
    table = OutputsTable.from_frame(_table_frame().assign(member=1))
    with pytest.raises(InputError, match="no non-members"):
        table.split()


def test_outputs_single_class_model_rejected() -> None:
    with pytest.raises(InputError, match="single class"):
        Outputs(OutputKind.LOGITS, np.zeros((3, 1)), 1)


def test_device_auto_is_the_cpu_here_and_a_bad_device_is_named() -> None:
    torch = pytest.importorskip("torch")
    from miaudit.targets._device import resolve_device
    from miaudit.targets.torch import TorchTarget

    expected = "cuda" if torch.cuda.is_available() else None
    assert resolve_device("auto", torch) in {expected, "mps", "cpu"} - {None}
    assert resolve_device("cpu", torch) == "cpu"
    with pytest.raises(InputError, match="'gpu0' is not a torch device"):
        TorchTarget(torch.nn.Linear(3, 2), classes=2, device="gpu0")
    module = torch.nn.Linear(3, 2)
    target = TorchTarget(module, classes=2)  # device="auto"
    assert target.device == resolve_device("auto", torch)
    assert next(target.module.parameters()).device.type == target.device.split(":")[0]


def test_a_sklearn_target_survives_pickling_before_and_after_use(overfit_model: tuple) -> None:
    # Worker processes and Ray tasks send fitted targets back pickled. The unpickled copy must
    # answer exactly as the original (exposures compare by value, not identity), also once it
    # has chosen its exact-logit function (a closure, dropped and chosen again).
    import pickle

    from miaudit.data import RecordSet

    model, (x_in, _, y_in, _) = overfit_model
    records = RecordSet.from_arrays(x_in, y_in)
    target = SklearnTarget(model)
    fresh = pickle.loads(pickle.dumps(target))
    expected = target.outputs(records)
    used = pickle.loads(pickle.dumps(target))
    for copy in (fresh, used):
        got = copy.outputs(records)
        assert got.kind is expected.kind
        np.testing.assert_array_equal(got.values, expected.values)


def test_an_upper_case_pt2_file_is_a_torch_export_program(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    from miaudit.targets.kinds import load_model_file

    torch.manual_seed(0)
    module = torch.nn.Linear(4, 3)
    batch = torch.export.Dim("batch")
    program = torch.export.export(module, (torch.zeros(2, 4),), dynamic_shapes=({0: batch},))
    path = tmp_path / "M.PT2"
    torch.export.save(program, str(path))
    # the file-type table read `.PT2` as torch, which then handed it to torch.jit.load
    target = load_model_file(path, trust=True, classes=3)
    x = np.random.default_rng(0).normal(size=(6, 4))
    got = target.outputs(RecordSet.from_arrays(x, np.zeros(6))).values
    with torch.no_grad():
        expected = module(torch.tensor(x, dtype=torch.float32)).double().numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-6)


def _never_loaded(settings: Any) -> Any:
    raise AssertionError("only the suffix is looked up")


def test_a_kinds_suffixes_match_in_any_case() -> None:
    from miaudit.targets.kinds import TargetKind, kind_of_file, register, unregister

    kind = register(TargetKind("upper-case-test", _never_loaded, suffixes=(".ABC",)))
    try:
        assert kind_of_file("model.abc") is kind and kind_of_file("model.Abc") is kind
        with pytest.raises(ValueError, match="already belong to another target kind"):
            register(TargetKind("clash-test", _never_loaded, suffixes=(".abc",)))
    finally:
        unregister("upper-case-test")
        unregister("clash-test")
