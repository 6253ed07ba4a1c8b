"""The gateway against a real ``miaudit serve`` process on 127.0.0.1: keys, V1 predictions under
each key's output policy, limits, the query log (committed before the answer: ``kill -9``
loses no answered query), its export, retention and the service endpoints."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import fastapi  # noqa: F401  (the serve extra is in [test]: missing means a failure, not a skip)
import httpx
import numpy as np
import pytest
from gateway_run import Postgres, add_key, cli, refused

from miaudit.gateway import ApiKey, Backend, Database, Gateway, MemoryLimiter, create_app
from miaudit.gateway.app import KEY_CACHE_SECONDS
from miaudit.querylog import QueryRecord, read_jsonl


def predict(url: str, key: str | None, instances: list, header: str = "bearer") -> httpx.Response:
    headers = {}
    if key is not None:
        headers = {"Authorization": f"Bearer {key}"} if header == "bearer" else {"X-API-Key": key}
    return httpx.post(
        f"{url}/v1/models/iris:predict", json={"instances": instances}, headers=headers, timeout=30
    )


def test_keys_are_shown_once_and_stored_only_as_hashes(tmp_path: Path) -> None:
    db = str(tmp_path / "gateway.db")
    key = add_key(db, "analytics", "top-k:1", "5/s", 10, "--quota", "1000/day")
    assert key.startswith("mia_") and len(key) > 40
    listed = cli("keys", "list", "--db", db)
    assert listed.returncode == 0 and "analytics" in listed.stdout and "top-k:1" in listed.stdout
    assert key not in listed.stdout
    assert key.encode() not in (tmp_path / "gateway.db").read_bytes()  # only its SHA-256
    twice = cli("keys", "add", "--db", db, "--name", "analytics")
    assert twice.returncode == 2 and "exists already" in twice.stderr
    bad = cli("keys", "add", "--db", db, "--name", "x", "--policy", "top-k:zero")
    assert bad.returncode == 2 and "needs a number" in bad.stderr and "Traceback" not in bad.stderr
    assert cli("keys", "add", "--db", db, "--name", "y", "--rate", "fast").returncode == 2
    assert cli("keys", "revoke", "--db", db, "--name", "analytics").returncode == 0
    again = cli("keys", "revoke", "--db", db, "--name", "analytics")
    assert again.returncode == 2 and "no live key" in again.stderr


def test_predictions_follow_each_keys_policy_and_every_instance_is_logged(
    tmp_path: Path, iris_model: tuple, server_factory
) -> None:
    path, model, x = iris_model
    db = str(tmp_path / "gateway.db")
    keys = {p: add_key(db, p.replace(":", "-"), p) for p in ("full", "label-only", "top-k:1")}
    server = server_factory(str(path), "--db", db, "--name", "iris")
    rows = x[[0, 60, 120]].tolist()
    full = predict(server.url, keys["full"], rows)
    assert full.status_code == 200 and full.headers["x-request-id"]
    np.testing.assert_allclose(
        full.json()["predictions"], model.predict_proba(x[[0, 60, 120]]), rtol=1e-9
    )
    labels = predict(server.url, keys["label-only"], rows, header="x-api-key")
    assert labels.json()["predictions"] == model.predict(x[[0, 60, 120]]).tolist()
    top = np.array(predict(server.url, keys["top-k:1"], rows).json()["predictions"])
    assert ((top > 0).sum(axis=1) == 1).all()
    # refusals: no key, an unknown key, a bad body, another model's name
    missing = predict(server.url, None, rows)
    assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
    assert predict(server.url, "mia_not-a-key", rows).status_code == 401
    assert predict(server.url, keys["full"], [["a", "b"]]).status_code == 400
    assert predict(server.url, keys["full"], [[1.0, 2.0]]).status_code == 400  # 2 features, not 4
    other = httpx.post(
        f"{server.url}/v1/models/other:predict",
        json={"instances": rows},
        headers={"Authorization": f"Bearer {keys['full']}"},
    )
    assert other.status_code == 404
    # (a key revoked while the gateway runs: test_a_revoked_key_is_refused_once_cached_expires)
    # the service endpoints
    assert httpx.get(f"{server.url}/readyz").json()["status"] == "ready"
    assert httpx.get(f"{server.url}/v1/models/iris").json()["classes"] == [0, 1, 2]
    metrics = httpx.get(f"{server.url}/metrics").text
    assert 'miaudit_gateway_requests_total{status="200"} 3.0' in metrics
    assert "/v1/models/{model}:predict" in httpx.get(f"{server.url}/openapi.json").json()["paths"]
    # the log, exported as miaudit.querylog/1
    out = tmp_path / "log.jsonl"
    done = cli("log", "export", "--db", db, "--out", str(out))
    assert done.returncode == 0, done.stderr
    records = list(read_jsonl(out))
    ok = [r for r in records if r.status == 200]
    assert len(ok) == 9 and {r.key for r in ok} == {"full", "label-only", "top-k-1"}
    assert ok[0].input == rows[0] and ok[0].model == "iris" and ok[0].policy == "full"
    assert [r.output for r in ok if r.key == "label-only"] == labels.json()["predictions"]
    statuses = sorted(r.status for r in records if r.status != 200)
    assert statuses == [400, 400, 401, 401, 404]  # refusals before parsing: one row
    assert {r.client for r in records} == {"127.0.0.1"}  # the peer, refusals included
    text = out.read_text() + (tmp_path / "gateway.db").read_bytes().decode("latin-1")
    assert not any(key in text for key in keys.values())  # never a credential in a log


def test_a_burst_over_the_limit_gets_exactly_the_burst(
    tmp_path: Path, iris_model: tuple, server_factory
) -> None:
    path, _, x = iris_model
    db = str(tmp_path / "gateway.db")
    key = add_key(db, "burst", "full", "0.1/s", 5)
    server = server_factory(str(path), "--db", db, "--name", "iris")
    with ThreadPoolExecutor(8) as pool:
        replies = list(pool.map(lambda _: predict(server.url, key, [x[0].tolist()]), range(24)))
    codes = [r.status_code for r in replies]
    # 5 tokens, refilled at 0.1/s: the burst, plus one refill only if the burst takes > 10 s
    assert 5 <= codes.count(200) <= 6, codes
    assert codes.count(429) == 24 - codes.count(200)
    refused = next(r for r in replies if r.status_code == 429)
    assert int(refused.headers["retry-after"]) >= 1 and "rate limit" in refused.json()["error"]
    # a batch larger than the bucket can never pass: said so, not retried forever
    big = predict(server.url, key, [x[0].tolist()] * 6)
    assert big.status_code == 429 and "exceed this key's burst" in big.json()["error"]


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_kill_9_loses_no_answered_query(
    tmp_path: Path, iris_model: tuple, server_factory, request: pytest.FixtureRequest, database: str
) -> None:
    path, _, x = iris_model
    db = (
        str(tmp_path / "gateway.db")
        if database == "sqlite"
        else request.getfixturevalue("postgres")
    )
    key = add_key(db, f"load-{tmp_path.name}")
    server = server_factory(str(path), "--db", db, "--name", "iris")
    answered: list[str] = []
    stop = threading.Event()

    def client() -> None:
        with httpx.Client(timeout=10) as http:
            while not stop.is_set():
                try:
                    r = http.post(
                        f"{server.url}/v1/models/iris:predict",
                        json={"instances": x[:3].tolist()},
                        headers={"Authorization": f"Bearer {key}"},
                    )
                except httpx.HTTPError:
                    return
                if r.status_code == 200:
                    answered.append(r.headers["x-request-id"])

    threads = [threading.Thread(target=client) for _ in range(4)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 30
    while len(answered) < 200 and time.monotonic() < deadline:
        time.sleep(0.01)
    server.kill()  # in the middle of the burst
    stop.set()
    for t in threads:
        t.join(timeout=15)
    assert len(answered) >= 200
    logged = {r.request_id: 0 for r in Database(db).records() if r.status == 200}
    for r in Database(db).records():
        if r.status == 200:
            logged[r.request_id] += 1
    assert all(logged.get(rid) == 3 for rid in answered)  # every answer has its 3 rows


def test_two_replicas_sharing_redis_keep_one_bucket(
    tmp_path: Path, iris_model: tuple, server_factory, redis_url: str, postgres: str
) -> None:
    path, _, x = iris_model
    key = add_key(postgres, f"shared-{tmp_path.name}", "full", "0.1/s", 6)
    replicas = [
        server_factory(str(path), "--db", postgres, "--name", "iris", "--redis", redis_url)
        for _ in range(2)
    ]
    with ThreadPoolExecutor(8) as pool:
        replies = list(
            pool.map(lambda i: predict(replicas[i % 2].url, key, [x[0].tolist()]), range(30))
        )
    codes = [r.status_code for r in replies]
    # one bucket of 6 across both replicas (each alone would let 6 through: 12)
    assert 6 <= codes.count(200) <= 7, codes
    assert codes.count(429) == 30 - codes.count(200)
    bad = refused(str(path), "--db", postgres, "--redis", "redis://127.0.0.1:1/0")
    assert bad.returncode == 2 and "cannot reach Redis" in bad.stderr


def test_retention_drops_old_inputs_and_exports_read_back(tmp_path: Path) -> None:
    db = Database(str(tmp_path / "g.db"))
    old, new = time.time() - 10 * 86400, time.time()
    db.log(
        [
            QueryRecord(old, "k", "r1", "m", [1.0, 2.0], [0.3, 0.7], "full", 200, "192.0.2.1"),
            QueryRecord(new, "k", "r2", "m", [3.0, 4.0], 1, "label-only", 200, "192.0.2.2"),
        ]
    )
    done = cli("log", "purge", "--db", str(tmp_path / "g.db"), "--older-than", "7")
    assert done.returncode == 0 and "1 rows" in done.stdout
    records = list(db.records())
    assert [r.input for r in records] == [None, [3.0, 4.0]]
    assert [r.client for r in records] == [None, "192.0.2.2"]  # an address is personal data
    assert records[0].output == [0.3, 0.7]  # the rest of the row stays for the monitor
    out = tmp_path / "log.jsonl"
    assert db.export(out) == 2
    assert [json.loads(line)["request_id"] for line in out.read_text().splitlines()] == ["r1", "r2"]
    assert (
        cli(
            "log",
            "export",
            "--db",
            str(tmp_path / "g.db"),
            "--out",
            str(tmp_path / "missing" / "x.jsonl"),
        ).returncode
        == 2
    )


def test_serve_refuses_bad_setups_clearly(tmp_path: Path, iris_model: tuple) -> None:
    path, _, _ = iris_model
    db = str(tmp_path / "g.db")
    cases = [
        ([str(path), "--db", db, "--upstream", "http://127.0.0.1:1"], "MODEL"),
        ([str(tmp_path / "nothing.skops"), "--db", db], "not found"),
        (["--upstream", "http://127.0.0.1:1/v1/models/m:predict", "--db", db], "--classes"),
        ([str(path), "--db", "postgresql+nodriver://u:secret@127.0.0.1/x"], "cannot open"),
    ]
    for args, message in cases:
        done = refused(*args)
        assert done.returncode == 2, done.stderr
        assert message in done.stderr and "Traceback" not in done.stderr
        assert "secret" not in done.stderr  # a password in a URL is never printed


def test_no_answer_without_the_log(iris_model: tuple, clock) -> None:
    # the database goes away: the gateway refuses (503) instead of answering unlogged — first
    # for a key still in its cache (the log cannot be written), then past the cache (the key
    # lookup needs the database too)
    from fastapi.testclient import TestClient

    _, model, x = iris_model
    database = Postgres()
    try:
        db = Database(database.url)
        key = db.add_key("k", "full", rate=100, burst=100)
        gateway = _gateway(model, db, clock)
        client = TestClient(create_app(gateway))
        headers = {"Authorization": f"Bearer {key}"}
        body = {"instances": [x[0].tolist()]}
        assert client.post("/v1/models/iris:predict", json=body, headers=headers).status_code == 200
    finally:
        database.stop()
    for advance in (0.0, KEY_CACHE_SECONDS + 0.1):
        clock.advance(advance)
        refused = client.post("/v1/models/iris:predict", json=body, headers=headers)
        assert refused.status_code == 503 and "unavailable" in refused.json()["error"]
    assert client.get("/readyz").status_code == 503


def test_a_revoked_key_is_refused_once_the_key_cache_expires(
    tmp_path: Path, iris_model: tuple, clock
) -> None:
    _, model, x = iris_model
    db = Database(str(tmp_path / "gateway.db"))
    key = db.add_key("k", "full", rate=100, burst=100)
    gateway = _gateway(model, db, clock)
    body = json.dumps({"instances": [x[0].tolist()]}).encode()
    assert gateway.handle("iris", key, body).status == 200
    assert db.revoke("k")
    clock.advance(KEY_CACHE_SECONDS - 0.1)  # still trusted from the cache
    assert gateway.handle("iris", key, body).status == 200
    clock.advance(0.2)  # expired: the database says revoked
    assert gateway.handle("iris", key, body).status == 401
    # without a cache, a revocation takes effect at once
    fresh = db.add_key("k2", "full", rate=100, burst=100)
    uncached = _gateway(model, db, clock, key_cache_seconds=0)
    assert uncached.handle("iris", fresh, body).status == 200
    assert db.revoke("k2") and uncached.handle("iris", fresh, body).status == 401


def test_the_memory_limiter_refills_and_resets_on_its_clock(clock) -> None:
    limiter = MemoryLimiter(clock=clock)
    clock.now = 86400.0 * 20_000 + 86400 - 10  # ten seconds before a UTC midnight
    key = ApiKey("k", "full", rate=2.0, burst=4, quota=7, created=0.0)
    assert [limiter.take(key, 1).allowed for _ in range(5)] == [True] * 4 + [False]
    refused = limiter.take(key, 1)
    assert refused.retry_after == pytest.approx(0.5) and "rate limit" in refused.reason
    clock.advance(0.4)  # 0.8 tokens: not yet
    assert not limiter.take(key, 1).allowed
    clock.advance(0.1)  # one token
    assert limiter.take(key, 1).allowed and not limiter.take(key, 1).allowed
    clock.advance(5.0)  # the bucket is full again, but the day's quota of 7 allows 2 more
    assert limiter.take(key, 2).allowed
    quota = limiter.take(key, 1)
    assert not quota.allowed and "quota" in quota.reason
    assert quota.retry_after == pytest.approx(10 - 5.5)  # until midnight
    clock.advance(5.0)  # a new UTC day
    assert limiter.take(key, 1).allowed


def test_the_client_is_the_peer_or_the_address_a_trusted_proxy_appended(
    tmp_path: Path, iris_model: tuple, clock
) -> None:
    from fastapi.testclient import TestClient

    _, model, x = iris_model
    body = {"instances": [x[0].tolist()]}
    sent = {
        "none": {},
        "one": {"X-Forwarded-For": "203.0.113.7"},
        "chain": {"X-Forwarded-For": "10.9.9.9, 198.51.100.4"},  # caller wrote the first
        "two headers": [("X-Forwarded-For", "10.9.9.9"), ("X-Forwarded-For", "2001:db8::1")],
        "garbage": {"X-Forwarded-For": "'; DROP TABLE x; --"},
        "port": {"X-Forwarded-For": "203.0.113.8:5555"},
        "v6 port": {"X-Forwarded-For": "[2001:DB8::2]:443"},
        "mapped": {"X-Forwarded-For": "::ffff:203.0.113.9"},
    }
    found = {}
    for trust in (False, True):
        db = Database(str(tmp_path / f"{trust}.db"))
        key = db.add_key("k", "full", rate=100, burst=100)
        gateway = _gateway(model, db, clock, trust_forwarded_for=trust)
        peer = TestClient(create_app(gateway), client=("192.0.2.50", 40000))
        for extra in sent.values():
            pairs = list(extra.items()) if isinstance(extra, dict) else extra
            headers = [("Authorization", f"Bearer {key}"), *pairs]
            done = peer.post("/v1/models/iris:predict", json=body, headers=headers)
            assert done.status_code == 200  # logged before the answer
        found[trust] = [r.client for r in db.records()]
    assert found[False] == ["192.0.2.50"] * 8  # untrusted: always the peer
    assert found[True] == ["192.0.2.50", "203.0.113.7", "198.51.100.4", "2001:db8::1",
                           "192.0.2.50", "203.0.113.8", "2001:db8::2", "203.0.113.9"]  # fmt: skip


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_a_database_of_an_older_gateway_gets_the_client_column(
    tmp_path: Path, engine: str, request: pytest.FixtureRequest
) -> None:
    import sqlalchemy as sa

    url = str(tmp_path / "old.db") if engine == "sqlite" else request.getfixturevalue("postgres")
    made = sa.create_engine(url if engine != "sqlite" else f"sqlite:///{url}")
    old = sa.MetaData()  # the table as gateways made it before the client field
    table = sa.Table(
        "miaudit_queries", old,
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        *(sa.Column(n, sa.Float, nullable=False) for n in ["time"]),
        *(sa.Column(n, sa.String(200), nullable=False) for n in ["key", "request_id", "model"]),
        *(sa.Column(n, sa.Text, nullable=True) for n in ["input", "output"]),
        sa.Column("policy", sa.String(200), nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
    )  # fmt: skip
    old.drop_all(made)
    old.create_all(made)
    with made.begin() as connection:
        row = {"time": 1.5, "key": "k", "request_id": "r", "model": "m", "input": "[1.0]",
               "output": "1", "policy": "full", "status": 200}  # fmt: skip
        connection.execute(table.insert(), [row])
    made.dispose()
    db = Database(url)
    db.log([QueryRecord(2.5, "k", "s", "m", [2.0], 0, "full", 200, "192.0.2.9")])
    assert [(r.request_id, r.client) for r in db.records()] == [("r", None), ("s", "192.0.2.9")]
    db.engine.dispose()


def _gateway(
    model, db: Database, clock, key_cache_seconds: float = KEY_CACHE_SECONDS, **options: Any
) -> Gateway:
    from miaudit.targets.sklearn import SklearnTarget

    backend = Backend(SklearnTarget(model), "iris")
    return Gateway(backend, db, MemoryLimiter(), key_cache_seconds, clock=clock, **options)
