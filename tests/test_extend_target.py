"""A new kind of target without editing the package: a throwaway target defined in a temporary
module, registered with :func:`miaudit.targets.kinds.register`, audited end to end through the
Python API, a config file (``target.kind``) and ``miaudit audit --model FILE`` (its suffix).

This is the promise of docs/architecture.md: a new target type is its module plus one
registration — here both live in the temporary module, so not one package file changes."""

from __future__ import annotations

import importlib
import json
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import miaudit
from miaudit.cli import main
from miaudit.targets.kinds import TARGET_KINDS, unregister

MODULE = textwrap.dedent(
    '''
    """A nearest-centroid classifier kept in a ``.cent`` file (an npz of centroids)."""

    import numpy as np

    from miaudit.targets.exposure import Exposure
    from miaudit.targets.interface import ClassifierTarget
    from miaudit.targets.kinds import TargetKind, register


    class CentroidTarget(ClassifierTarget):
        kind = "centroids"

        def __init__(self, centroids, sharpness=4.0):
            self.centroids = np.asarray(centroids, dtype=np.float64)
            self.sharpness = sharpness
            self._classes = np.arange(len(self.centroids))
            self._exposes = Exposure.PROBABILITIES

        def _predict(self, features):
            x = np.asarray(features, dtype=np.float64)
            distances = ((x[:, None, :] - self.centroids[None]) ** 2).sum(axis=2)
            logits = -self.sharpness * distances
            logits -= logits.max(axis=1, keepdims=True)
            probabilities = np.exp(logits)
            return probabilities / probabilities.sum(axis=1, keepdims=True)


    def load(settings):
        with np.load(settings.path) as arrays:
            return CentroidTarget(arrays["centroids"])


    KIND = register(TargetKind("centroids", load, suffixes=(".cent",)))
    '''
)


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """The temporary module, imported (which registers its kind), and removed afterwards."""
    folder = tmp_path / "plugin"
    folder.mkdir()
    (folder / "throwaway_target.py").write_text(MODULE, encoding="utf-8")
    monkeypatch.syspath_prepend(str(folder))
    try:
        yield importlib.import_module("throwaway_target")
    finally:
        unregister("centroids")
        sys.modules.pop("throwaway_target", None)


