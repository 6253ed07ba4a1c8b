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
    _build_index(folder / "train.csv", folder / "idx.npz")
    return folder


def _build_index(records: Path, out: Path) -> None:
    runner = CliRunner(env={"MIAUDIT_INDEX_SECRET": SECRET})
    built = runner.invoke(main, ["monitor", "index", "--records", str(records), "--out", str(out)])
    assert built.exit_code == 0, built.output


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
        # six benign keys certify a false-alarm rate of 1/7 at best
        args = (
            ["monitor"]
            if command == "check"
            else ["monitor", "calibrate", "--false-alarm-rate", "0.2"]
        )
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


def test_an_index_of_other_records_is_refused(simulated: Path, tmp_path: Path) -> None:
    """An index built on records of another width (another model's, or columns left out)
    matches nothing; none of the log's numeric inputs fits it: exit 2 and the fix, in the
    check and in the calibration."""
    import numpy as np
    import pandas as pd

    frame = pd.read_csv(simulated / "train.csv")
    narrow = frame.drop(columns=[c for c in frame.columns if c != "label"][:3])
    narrow.to_csv(tmp_path / "narrow.csv", index=False)
    _build_index(tmp_path / "narrow.csv", tmp_path / "narrow.npz")
    runner = CliRunner(env={"MIAUDIT_INDEX_SECRET": SECRET})
    width = np.asarray(narrow.drop(columns=["label"])).shape[1]
    for args in (
        ["monitor", str(simulated / "log.jsonl"), "--out", str(tmp_path / "a.json")],
        [
            "monitor",
            "calibrate",
            str(simulated / "baseline.jsonl"),
            "--false-alarm-rate",
            "0.2",
            "--out",
            str(tmp_path / "c.json"),
        ],
    ):
        done = runner.invoke(main, [*args, "--index", str(tmp_path / "narrow.npz")])
        assert done.exit_code == 2, done.output
        assert f"built on records of {width} values" in done.output
        assert "Traceback" not in done.output


def test_malformed_lines_are_counted_and_the_log_still_checked(
    simulated: Path, tmp_path: Path
) -> None:
    """A log with lines that are no record (garbage, another object, bad bytes, a number of
    5,000 digits, JSON nested 100,000 deep): they are skipped, counted and named; the records
    around them are checked as if the bad lines were not there."""
    good = (simulated / "log.jsonl").read_bytes().splitlines(keepends=True)
    bad = [
        b"not json at all\n",
        b'{"time": "yesterday", "key": "k"}\n',
        b"\xff\xfe\x00garbage\n",
        b'{"time": ' + b"9" * 5000 + b"}\n",
        b"[" * 100_000 + b"\n",
        b"[1, 2, 3]\n",
        b'{"time": 179601244312206440000, "key": "k", "request_id": "r", "model": "m", '
        b'"input": [1, 2], "output": 1, "policy": "full", "status": 200}\n',  # a lost point
    ]
    mixed = list(good)
    for n, line in enumerate(bad):
        mixed.insert(1 + n * (len(good) // len(bad)), line)
    (tmp_path / "mixed.jsonl").write_bytes(b"".join(mixed))
    runner = CliRunner(env={"MIAUDIT_INDEX_SECRET": SECRET})
    found = {}
    for name in ("log.jsonl", "mixed.jsonl"):
        where = simulated if name == "log.jsonl" else tmp_path
        out = tmp_path / f"{name}.alerts.json"
        done = runner.invoke(main, ["monitor", str(where / name), "--index",
                                    str(simulated / "idx.npz"), "--out", str(out)])  # fmt: skip
        assert done.exit_code in (0, 1) and "Traceback" not in done.output, done.output
        found[name] = json.loads(out.read_text())
    clean, mixed_doc = found["log.jsonl"], found["mixed.jsonl"]
    assert clean["malformed_lines"] == {"count": 0, "first": []}
    assert mixed_doc["malformed_lines"]["count"] == len(bad)
    assert "not JSON" in mixed_doc["malformed_lines"]["first"][0]
    assert all(len(line) < 400 for line in mixed_doc["malformed_lines"]["first"])
    assert mixed_doc["alerts"] == clean["alerts"] and mixed_doc["queries"] == clean["queries"]
    assert "7 malformed line(s)" in done.output
    # nothing but bad lines: no log at all (exit 2, and what to do)
    (tmp_path / "junk.jsonl").write_bytes(b"".join(bad))
    done = runner.invoke(main, ["monitor", str(tmp_path / "junk.jsonl"),
                                "--out", str(tmp_path / "j.json")])  # fmt: skip
    assert done.exit_code == 2 and "no line of" in done.output and "7 malformed" in done.output
    # lines ended by CR alone (an old Mac export) are lines: the same log, the same check
    (tmp_path / "cr.jsonl").write_bytes(b"".join(good).replace(b"\n", b"\r"))
    out = tmp_path / "cr.json"
    done = runner.invoke(main, ["monitor", str(tmp_path / "cr.jsonl"), "--index",
                                str(simulated / "idx.npz"), "--out", str(out)])  # fmt: skip
    assert done.exit_code in (0, 1), done.output
    assert json.loads(out.read_text())["queries"] == clean["queries"]
