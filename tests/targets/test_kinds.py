"""The registry of target kinds: one model-file dispatch by suffix for ``miaudit audit --model``
and the gateway (``miaudit serve``), ``serve --model FILE`` beside ``serve FILE``, and the
targets importable from ``miaudit`` without importing their extras."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pytest
from click.testing import CliRunner
from sklearn.linear_model import LogisticRegression

from miaudit.cli import main
from miaudit.errors import InputError
from miaudit.gateway.backend import load_model
from miaudit.targets.kinds import TARGET_KINDS, kind_of_file, load_model_file


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("m.skops", "sklearn"),
        ("m.joblib", "sklearn"),
        ("M.PKL", "sklearn"),
        ("m.pickle", "sklearn"),
        ("m.onnx", "onnx"),
        ("m.pt2", "torch"),
        ("m.pt", "torch"),
    ],
)
def test_one_table_of_model_file_suffixes(name: str, kind: str) -> None:
    assert kind_of_file(name).name == kind


def test_a_suffix_belongs_to_one_kind_and_an_unknown_one_lists_them() -> None:
    suffixes = [s for k in TARGET_KINDS.values() for s in k.suffixes]
    assert len(suffixes) == len(set(suffixes))
    with pytest.raises(InputError, match=r"unknown model file type '\.h5'.*\.skops.*\.onnx"):
        kind_of_file("model.h5")


def test_the_cli_and_the_gateway_load_a_model_file_alike(tmp_path: Path) -> None:
    # before the shared table, `miaudit audit --model x.pt2` handed the file to scikit-learn
    # while the gateway served it as a PyTorch program
    program = tmp_path / "model.pt2"
    program.write_bytes(b"not read: the classes are checked first")
    for load in (load_model_file, load_model):
        with pytest.raises(InputError, match="a torch model file needs --classes"):
            load(program, True)
    x, y = np.random.default_rng(0).normal(size=(20, 2)), np.repeat([0, 1], 10)
    joblib.dump(LogisticRegression().fit(x, y), tmp_path / "model.joblib")
    from_cli = load_model_file(tmp_path / "model.joblib", trust=True)
    from_gateway = load_model(tmp_path / "model.joblib", trust=True)
    assert type(from_cli) is type(from_gateway) and from_cli.kind == "sklearn"
    (tmp_path / "model.h5").write_bytes(b"")
    with pytest.raises(InputError, match="or proxy a model server with --upstream"):
        load_model(tmp_path / "model.h5")
    records = ["--members", str(tmp_path / "m.csv"), "--nonmembers", str(tmp_path / "n.csv")]
    for path in (tmp_path / "m.csv", tmp_path / "n.csv"):
        np.savetxt(path, np.column_stack([x, y]), delimiter=",", header="a,b,label", comments="")
    done = CliRunner().invoke(main, ["audit", "--model", str(program), *records, "--quiet"])
    assert done.exit_code == 2 and "a torch model file needs --classes" in done.output


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """``uvicorn.run`` replaced: the application ``miaudit serve`` would serve, not served."""
    uvicorn = pytest.importorskip("uvicorn")
    apps: list[Any] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: apps.append(app))
    return apps


def test_serve_takes_the_model_as_an_argument_or_as_model(
    tmp_path: Path, served: list[Any]
) -> None:
    x, y = np.random.default_rng(0).normal(size=(20, 2)), np.repeat([0, 1], 10)
    model = tmp_path / "model.joblib"
    joblib.dump(LogisticRegression().fit(x, y), model)
    runner = CliRunner()
    db = ["--db", str(tmp_path / "g.db"), "--trust-model-file"]
    for args in ([str(model)], ["--model", str(model)]):
        done = runner.invoke(main, ["serve", *args, *db])
        assert done.exit_code == 0, done.output
    assert len(served) == 2
    both = runner.invoke(main, ["serve", str(model), "--model", str(model), *db])
    assert both.exit_code == 2 and "not both" in both.output
    neither = runner.invoke(main, ["serve", *db])
    assert neither.exit_code == 2 and "MODEL or --model FILE" in neither.output
    assert len(served) == 2


def test_every_target_is_importable_from_miaudit_lazily() -> None:
    # a fresh interpreter: `import miaudit` must not import the optional extras' modules
    code = (
        "import sys, miaudit\n"
        "lazy = ['miaudit.targets.http', 'miaudit.targets.onnx', 'miaudit.targets.torch']\n"
        "assert not [m for m in lazy if m in sys.modules], [m for m in lazy if m in sys.modules]\n"
        "from miaudit import HttpTarget, OnnxTarget\n"
        "from miaudit.targets import HttpTarget as H, OnnxTarget as O\n"
        "assert HttpTarget is H and OnnxTarget is O\n"
        "assert {'HttpTarget', 'OnnxTarget'} <= set(miaudit.__all__)\n"
        "print(HttpTarget.kind, OnnxTarget.kind)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["http", "onnx"]