def _records(folder: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Two Gaussian classes; the members are the records the centroids were computed from."""
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 40)
    x = rng.normal(size=(80, 3)) + y[:, None] * 1.5
    for name, rows in (("members", slice(0, 80, 2)), ("nonmembers", slice(1, 80, 2))):
        header = "f0,f1,f2,label"
        table = np.column_stack([x[rows], y[rows]])
        np.savetxt(folder / f"{name}.csv", table, delimiter=",", header=header, comments="")
    members_x, members_y = x[::2], y[::2]
    centroids = np.stack([members_x[members_y == k].mean(axis=0) for k in (0, 1)])
    with open(folder / "model.cent", "wb") as handle:  # np.savez would append .npz
        np.savez(handle, centroids=centroids)
    return members_x, members_y, x[1::2], y[1::2]


def test_a_new_target_kind_audits_through_the_python_api(plugin: object, tmp_path: Path) -> None:
    members_x, members_y, nonmembers_x, nonmembers_y = _records(tmp_path)
    target = plugin.CentroidTarget(np.load(tmp_path / "model.cent")["centroids"])  # type: ignore[attr-defined]
    result = miaudit.audit(
        target,
        miaudit.RecordSet.from_arrays(members_x, members_y),
        miaudit.RecordSet.from_arrays(nonmembers_x, nonmembers_y),
        attacks=["loss"],
    )
    assert result.target["kind"] == "centroids"
    assert [a.name for a in result.attacks] == ["loss"]
    assert 0.0 <= result.attacks[0].auc.value <= 1.0


def test_a_new_target_kind_audits_from_a_config_and_a_model_file(
    plugin: object, tmp_path: Path
) -> None:
    _records(tmp_path)
    assert "centroids" in TARGET_KINDS
    (tmp_path / "audit.toml").write_text(
        '[target]\nkind = "centroids"\npath = "model.cent"\n\n'
        '[data]\nmembers = "members.csv"\nnonmembers = "nonmembers.csv"\n\n'
        '[audit]\nattacks = ["loss"]\n',
        encoding="utf-8",
    )
    runner = CliRunner()
    for source, out in (
        (["--config", str(tmp_path / "audit.toml")], "from-config"),
        (
            [
                "--model",
                str(tmp_path / "model.cent"),
                "--members",
                str(tmp_path / "members.csv"),
                "--nonmembers",
                str(tmp_path / "nonmembers.csv"),
                "--attacks",
                "loss",
            ],
            "from-file",
        ),
    ):
        done = runner.invoke(
            main,
            ["audit", *source, "--out", str(tmp_path / out), "--format", "json", "--quiet"],
        )
        assert done.exit_code == 0, done.output
        report = json.loads((tmp_path / out / "report.json").read_text())
        assert report["target"]["kind"] == "centroids"
        assert [a["name"] for a in report["attacks"]] == ["loss"]


def test_a_kind_or_suffix_is_registered_once(plugin: object) -> None:
    from miaudit.targets.kinds import TargetKind, register

    with pytest.raises(ValueError, match="already registered"):
        register(TargetKind("centroids", lambda s: None))  # type: ignore[arg-type,return-value]
    with pytest.raises(ValueError, match="already belong"):
        register(TargetKind("other", lambda s: None, suffixes=(".onnx",)))  # type: ignore[arg-type,return-value]
    assert "other" not in TARGET_KINDS


def test_without_the_plugin_the_kind_is_refused_with_the_known_ones(tmp_path: Path) -> None:
    from miaudit.cli.config import load_config
    from miaudit.errors import InputError

    (tmp_path / "a.toml").write_text(
        '[target]\nkind = "centroids"\npath = "m.cent"\n[data]\nmembers = "m.csv"\n'
        'nonmembers = "n.csv"\n'
    )
    with pytest.raises(InputError, match=r"target\.kind: .*'sklearn'"):
        load_config(tmp_path / "a.toml")


@pytest.mark.parametrize("how", ["--plugin", "MIAUDIT_PLUGINS"])
def test_the_command_line_loads_the_plugin_it_is_told_to(
    how: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``miaudit --plugin MODULE`` and ``MIAUDIT_PLUGINS=MODULE`` import the user's module
    before the command runs: the test never imports it itself."""
    folder = tmp_path / "plugin"
    folder.mkdir()
    (folder / "throwaway_target.py").write_text(MODULE, encoding="utf-8")
    monkeypatch.syspath_prepend(str(folder))
    _records(tmp_path)
    args = ["audit", "--model", str(tmp_path / "model.cent")]
    args += ["--members", str(tmp_path / "members.csv")]
    args += ["--nonmembers", str(tmp_path / "nonmembers.csv"), "--attacks", "loss"]
    args += ["--out", str(tmp_path / "out"), "--format", "json", "--quiet"]
    env = {"MIAUDIT_PLUGINS": None}
    if how == "--plugin":
        args = ["--plugin", "throwaway_target", *args]
    else:
        env["MIAUDIT_PLUGINS"] = " throwaway_target , "
    try:
        assert "throwaway_target" not in sys.modules
        done = CliRunner(env=env).invoke(main, args)
        assert done.exit_code == 0, done.output
        report = json.loads((tmp_path / "out" / "report.json").read_text())
        assert report["target"]["kind"] == "centroids"
    finally:
        if "centroids" in TARGET_KINDS:
            unregister("centroids")
        sys.modules.pop("throwaway_target", None)


def test_a_plugin_that_does_not_import_is_exit_2_naming_it(tmp_path: Path) -> None:
    (tmp_path / "broken_plugin.py").write_text("raise RuntimeError('half written')\n")
    sys.path.insert(0, str(tmp_path))
    try:
        for args, env in (
            (["--plugin", "no_such_plugin_module", "attacks"], {}),
            (["attacks"], {"MIAUDIT_PLUGINS": "broken_plugin"}),
        ):
            done = CliRunner(env=env).invoke(main, args)
            assert done.exit_code == 2, done.output
            assert "Traceback" not in done.output
            named = args[1] if args[0] == "--plugin" else "broken_plugin"
            assert f"plugin module {named!r} could not be imported" in done.output
        assert "half written" in done.output
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("broken_plugin", None)
