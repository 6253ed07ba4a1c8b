"""The monitor inside a real gateway (``miaudit serve --monitor``): campaigns driven by
miaudit's attacks through HTTP are flagged and switched to labels, benign keys are not; the
state survives ``kill -9``; the online alerts match the offline monitor on the same log; an
operator's release lifts the action; block and throttle."""

from __future__ import annotations

import contextlib
import json
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
from gateway_run import add_key, cli

from miaudit.errors import InputError
from miaudit.gateway import Backend, Database, Gateway, MemoryLimiter
from miaudit.gateway.watch import Watch
from miaudit.monitor import Calibration, calibrate
from miaudit.monitor.simulate import run_campaign, simulate, world
from miaudit.targets.http import HttpTarget
from miaudit.targets.sklearn import SklearnTarget

SECRET = "0123456789abcdef-test-secret"


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A model file, its training index, and thresholds calibrated on simulated benign
    traffic (50 keys)."""
    skops = pytest.importorskip("skops.io")
    folder = tmp_path_factory.mktemp("deployment")
    made = world(0, members=1000)
    skops.dump(made.model, folder / "model.skops")
    from miaudit.monitor import TrainingIndex

    TrainingIndex.build(made.members.tolist(), SECRET.encode()).save(folder / "idx.npz")
    (folder / "secret").write_text(SECRET + "\n")
    index = TrainingIndex.load(folder / "idx.npz", SECRET.encode())
    baseline = simulate(made, benign_keys=50, campaigns=(), seed=5)
    # 50 keys certify a rate of 1/51 at best: 2%
    calibrate(lambda: baseline.records, index, 0.02).save(folder / "cal.json")
    return {"world": made, "folder": folder, "index": index}


def _serve(server_factory, deployment: dict, db: str, action: str = "label-only"):
    folder = deployment["folder"]
    return server_factory(
        str(folder / "model.skops"), "--db", db, "--trust-model-file",
        "--monitor", str(folder / "cal.json"), "--monitor-index", str(folder / "idx.npz"),
        "--on-alert", action,
        env={"MIAUDIT_INDEX_SECRET": SECRET},
    )  # fmt: skip


def _target(url: str, key: str, output: str = "probabilities") -> HttpTarget:
    headers = {"Authorization": f"Bearer {key}"}
    return HttpTarget(f"{url}/v1/models/model:predict", [0, 1], output, headers=headers)


def _predict(url: str, key: str, rows: np.ndarray) -> list:
    reply = httpx.post(
        f"{url}/v1/models/model:predict",
        json={"instances": np.asarray(rows).tolist()},
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )
    assert reply.status_code == 200, reply.text
    return reply.json()["predictions"]


def _alerts(db: str, key: str, timeout: float = 15.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [a for a in Database(db).list_alerts() if a["key"] == key]
        if found:
            return found
        time.sleep(0.2)
    return []


def _saved(db: str, key: str, timeout: float = 15.0) -> None:
    """Wait until the gateway has saved ``key``'s monitor state."""
    deadline = time.monotonic() + timeout
    while key not in Database(db).load_states():
        assert time.monotonic() < deadline, f"{key}'s state was never saved"
        time.sleep(0.1)


