"""ONNX targets: a scikit-learn model converted with skl2onnx (with and without ZipMap) and a
PyTorch model exported with torch.onnx audit like the models themselves."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from cli_run import audit_cli, write_records
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import miaudit
from lazy_modules import lazily, needs
from miaudit.errors import InputError

skl2onnx = lazily("skl2onnx")
pytestmark = needs("skl2onnx", "onnxruntime")

X, Y = load_breast_cancer(return_X_y=True)
MEMBERS, NONMEMBERS = (X[:284], Y[:284]), (X[284:], Y[284:])


@pytest.fixture(scope="module")
def sklearn_model():
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(*MEMBERS)


@pytest.mark.parametrize("zipmap", [True, False])
def test_a_skl2onnx_model_audits_like_the_model(sklearn_model, tmp_path: Path, zipmap) -> None:
    options = None if zipmap else {id(sklearn_model.steps[-1][1]): {"zipmap": False}}
    onx = skl2onnx.to_onnx(sklearn_model, X[:1].astype(np.float32), options=options)
    path = tmp_path / "model.onnx"
    path.write_bytes(onx.SerializeToString())
    target = miaudit.OnnxTarget.from_file(path, classes=None if zipmap else [0, 1])
    # skl2onnx names it output_probability (a ZipMap) or, without ZipMap, probabilities
    assert target.output_name == ("output_probability" if zipmap else "probabilities")
    np.testing.assert_array_equal(target.classes, [0, 1])
    direct = miaudit.audit(sklearn_model, MEMBERS, NONMEMBERS, attacks=["loss", "gap"])
    served = miaudit.audit(target, MEMBERS, NONMEMBERS, attacks=["loss", "gap"])
    # float32 inside the ONNX graph: the same ranking up to rounding
    assert abs(served.attack("loss").auc.value - direct.attack("loss").auc.value) < 2e-3
    assert served.attack("gap").auc.value == direct.attack("gap").auc.value
    assert served.target["kind"] == "onnx"


def test_a_torch_model_exported_to_onnx(tmp_path: Path) -> None:
    import torch

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(30, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2))
    x = torch.tensor((X - X.mean(0)) / X.std(0), dtype=torch.float32)
    optimiser = torch.optim.Adam(net.parameters(), lr=1e-2)
    for _ in range(200):
        optimiser.zero_grad()
        torch.nn.functional.cross_entropy(net(x[:284]), torch.tensor(Y[:284])).backward()
        optimiser.step()
    path = tmp_path / "net.onnx"
    torch.onnx.export(
        net.eval(),
        (x[:2],),
        str(path),
        input_names=["features"],
        output_names=["logits"],
        dynamic_axes={"features": {0: "batch"}, "logits": {0: "batch"}},
        dynamo=False,
    )
    target = miaudit.OnnxTarget.from_file(path, classes=2)
    assert target.output_name == "logits" and target.exposes.value == "logits"
    scaled = (X - X.mean(0)) / X.std(0)
    members, nonmembers = (scaled[:284], Y[:284]), (scaled[284:], Y[284:])
    result = miaudit.audit(target, members, nonmembers, attacks=["loss"])
    with torch.no_grad():
        direct = miaudit.audit(
            miaudit.TorchTarget(net, classes=2), members, nonmembers, attacks=["loss"]
        )
    assert abs(result.attack("loss").auc.value - direct.attack("loss").auc.value) < 2e-3


def test_onnx_errors_name_the_problem(sklearn_model, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        miaudit.OnnxTarget.from_file(tmp_path / "missing.onnx")
    (tmp_path / "broken.onnx").write_bytes(b"not onnx")
    with pytest.raises(InputError, match="cannot load ONNX model"):
        miaudit.OnnxTarget.from_file(tmp_path / "broken.onnx")
    onx = skl2onnx.to_onnx(sklearn_model, X[:1].astype(np.float32))
    (tmp_path / "m.onnx").write_bytes(onx.SerializeToString())
    with pytest.raises(InputError, match="has no output 'scores'; it has output_label"):
        miaudit.OnnxTarget.from_file(tmp_path / "m.onnx", output_name="scores")
    # a model taking two inputs (here: two feature blocks added together) is refused by name
    from onnx import TensorProto, helper

    block = [None, 3]
    graph = helper.make_graph(
        [helper.make_node("Add", ["left", "right"], ["scores"])],
        "two_inputs",
        [
            helper.make_tensor_value_info("left", TensorProto.FLOAT, block),
            helper.make_tensor_value_info("right", TensorProto.FLOAT, block),
        ],
        [helper.make_tensor_value_info("scores", TensorProto.FLOAT, block)],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    (tmp_path / "two.onnx").write_bytes(model.SerializeToString())
    with pytest.raises(InputError, match="2 inputs \\(left, right\\); miaudit feeds one"):
        miaudit.OnnxTarget.from_file(tmp_path / "two.onnx", output_name="scores", classes=3)


def test_an_onnx_model_from_a_config_and_the_command_line(sklearn_model, tmp_path: Path) -> None:
    import json
    import subprocess

    onx = skl2onnx.to_onnx(sklearn_model, X[:1].astype(np.float32))
    (tmp_path / "model.onnx").write_bytes(onx.SerializeToString())
    write_records(tmp_path, "m", *MEMBERS)
    write_records(tmp_path, "n", *NONMEMBERS)
    (tmp_path / "audit.toml").write_text(
        '[target]\nkind = "onnx"\npath = "model.onnx"\n'
        '[data]\nmembers = "m.csv"\nnonmembers = "n.csv"\nlabel = "label"\n'
        '[audit]\nattacks = ["loss"]\n'
    )

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return audit_cli(tmp_path, *args)

    done = run("--config", "audit.toml", "--out", "a")
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "a" / "report.json").read_text())["target"]["kind"] == "onnx"
    flags = run(
        "--model", "model.onnx", "--members", "m.csv", "--nonmembers", "n.csv",
        "--attacks", "loss", "--out", "b",
    )  # fmt: skip
    assert flags.returncode == 0, flags.stderr  # an ONNX file holds no code: no trust flag
