"""The monitor's command line end to end on simulated traffic: simulate, index, calibrate,
check, SARIF and the webhook; bad input exits 2."""

from __future__ import annotations

import json
import subprocess
import threading
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import ClassVar

import pytest

from cli_in_process import QuietHTTPServer, run_in_process

SECRET = "0123456789abcdef-test-secret"


class _Hook(BaseHTTPRequestHandler):
    received: ClassVar[list[dict]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Hook.received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_command_line_end_to_end_with_sarif_and_webhook(tmp_path: Path) -> None:
    server = QuietHTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sim = tmp_path / "sim"

    def miaudit(*args: str) -> subprocess.CompletedProcess:
        """``miaudit monitor ARGS`` in this process (the entry point is tests/cli's)."""
        return run_in_process(["monitor", *args], env={"MIAUDIT_INDEX_SECRET": SECRET})

    # each campaign's full budget: miaudit's label-noise attack sent one candidate at a time
    # takes about 600 queries to stand out from customers' what-if edits of their own records
    made = miaudit("simulate", "--out-dir", str(sim), "--benign-keys", "40",
                   "--campaign-budget", "1000")  # fmt: skip
    assert made.returncode == 0, made.stderr
    index = miaudit("index", "--records", str(sim / "train.csv"), "--out", str(sim / "idx.npz"))
    assert index.returncode == 0, index.stderr
    calibration = _save_calibration(miaudit, sim)
    checked = miaudit(
        str(sim / "log.jsonl"),
        "--index", str(sim / "idx.npz"),
        "--calibration", str(calibration),
        "--out", str(tmp_path / "alerts.json"),
        "--sarif", str(tmp_path / "alerts.sarif"),
        "--webhook", f"http://127.0.0.1:{server.server_port}/hook",
    )  # fmt: skip
    server.shutdown()
    assert checked.returncode == 1, checked.stderr  # alerts: exit 1
    assert "Traceback" not in checked.stderr
    document = json.loads((tmp_path / "alerts.json").read_text())
    truth = json.loads((sim / "truth.json").read_text())
    campaign_keys = {k for keys in truth["campaigns"].values() for k in keys}
    alerted = {k for a in document["alerts"] for k in a["keys"]}
    assert document["schema"] == "miaudit.alerts/1" and document["keys"] == 40 + 11
    assert campaign_keys <= alerted
    # 40 baseline keys put each threshold at (one of them one below) the highest benign peak,
    # which a new benign key exceeds with probability about 1/41 per detector: a few of the 40
    # may be flagged
    assert len(alerted - campaign_keys) <= 4
    for alert in document["alerts"]:
        assert set(alert) >= {"key", "keys", "detector", "score", "queries_before_alert",
                              "first_time", "evidence"}  # fmt: skip
    sarif = json.loads((tmp_path / "alerts.sarif").read_text())
    assert sarif["version"] == "2.1.0"
    assert len(sarif["runs"][0]["results"]) == len(document["alerts"])
    # the webhook got every alert, one POST each
    assert len(_Hook.received) == len(document["alerts"])
    assert _Hook.received[0]["schema"] == "miaudit.alert/1"
    # the benign baseline against its own calibration: nothing above the thresholds
    quiet = miaudit(
        str(sim / "baseline.jsonl"), "--index", str(sim / "idx.npz"),
        "--calibration", str(calibration), "--out", str(tmp_path / "b.json"),
    )  # fmt: skip
    assert quiet.returncode == 0, quiet.stdout + quiet.stderr
    # the calibration's baseline named each query's client: a log that names none (exported
    # by an older gateway) would leave the client detector silently blind — refused, exit 2
    lines = [json.loads(line) for line in (sim / "log.jsonl").read_text().splitlines()[:200]]
    assert calibration.exists() and all("client" in line for line in lines)
    bare = tmp_path / "bare.jsonl"
    bare.write_text("".join(json.dumps({k: v for k, v in line.items() if k != "client"}) + "\n"
                            for line in lines))  # fmt: skip
    refused = miaudit(
        str(bare), "--index", str(sim / "idx.npz"), "--calibration", str(calibration),
        "--out", str(tmp_path / "c.json"),
    )  # fmt: skip
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "names each query's client" in refused.stderr and "Traceback" not in refused.stderr
    assert json.loads(calibration.read_text())["clients"] is True


def _save_calibration(miaudit, sim: Path) -> Path:
    out = sim / "cal.json"
    # 40 benign keys certify a false-alarm rate of 1/41 at best (1% is refused: exit 2)
    done = miaudit("calibrate", str(sim / "baseline.jsonl"), "--index", str(sim / "idx.npz"),
                   "--false-alarm-rate", "0.025", "--out", str(out))  # fmt: skip
    assert done.returncode == 0, done.stderr
    return out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.jsonl"], "does not exist"),
        (["LOG", "--out", "/nonexistent/alerts.json"], "cannot write into"),
        (["LOG", "--calibration", "LOG"], "not a miaudit.monitorcalibration/1"),
        (["LOG", "--baseline", "LOG", "--calibration", "x.json"], "not both"),
        (["LOG", "--webhook", "ftp://example"], "http:// or https://"),
        (["LOG", "--baseline", "LOG", "--false-alarm-rate", "2"], "must be in (0, 1)"),
        (["BAD"], "not JSON"),
        (["LOG", "--index", "LOG"], "not a miaudit training index"),
        (["calibrate", "LOG", "--out", "/nonexistent/cal.json"], "cannot write into"),
        (["alerts", "--db", "DB", "--release", "nobody"], "no database at"),
    ],
)
def test_bad_input_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], message: str
) -> None:
    from click.testing import CliRunner

    from miaudit.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MIAUDIT_INDEX_SECRET", SECRET)
    log = tmp_path / "log.jsonl"
    log.write_text('{"time": 1, "key": "k", "request_id": "r", "model": "m", "input": [1], '
                   '"output": [0.5, 0.5], "policy": "full", "status": 200}\n')  # fmt: skip
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{not json\n")
    names = {"LOG": str(log), "BAD": str(bad), "DB": str(tmp_path / "g.db")}
    args = [names.get(a, a) for a in args]
    if "--out" not in args and args[0] not in ("alerts", "calibrate"):
        args += ["--out", str(tmp_path / "a.json")]
    done = CliRunner().invoke(main, ["monitor", *args])
    assert done.exit_code == 2, done.output
    assert message in done.output and "Traceback" not in done.output