def test_campaigns_through_the_gateway_are_caught_and_survive_a_restart(
    tmp_path: Path, deployment: dict, server_factory
) -> None:
    made, rng = deployment["world"], np.random.default_rng(7)
    db = str(tmp_path / "gateway.db")
    analysts = {f"analyst-{n}": add_key(db, f"analyst-{n}") for n in range(4)}
    attacker, noisy = add_key(db, "attacker"), add_key(db, "label-prober", "label-only")
    slow = add_key(db, "slow")
    server = _serve(server_factory, deployment, db)
    for key in analysts.values():  # ordinary use: fresh records
        for _ in range(3):
            _predict(server.url, key, made.fresh(rng, 10))
    # a threshold-calibration campaign (miaudit's own queries: candidates and known
    # non-members, alternating) and miaudit's label-noise attack on a label-only key
    # (it may be switched to labels mid-campaign, the monitor running beside the requests)
    with contextlib.suppress(ValueError, InputError):
        run_campaign("threshold", [_target(server.url, attacker)], made, rng, size=60)
    run_campaign("label-noise", [_target(server.url, noisy, "label")], made, rng, size=8)
    flagged = _alerts(db, "attacker")
    assert flagged and flagged[0]["action"] == "label-only"
    assert flagged[0]["alert"]["queries_before_alert"] <= 100
    assert _alerts(db, "label-prober")
    # the attacker now gets labels; the analysts still get probabilities
    assert all(isinstance(p, int) for p in _predict(server.url, attacker, made.fresh(rng, 3)))
    row = made.fresh(rng, 1)
    assert isinstance(_predict(server.url, analysts["analyst-0"], row)[0], list)
    assert not any(a["key"].startswith("analyst") for a in Database(db).list_alerts())

    # a patient attacker: half its candidates, a kill -9, then the rest
    rows = np.concatenate([made.members[:40], made.fresh(rng, 40)])[rng.permutation(80)]
    _predict(server.url, slow, rows[:10])
    _saved(db, "slow")  # a snapshot (every 2 s) holds it; what comes after is replayed from the log
    _predict(server.url, slow, rows[10:12])
    server.kill()
    server = _serve(server_factory, deployment, db)
    # still flagged after the restart
    assert all(isinstance(p, int) for p in _predict(server.url, attacker, made.fresh(rng, 2)))
    for start in range(12, 80, 4):
        _predict(server.url, slow, rows[start : start + 4])
    online = _alerts(db, "slow")
    assert online
    # the offline monitor on the same log finds the same alert after the same queries
    out = tmp_path / "alerts.json"
    folder = deployment["folder"]
    offline = cli(
        "monitor", db, "--index", str(folder / "idx.npz"), "--secret-file", str(folder / "secret"),
        "--calibration", str(folder / "cal.json"), "--out", str(out),
    )  # fmt: skip
    assert offline.returncode == 1, offline.stderr
    found = json.loads(out.read_text())["alerts"]
    first = {(a["key"], a["detector"]): a["queries_before_alert"] for a in found}
    for alert in online:
        if alert["detector"] in ("campaign", "client"):
            # groups of keys are rebuilt from new traffic after a restart (docs/monitor.md):
            # here every key comes from 127.0.0.1, one client
            continue
        key = (alert["key"], alert["detector"])
        assert first[key] == alert["alert"]["queries_before_alert"], key
    # an operator reviews and releases the key: probabilities again within seconds
    released = cli("monitor", "alerts", "--db", db, "--release", "attacker")
    assert released.returncode == 0, released.stderr
    deadline = time.monotonic() + 10
    while isinstance(_predict(server.url, attacker, row)[0], int):
        assert time.monotonic() < deadline, "the release did not take effect"
        time.sleep(0.5)


@pytest.mark.parametrize(("action", "database"), [("block", "sqlite"), ("throttle", "postgres")])
def test_block_and_throttle(
    tmp_path: Path, deployment: dict, action: str, database: str, request: pytest.FixtureRequest
) -> None:
    """The gateway's request logic with a real database (SQLite, PostgreSQL) and monitor,
    without HTTP."""
    made, rng = deployment["world"], np.random.default_rng(3)
    url = str(tmp_path / "g.db") if database == "sqlite" else request.getfixturevalue("postgres")
    db = Database(url)
    name = f"attacker-{action}"
    key = db.add_key(name, "full", rate=1000, burst=1000)
    calibration = Calibration.load(deployment["folder"] / "cal.json")
    watch = Watch(db, calibration, deployment["index"], action)
    backend = Backend(SklearnTarget(made.model), "model")
    gateway = Gateway(backend, db, MemoryLimiter(), watch=watch)
    rows = np.concatenate([made.members[:30], made.fresh(rng, 30)])[rng.permutation(60)]
    statuses = set()
    for row in rows:  # once flagged (the monitor runs beside the requests), refused
        body = json.dumps({"instances": [row.tolist()]}).encode()
        statuses.add(gateway.handle("model", key, body).status)
    assert watch.wait()
    assert statuses == {200, 403 if action == "block" else 429}
    assert watch.action_for(name) == action
    one = json.dumps({"instances": [rows[0].tolist()]}).encode()
    if action == "block":
        assert gateway.handle("model", key, one).status == 403
    else:  # one instance every THROTTLE_SECONDS: the loop used it up
        refused = gateway.handle("model", key, one)
        assert refused.status == 429 and int(refused.headers["Retry-After"]) >= 1
    watch.close()
    saved = db.load_states()
    assert name in saved  # the state was saved at close
    assert [a["key"] for a in db.list_alerts()].count(name) >= 1


