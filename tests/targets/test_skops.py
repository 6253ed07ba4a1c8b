"""scikit-learn models in the safe skops format load without trusting the file; types skops
does not trust are refused by name unless the user trusts the file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import skops.io as skops_io
from cli_run import audit_cli, write_records
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

import miaudit
from miaudit.errors import InputError
from miaudit.targets import SklearnTarget


def double(x: np.ndarray) -> np.ndarray:  # a function skops does not know: an untrusted type
    return 2 * x


@pytest.fixture(scope="module")
def data():
    x, y = load_breast_cancer(return_X_y=True)
    return (x[:284], y[:284]), (x[284:], y[284:])


def test_a_skops_model_loads_without_trust_and_audits_like_the_model(data, tmp_path: Path) -> None:
    members, nonmembers = data
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(*members)
    skops_io.dump(model, tmp_path / "model.skops")
    loaded = SklearnTarget.from_file(tmp_path / "model.skops")  # no trust needed
    direct = miaudit.audit(model, members, nonmembers, attacks=["loss"])
    from_file = miaudit.audit(loaded, members, nonmembers, attacks=["loss"])
    assert from_file.attack("loss").auc.value == direct.attack("loss").auc.value


def test_untrusted_types_are_refused_by_name(data, tmp_path: Path) -> None:
    members, _ = data
    model = make_pipeline(FunctionTransformer(double), LogisticRegression(max_iter=1000))
    model.fit(*members)
    path = tmp_path / "custom.skops"
    skops_io.dump(model, path)
    with pytest.raises(InputError, match=r"does not trust \(.*double.*--trust-model-file"):
        SklearnTarget.from_file(path)
    trusted = SklearnTarget.from_file(path, trust=True)
    assert type(trusted.estimator).__name__ == "Pipeline"
    (tmp_path / "broken.skops").write_bytes(b"not a zip archive")
    with pytest.raises(InputError, match="cannot read skops file"):
        SklearnTarget.from_file(tmp_path / "broken.skops")
    with pytest.raises(InputError, match="not found"):
        SklearnTarget.from_file(tmp_path / "missing.skops")


def test_the_command_line_loads_a_skops_model_without_the_trust_flag(data, tmp_path: Path) -> None:
    members, nonmembers = data
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(*members)
    skops_io.dump(model, tmp_path / "model.skops")
    write_records(tmp_path, "members", *members)
    write_records(tmp_path, "nonmembers", *nonmembers)
    done = audit_cli(
        tmp_path,
        "--model", "model.skops", "--members", "members.csv", "--nonmembers", "nonmembers.csv",
        "--attacks", "loss",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "miaudit-report" / "report.json").is_file()
