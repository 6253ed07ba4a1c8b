"""HTTP targets against real servers on 127.0.0.1 (``http.server`` in a thread — real sockets,
real HTTP): the V1 and v2 protocols, 429 with Retry-After, 5xx then success, connection
refused, a wrong number of predictions, a server slower than the timeout. Bounded: every test
sends at most a few dozen requests, to 127.0.0.1 only."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np
import pytest
from cli_run import audit_cli, write_records
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import miaudit
from cli_in_process import QuietHTTPServer
from miaudit.errors import InputError
from miaudit.targets.http import HttpTarget, public_url

X, Y = load_breast_cancer(return_X_y=True)
MODEL = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X[:284], Y[:284])


class Handler(BaseHTTPRequestHandler):
    """Serves MODEL; the path picks a behaviour. ``server.hits`` counts requests per path."""

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        hits = self.server.hits  # type: ignore[attr-defined]
        hits[self.path] = hits.get(self.path, 0) + 1
        n = hits[self.path]
        self.server.auth.append(self.headers.get("Authorization"))  # type: ignore[attr-defined]
        if self.path.startswith("/v2/"):
            tensor = body["inputs"][0]
            rows = np.asarray(tensor["data"]).reshape(tensor["shape"])
            p = MODEL.predict_proba(rows)
            self._send(
                200,
                {
                    "outputs": [
                        {
                            "name": "p",
                            "shape": list(p.shape),
                            "datatype": "FP64",
                            "data": p.ravel().tolist(),
                        }
                    ]
                },
            )
            return
        rows = np.asarray(body["instances"])
        if self.path == "/limited" and n == 1:
            self._send(429, {"error": "slow down"}, {"Retry-After": "1"})
        elif self.path.startswith("/retry-after/") and n == 1:  # /retry-after/<header value>
            value = self.path.rsplit("/", 1)[1].split("?")[0]
            self._send(429, {"error": "slow down"}, {"Retry-After": value} if value else {})
        elif self.path in ("/flaky", "/scan-flaky") and n <= 2:
            self._send(503, {"error": "warming up"})
        elif self.path == "/scan-limited":
            self._send(429, {"error": "slow down"}, {"Retry-After": "5"})
        elif self.path == "/slow":
            time.sleep(1.0)
            self._send(200, {"predictions": MODEL.predict_proba(rows).tolist()})
        elif self.path == "/short":
            self._send(200, {"predictions": MODEL.predict_proba(rows)[:-1].tolist()})
        elif self.path == "/probabilities-for-labels":  # a reply shaped like probabilities
            self._send(200, {"predictions": MODEL.predict_proba(rows).round().tolist()})
        elif self.path == "/labels":
            self._send(200, {"predictions": MODEL.predict(rows).tolist()})
        elif self.path == "/forbidden":
            self._send(403, {"error": "no"})
        else:
            self._send(200, {"predictions": MODEL.predict_proba(rows).tolist()})


@pytest.fixture(scope="module")
def server() -> Iterator[ThreadingHTTPServer]:
    httpd = QuietHTTPServer(("127.0.0.1", 0), Handler)
    httpd.hits, httpd.auth = {}, []  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def _url(server: ThreadingHTTPServer, path: str) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}{path}"


def test_v1_and_v2_endpoints_audit_like_the_model(server: ThreadingHTTPServer) -> None:
    members, nonmembers = (X[:284], Y[:284]), (X[284:], Y[284:])
    direct = miaudit.audit(miaudit.SklearnTarget(MODEL), members, nonmembers, attacks=["loss"])
    for path, protocol in (("/v1/models/m:predict", "v1"), ("/v2/models/m/infer", "v2")):
        target = HttpTarget(
            _url(server, path),
            classes=2,
            protocol=protocol,
            batch_size=100,
            headers={"Authorization": "Bearer s3cret"},
        )
        result = miaudit.audit(target, members, nonmembers, attacks=["loss"])
        # the scikit-learn target reads exact logits, the endpoint rounds through JSON floats
        assert abs(result.attack("loss").auc.value - direct.attack("loss").auc.value) < 1e-3
        assert target.queries == len(X)
        assert result.target["endpoint"] == _url(server, path)
        assert "s3cret" not in json.dumps(result.to_dict())
    assert server.auth[-1] == "Bearer s3cret"  # type: ignore[attr-defined]


def test_labels_from_an_endpoint(server: ThreadingHTTPServer) -> None:
    target = HttpTarget(_url(server, "/labels"), classes=[0, 1], output="label")
    result = miaudit.audit(target, (X[:284], Y[:284]), (X[284:], Y[284:]))
    assert [a.name for a in result.attacks] == ["gap"]
    # probing a remote endpoint sends tens of queries per record: only when named
    reasons = {s.name: s.reason for s in result.skipped}
    assert "not run by default on a remote endpoint" in reasons["label-noise"]
    assert "white-box" in reasons["gradient-norm"]
    before = sum(server.hits.values())  # type: ignore[attr-defined]
    target = HttpTarget(_url(server, "/labels"), classes=[0, 1], output="label", batch_size=512)
    named = ["label-noise", "label-boundary"]
    result = miaudit.audit(target, (X[:40], Y[:40]), (X[284:324], Y[284:324]), attacks=named)
    assert [a.name for a in result.attacks] == named
    sent = sum(server.hits.values()) - before  # type: ignore[attr-defined]
    # label-noise: the 80 records, then 2,640 copies in 6 requests of at most 512 rows;
    # label-boundary: the records, then one request per direction and bisection step
    assert sent <= 1 + 6 + 1 + 32 * 7, sent
    assert result.attack("label-noise").queries_per_record == 33
    # the endpoint answers with MODEL's labels: the same scores as probing MODEL in-process
    local = miaudit.audit(
        miaudit.harden(MODEL, "label-only"),
        (X[:40], Y[:40]),
        (X[284:324], Y[284:324]),
        attacks=named,
    )
    for name in named:
        assert result.attack(name).auc.value == local.attack(name).auc.value


def test_429_and_5xx_are_retried(server: ThreadingHTTPServer) -> None:
    start = time.perf_counter()
    limited = HttpTarget(_url(server, "/limited"), classes=2, backoff=0.01)
    assert limited._predict(X[:5]).shape == (5, 2)
    assert time.perf_counter() - start >= 1.0  # waited for Retry-After: 1
    flaky = HttpTarget(_url(server, "/flaky"), classes=2, backoff=0.01, retries=3)
    assert flaky._predict(X[:5]).shape == (5, 2)
    assert server.hits["/flaky"] == 3  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("path", "settings", "message"),
    [
        ("/short", {}, r"returned 4 predictions for 5 records"),
        ("/slow", {"timeout": 0.3, "retries": 1}, r"no answer within 0.3 s after 2 attempts"),
        ("/forbidden", {}, r"refused the request: 403"),
    ],
)
def test_a_bad_endpoint_is_a_clear_error(
    server: ThreadingHTTPServer, path: str, settings: dict[str, Any], message: str
) -> None:
    target = HttpTarget(_url(server, path), classes=2, backoff=0.01, **settings)
    start = time.perf_counter()
    with pytest.raises(InputError, match=message) as caught:
        target._predict(X[:5])
    assert _url(server, path) in str(caught.value)
    assert time.perf_counter() - start < 5


def test_connection_refused_fails_fast_and_keeps_credentials_out() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends: nothing listens there
    url = f"http://user:pw@127.0.0.1:{port}/v1/models/m:predict?token=abc"
    target = HttpTarget(url, classes=2, retries=2, backoff=0.01)
    start = time.perf_counter()
    with pytest.raises(InputError, match="cannot connect") as caught:
        target._predict(X[:3])
    assert time.perf_counter() - start < 3
    assert "pw" not in str(caught.value) and "abc" not in str(caught.value)
    assert public_url(url) == f"http://127.0.0.1:{port}/v1/models/m:predict"


def test_bad_settings() -> None:
    for kwargs, message in [
        ({"protocol": "v3"}, "protocol"),
        ({"output": "scores"}, "output"),
        ({"batch_size": 0}, "batch_size"),
    ]:
        with pytest.raises(InputError, match=message):
            HttpTarget("http://127.0.0.1:1/x", classes=2, **kwargs)
    with pytest.raises(InputError, match="http:// or https://"):
        HttpTarget("ftp://127.0.0.1/x", classes=2)


def test_an_endpoint_from_the_command_line_and_a_config(
    server: ThreadingHTTPServer, tmp_path: Any
) -> None:
    import os
    import subprocess

    write_records(tmp_path, "m", X[:284], Y[:284])
    write_records(tmp_path, "n", X[284:], Y[284:])
    url = _url(server, "/v1/models/m:predict")
    env = {**os.environ, "TOKEN": "tok-123"}

    def run(*args: str, environ: dict[str, str] = env) -> subprocess.CompletedProcess[str]:
        return audit_cli(tmp_path, *args, formats="json,md", env=environ)

    common = ("--members", "m.csv", "--nonmembers", "n.csv", "--attacks", "loss")
    done = run(
        "--endpoint", url, "--endpoint-header", "Authorization: Bearer ${TOKEN}",
        "--classes", "2", "--out", "a", *common,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert server.auth[-1] == "Bearer tok-123"  # type: ignore[attr-defined]
    written = "".join(p.read_text() for p in (tmp_path / "a").iterdir())
    assert url in written and "tok-123" not in written
    missing = {k: v for k, v in env.items() if k != "TOKEN"}
    unset = run(
        "--endpoint", url, "--endpoint-header", "Authorization: Bearer ${TOKEN}",
        "--classes", "2", *common, environ=missing,
    )  # fmt: skip
    assert unset.returncode == 2 and "TOKEN is not set" in unset.stderr
    no_classes = run("--endpoint", url, *common)
    assert no_classes.returncode == 2 and "--classes" in no_classes.stderr
    (tmp_path / "audit.toml").write_text(
        f'[target]\nkind = "http"\nurl = "{url}"\nclasses = 2\n'
        'headers = {Authorization = "Bearer ${TOKEN}"}\n'
        '[data]\nmembers = "m.csv"\nnonmembers = "n.csv"\nlabel = "label"\n'
        '[audit]\nattacks = ["loss"]\n'
    )
    from_config = run("--config", "audit.toml", "--out", "b")
    assert from_config.returncode == 0, from_config.stderr
    report = json.loads((tmp_path / "b" / "report.json").read_text())
    assert report["target"]["kind"] == "http" and report["target"]["endpoint"] == url
    refused = run("--endpoint", f"http://127.0.0.1:{_free_port()}/x", "--classes", "2", *common)
    assert refused.returncode == 2 and "cannot connect" in refused.stderr
    assert "Traceback" not in refused.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("protocol", ["v1", "v2"])
def test_one_codec_encodes_and_decodes_both_protocols(protocol: str) -> None:
    from miaudit.targets.kserve import decode, encode

    rows = np.array([[0.5, 1.0], [2.0, -1.0]])
    body = encode(rows, protocol, {"top_k": 3})
    assert body["parameters"] == {"top_k": 3}
    scores = [[0.25, 0.75], [0.5, 0.5]]
    if protocol == "v1":
        assert body["instances"] == rows.tolist()
        answer: dict[str, Any] = {"predictions": scores}
    else:
        assert body["inputs"][0]["shape"] == [2, 2] and body["inputs"][0]["data"] == [
            0.5, 1.0, 2.0, -1.0,
        ]  # fmt: skip
        answer = {"outputs": [{"shape": [2, 2], "data": [0.25, 0.75, 0.5, 0.5]}]}
    assert decode(answer, protocol, 2) == scores
    with pytest.raises(InputError, match="protocol must be one of v1, v2"):
        HttpTarget("http://127.0.0.1:1/x", classes=2, protocol="v3")


def test_the_scanner_retries_server_errors_and_sees_a_429_at_once(
    server: ThreadingHTTPServer,
) -> None:
    from miaudit.scan.probe import Endpoint

    waits: list[float] = []
    endpoint = Endpoint(_url(server, "/scan-flaky"), backoff=0.05, sleep=waits.append)
    status, answers, _ = endpoint.post([X[0].tolist()])
    assert status == 200 and answers is not None and len(answers[0]) == 2
    assert waits == [0.05, 0.1]  # two 503s, retried with exponential backoff
    limited = Endpoint(_url(server, "/scan-limited"), sleep=waits.append)
    status, answers, _ = limited.post([X[0].tolist()])
    assert status == 429 and answers is None and waits == [0.05, 0.1]  # the rate-limit probe
    assert server.hits["/scan-limited"] == 1  # type: ignore[attr-defined]


@pytest.mark.parametrize("value", ["nan", "-5", "inf", "soon", ""])
def test_a_retry_after_that_is_no_wait_uses_the_backoff(
    server: ThreadingHTTPServer, value: str
) -> None:
    from miaudit.targets.kserve import KServeClient

    path = f"/retry-after/{value}"
    waits: list[float] = []
    client = KServeClient(_url(server, path), backoff=0.05, sleep=waits.append)
    response = client.post({"instances": X[:2].tolist()})
    # `Retry-After: nan` used to be slept on (ValueError), a negative one skipped the wait
    assert response.status_code == 200 and waits == [0.05]
    assert server.hits[path] == 2  # type: ignore[attr-defined]


def test_a_long_backoff_after_a_429_is_capped(server: ThreadingHTTPServer) -> None:
    from miaudit.targets.kserve import MAX_RETRY_AFTER, KServeClient

    waits: list[float] = []
    url = _url(server, "/retry-after/?cap")  # a 429 without Retry-After, then the answer
    client = KServeClient(url, backoff=100.0, sleep=waits.append)
    assert client.post({"instances": X[:2].tolist()}).status_code == 200
    assert waits == [MAX_RETRY_AFTER]  # the backoff, capped: not an error


def test_an_endpoint_that_sleeps_on_retry_after_nan_answers(server: ThreadingHTTPServer) -> None:
    target = HttpTarget(_url(server, "/retry-after/NaN"), classes=2, backoff=0.01)
    assert target._predict(X[:5]).shape == (5, 2)


def test_probabilities_where_labels_were_expected_name_the_endpoint_and_shape(
    server: ThreadingHTTPServer,
) -> None:
    url = _url(server, "/probabilities-for-labels")
    target = HttpTarget(url, classes=[0, 1], output="label")
    with pytest.raises(InputError, match=r"answered shape \(5, 2\) for 5 records") as caught:
        target._predict(X[:5])
    assert url in str(caught.value) and "output 'probabilities'" in str(caught.value)