def test_a_down_webhook_does_not_stall_the_online_monitor(tmp_path: Path) -> None:
    """Alerts go to a webhook on a closed port whose sender is held in a retry wait: the
    monitor keeps up with the stream, stores every alert, and the shutdown reports them."""
    import socket
    import threading

    from miaudit.monitor import Settings
    from miaudit.monitor.webhook import Webhook
    from miaudit.querylog import QueryRecord

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    held = threading.Event()
    hook = Webhook(f"http://127.0.0.1:{port}/hook", retries=2, sleep=lambda _: held.wait(30))
    db = Database(str(tmp_path / "g.db"))
    watch = Watch(db, Calibration(Settings(), {"volume": 0.5}), None, "none", hook)
    start = time.perf_counter()
    for n in range(30):
        record = QueryRecord(
            time.time(), f"k{n}", "r", "m", [float(n), 1.0], [0.4, 0.6], "full", 200
        )
        watch.feed([record])
    assert watch.wait(timeout=30)
    assert time.perf_counter() - start < 10  # not 30 × the retries' waits
    assert len(db.list_alerts()) == 30
    held.set()
    watch.close()
    assert len(hook.failures) == 30 and all("ConnectError" in f for f in hook.failures)


def _volume_watch(db: Database) -> Watch:
    """A watch whose ``volume`` detector alerts on a key's third query within 10 minutes;
    it snapshots only when told (``wait``, ``close``)."""
    from miaudit.monitor import Settings

    return Watch(db, Calibration(Settings(), {"volume": 2.5}), None, "label-only", None, 3600)


def _query(db: Database, watch: Watch, key: str) -> None:
    """One answered query, as the gateway handles it: logged, then fed to the monitor."""
    from miaudit.querylog import QueryRecord

    record = QueryRecord(time.time(), key, "r", "m", [1.0, 2.0], [0.4, 0.6], "full", 200)
    db.log([record])
    watch.feed([record])
    assert watch.wait()


def test_a_released_key_alerts_again_after_a_restart(tmp_path: Path) -> None:
    """The key queries again before the monitor has seen its release: the state from before
    the release must not be saved back (it held the old alert, so after a restart the key
    would never alert again), and the restart must not replay the queries before it."""
    db = Database(str(tmp_path / "g.db"))
    watch = _volume_watch(db)
    for _ in range(3):
        _query(db, watch, "k")
    assert watch.action_for("k") == "label-only" and len(db.list_alerts()) == 1
    assert "k" in db.load_states()
    assert db.release("k") == 1
    _query(db, watch, "k")  # counted in the old state, then the release is picked up
    assert watch.action_for("k") is None
    assert "k" not in db.load_states()  # was: the old state (4 queries, alerted) written back
    watch.close()
    assert "k" not in db.load_states()

    restarted = _volume_watch(db)
    assert restarted.wait()
    assert not restarted.monitor.alerted and restarted.action_for("k") is None
    assert restarted.monitor.keys["k"].queries == 1  # the query after the release, replayed
    _query(db, restarted, "k")
    assert not db.list_alerts()
    _query(db, restarted, "k")  # its third query since the release: it alerts again
    assert [a["key"] for a in db.list_alerts()] == ["k"]
    assert restarted.action_for("k") == "label-only"
    restarted.close()


def test_a_state_saved_before_a_release_is_never_restored(tmp_path: Path) -> None:
    """A snapshot taken before a release but written after it (the release ran while the
    gateway was saving) leaves the old state in the database: a restart discards it."""
    db = Database(str(tmp_path / "g.db"))
    watch = _volume_watch(db)
    for _ in range(3):
        _query(db, watch, "k")
    _query(db, watch, "other")
    watch.close()
    taken = db.load_states()["k"]
    assert db.release("k") == 1
    db.save_states({"k": taken})  # the late write of the state taken before the release

    restarted = _volume_watch(db)
    assert restarted.wait()
    assert "k" not in restarted.monitor.keys and not any(
        key == "k" for key, _ in restarted.monitor.alerted
    )
    assert restarted.monitor.keys["other"].queries == 1  # other keys resume as saved
    for _ in range(3):
        _query(db, restarted, "k")
    assert [a["key"] for a in db.list_alerts()] == ["k"]
    restarted.close()
    assert json.loads(db.load_states()["k"][1])["queries"] == 3  # the fresh state replaced it
