"""Adding a monitor detector is one unit in one module: a throwaway detector, written to a
temporary module outside the package and registered through the public ``register``, runs
end to end — ``miaudit monitor LOG`` in process, calibration, the saved state — and raises an
alert carrying its own SARIF rule id, without a line of the package changed."""

from __future__ import annotations

import importlib.util
import json
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from click.testing import CliRunner

from miaudit.cli import main
from miaudit.errors import InputError
from miaudit.monitor import Monitor, calibrate
from miaudit.monitor.detectors import DETECTORS, RULE_IDS, detector, unregister
from miaudit.monitor.state import KeyState
from miaudit.querylog import QueryRecord, write_jsonl

#: The whole detector: a per-key count of queries that repeat a record the key sent lately.
SOURCE = """
from dataclasses import dataclass

from miaudit.monitor.detectors import Detector, Query, register


@register
class Echo(Detector):
    name = "echo"
    rule_id = "MIA299"
    description = "the same record queried again and again"
    default_threshold = 5.0
    priority = 10

    @dataclass
    class State:
        repeats: int = 0

    def update(self, state, query: Query, score: float) -> float:
        if query.answered and query.digest is not None and not query.new:
            state.repeats += 1
            return score + 1
        return score

    def evidence(self, state, key):
        return {"repeats": state.repeats}
"""


@pytest.fixture()
def echo(tmp_path: Path) -> Iterator[ModuleType]:
    path = tmp_path / "my_detectors" / "echo.py"
    path.parent.mkdir()
    path.write_text(textwrap.dedent(SOURCE), encoding="utf-8")
    spec = importlib.util.spec_from_file_location("my_detectors_echo", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)  # registers Echo
    yield module
    unregister("echo")
    del sys.modules[spec.name]


def _log(n_user: int = 20) -> list[QueryRecord]:
    records = [
        QueryRecord(1000.0 + n, "repeater", "r", "m", [1.0, 2.0, 3.0], [0.2, 0.8], "full", 200)
        for n in range(10)
    ]
    records += [
        QueryRecord(2000.0 + n, "user", "r", "m", [float(n), 0.5, -1.0], [0.6, 0.4], "full", 200)
        for n in range(n_user)
    ]
    return records


def test_a_detector_in_its_own_module_runs_end_to_end(echo: ModuleType, tmp_path: Path) -> None:
    # registered from a module outside the package; the registry's views list it last
    assert detector("echo").__module__ == "my_detectors_echo"
    assert list(DETECTORS)[-1] == "echo" and RULE_IDS["echo"] == "MIA299"
    assert RULE_IDS["training-overlap"] == "MIA201" and RULE_IDS["campaign"] == "MIA207"
    log = tmp_path / "log.jsonl"
    write_jsonl(_log(), log)
    out, sarif = tmp_path / "alerts.json", tmp_path / "alerts.sarif"
    done = CliRunner().invoke(
        main, ["monitor", str(log), "--out", str(out), "--sarif", str(sarif), "--quiet"]
    )
    assert done.exit_code == 1, done.output  # alerts: exit 1
    alerts = json.loads(out.read_text())["alerts"]
    assert [(a["key"], a["detector"]) for a in alerts] == [("repeater", "echo")]
    alert = alerts[0]
    assert alert["description"] == "the same record queried again and again"
    assert alert["threshold"] == 5.0 and alert["score"] == 6.0
    assert alert["queries_before_alert"] == 7  # the 6th repeat is the 7th query
    assert alert["evidence"]["repeats"] == 6 and alert["evidence"]["scores"]["echo"] == 6.0
    run = json.loads(sarif.read_text())["runs"][0]
    assert [r["ruleId"] for r in run["results"]] == ["MIA299"]
    rules = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    assert rules[:7] == [f"MIA20{n}" for n in range(1, 8)] and "MIA299" in rules


def test_it_is_calibrated_and_its_state_is_saved(echo: ModuleType) -> None:
    baseline = _log(n_user=30)
    # two keys certify a false-alarm rate of 1/3 at best: 20% is refused
    with pytest.raises(InputError, match="needs at least 4"):
        calibrate(lambda: baseline, None, 0.2)
    calibration = calibrate(lambda: baseline, None, 0.34)
    # two keys, a budget of one, already spent by the count detectors at their highest peaks:
    # no threshold goes below its highest benign peak, and the note says so
    assert calibration.thresholds["echo"] == 9.0
    assert calibration.benign_at_threshold > 1 and "too small" in calibration.note
    monitor = Monitor(thresholds={"echo": 3.0})
    records = _log()
    alerts = [a for r in records[:3] for a in monitor.observe(r)]
    saved = json.loads(json.dumps(monitor.snapshot()["repeater"][1]))
    assert saved["detectors"]["echo"] == {"repeats": 2}
    again = Monitor(thresholds={"echo": 3.0})
    again.restore({"repeater": saved})
    alerts += [a for r in records[3:] for a in again.observe(r)]
    assert [(a.detector, a.queries_before_alert) for a in alerts] == [("echo", 5)]
    assert isinstance(again.keys["repeater"], KeyState)
    assert again.keys["repeater"].state("echo").repeats == 9
