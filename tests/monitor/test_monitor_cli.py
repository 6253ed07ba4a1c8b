"""``miaudit monitor`` in process: ``--training-index`` is ``--index`` by its other name, the
detectors are listed from the registry, ``simulate`` leaves only whole files behind."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from miaudit.cli import main
from miaudit.monitor.detectors import RULE_IDS

SECRET = "0123456789abcdef-test-secret"


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sim")
    runner = CliRunner(env={"MIAUDIT_INDEX_SECRET": SECRET})
    made = runner.invoke(
        main,
        ["monitor", "simulate", "--out-dir", str(folder), "--benign-keys", "6",
         "--campaign-budget", "60"],
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    index = runner.invoke(
        main,
        ["monitor", "index", "--records", str(folder / "train.csv"), "--out",
         str(folder / "idx.npz")],
    )  # fmt: skip
    assert index.exit_code == 0, index.output
    return folder


def test_simulate_writes_whole_files_only(simulated: Path) -> None:
    names = sorted(p.name for p in simulated.iterdir())
    assert names == ["baseline.jsonl", "idx.npz", "log.jsonl", "train.csv", "truth.json"]
    truth = json.loads((simulated / "truth.json").read_text())
    assert set(truth) == {"benign", "campaigns"} and len(truth["benign"]) == 6


@pytest.mark.parametrize("command", ["check", "calibrate"])
def test_training_index_is_index_by_its_other_name(
    simulated: Path, tmp_path: Path, command: str
) -> None:
    runner = CliRunner(env={"MIAUDIT_INDEX_SECRET": SECRET})
    found = {}
    for flag in ("--index", "--training-index", None):
        out = tmp_path / f"{flag}.json"
        args = ["monitor"] if command == "check" else ["monitor", "calibrate"]
        log = "log.jsonl" if command == "check" else "baseline.jsonl"
        args += [str(simulated / log), "--out", str(out)]
        if flag is not None:
            args += [flag, str(simulated / "idx.npz")]
        done = runner.invoke(main, args)
        assert done.exit_code in (0, 1), done.output
        found[flag] = json.loads(out.read_text())
    if command == "check":
        same = ("alerts", "training_index", "queries")
        assert [found["--index"][k] for k in same] == [found["--training-index"][k] for k in same]
        assert found["--training-index"]["training_index"] is True
        assert found[None]["training_index"] is False
        assert found["--index"]["alerts"] != found[None]["alerts"]  # the index changes things
    else:
        assert found["--index"]["thresholds"] == found["--training-index"]["thresholds"]
        assert found["--index"]["settings"] != found[None]["settings"]  # rates from the index


def test_the_detectors_are_listed_from_the_registry() -> None:
    done = CliRunner().invoke(main, ["monitor", "detectors"])
    assert done.exit_code == 0, done.output
    for name, rule in RULE_IDS.items():
        assert name in done.output and rule in done.output
