"""``miaudit scan`` against real endpoints on 127.0.0.1: a bare V1 model server (an
``http.server`` thread) that exposes everything, one that widens its output on request, and the
gateway under a label-only key; membership inference through the gateway (MIA105). Bounded:
each scan sends at most a few hundred queries, to 127.0.0.1 only."""

from __future__ import annotations

import json
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import fastapi  # noqa: F401  (the serve extra is in [test]: missing means a failure, not a skip)
import numpy as np
import pandas as pd
import pytest
from gateway_run import add_key, cli, predict_url, refused
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

from cli_in_process import QuietHTTPServer

X, Y = load_iris(return_X_y=True)
MODEL = LogisticRegression(max_iter=500).fit(X, Y)


class Handler(BaseHTTPRequestHandler):
    """``/open``: full probabilities to anyone. ``/widen``: a label, unless the request asks
    for probabilities (``parameters.return_probabilities``)."""

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.path.startswith("/v2/"):  # Open Inference Protocol v2: full probabilities
            tensor = body["inputs"][0]
            p = MODEL.predict_proba(np.asarray(tensor["data"]).reshape(tensor["shape"]))
            output = {
                "name": "p",
                "shape": list(p.shape),
                "datatype": "FP64",
                "data": p.ravel().tolist(),
            }
            self._send({"outputs": [output]})
            return
        rows = np.asarray(body["instances"], dtype=float)
        wants = (body.get("parameters") or {}).get("return_probabilities")
        if self.path == "/widen" and not wants:
            answer: list = MODEL.predict(rows).tolist()
        else:
            answer = MODEL.predict_proba(rows).tolist()
        self._send({"predictions": answer})

    def _send(self, payload: dict) -> None:
        data = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture(scope="module")
def bare_server() -> Iterator[str]:
    server = QuietHTTPServer(("127.0.0.1", 0), Handler)  # scan runs in process: its stderr
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _scan(tmp_path: Path, url: str, *args: str) -> tuple[int, dict, str]:
    out = tmp_path / "scan"
    done = cli("scan", url, "--out", str(out), "--budget", "30", *args)
    assert "Traceback" not in done.stderr, done.stderr
    report = json.loads((out / "scan.json").read_text()) if (out / "scan.json").exists() else {}
    return done.returncode, report, done.stdout + done.stderr


def _rules(report: dict) -> dict[str, str]:
    return {f["rule"]: f["level"] for f in report["findings"]}


def test_an_unprotected_model_server_is_graded_mia101_and_mia102(
    tmp_path: Path, bare_server: str
) -> None:
    code, report, _ = _scan(tmp_path, f"{bare_server}/open", "--features", "4")
    assert code == 1  # an error-level finding fails the default --fail-level error
    assert report["schema"] == "miaudit.scan/1"
    assert _rules(report) == {"MIA101": "error", "MIA102": "error", "MIA104": "warning"}
    scores = next(f for f in report["findings"] if f["rule"] == "MIA102")
    assert scores["evidence"]["classes"] == 3 and scores["evidence"]["decimals"] >= 10
    assert all(f["remediation"] and f["owasp"] == "ML04:2023" for f in report["findings"])
    assert report["queries"] <= 33  # 1 without credentials, 1 probe, 1 widening, ≤ 30 rate
    sarif = json.loads((tmp_path / "scan" / "scan.sarif").read_text())
    assert {r["ruleId"] for r in sarif["runs"][0]["results"]} == {"MIA101", "MIA102", "MIA104"}
    located = sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert located["artifactLocation"] == {"uri": "open", "uriBaseId": "ENDPOINT"}  # repo-relative
    suite = ET.parse(tmp_path / "scan" / "scan.junit.xml").getroot()
    assert suite.get("tests") == "5" and suite.get("failures") == "2"
    code, _, _ = _scan(tmp_path, f"{bare_server}/open", "--features", "4", "--fail-level", "none")
    assert code == 0


def test_a_server_that_widens_its_output_on_request_is_mia103(
    tmp_path: Path, bare_server: str
) -> None:
    _, report, _ = _scan(tmp_path, f"{bare_server}/widen", "--features", "4")
    rules = _rules(report)
    assert "MIA103" in rules and "MIA102" not in rules  # labels by default, scores on request
    widened = next(f for f in report["findings"] if f["rule"] == "MIA103")["evidence"]
    assert widened["before"] == {"returns": "a label"}
    assert widened["after"]["returns"] == "probabilities"


def test_the_gateway_with_a_label_only_key_is_neither_mia101_nor_mia102(
    tmp_path: Path, server_factory, iris_model: tuple
) -> None:
    path, _, _ = iris_model
    db = str(tmp_path / "g.db")
    key = add_key(db, "scanner", "label-only", "2/s", 10)
    server = server_factory(str(path), "--db", db, "--name", "iris")
    url = f"{server.url}/v1/models/iris:predict"
    code, report, printed = _scan(tmp_path, url, "--features", "4", "--key", key)
    assert code == 0, printed
    assert _rules(report) == {}  # credentials needed, labels only, limited after 10 queries
    written = "".join(p.read_text() for p in (tmp_path / "scan").iterdir())
    assert key not in written and key not in printed  # credentials never reported
    bad, _, message = _scan(tmp_path, url, "--features", "4", "--key", "mia_wrong")
    assert bad == 2 and "did not answer a query with the credentials given" in message


def test_membership_inference_through_the_gateway_is_mia105(
    tmp_path: Path, server_factory, overfit_model: tuple
) -> None:
    skops = pytest.importorskip("skops.io")
    model, (x_in, x_out, y_in, y_out) = overfit_model
    skops.dump(model, tmp_path / "leaky.skops")
    for name, (x, y) in {"members": (x_in, y_in), "nonmembers": (x_out, y_out)}.items():
        frame = pd.DataFrame(x, columns=[f"f{i}" for i in range(x.shape[1])])
        frame.assign(label=y).to_csv(tmp_path / f"{name}.csv", index=False)
    db = str(tmp_path / "g.db")
    key = add_key(db, "auditor", "full", "1000/s", 1000)
    # an MLP's skops file holds its optimiser, a type skops does not trust by default: we
    # wrote this file ourselves, so we trust it
    server = server_factory(
        str(tmp_path / "leaky.skops"), "--db", db, "--name", "leaky", "--trust-model-file"
    )
    code, report, printed = _scan(
        tmp_path,
        f"{server.url}/v1/models/leaky:predict",
        "--key",
        key,
        "--members",
        str(tmp_path / "members.csv"),
        "--nonmembers",
        str(tmp_path / "nonmembers.csv"),
    )
    assert code == 1, printed
    found = next(f for f in report["findings"] if f["rule"] == "MIA105")
    # the MLP memorised 20% flipped labels: AUC ≈ 0.9 through the API, far above chance
    assert found["level"] == "error" and found["evidence"]["auc_ci"][0] > 0.6
    assert found["evidence"]["members"] == 300


def test_the_gateway_guards_an_upstream_model_server_and_its_daily_quota(
    tmp_path: Path, server_factory, bare_server: str
) -> None:
    db = str(tmp_path / "g.db")
    key = add_key(db, "quota", "round:2", "1000/s", 100, "--quota", "5/day")
    server = server_factory(
        "--upstream", f"{bare_server}/open", "--classes", "0,1,2", "--db", db, "--name", "iris"
    )
    first = predict_url(f"{server.url}/v1/models/iris:predict", key, X[:3].tolist())
    assert first.status_code == 200
    np.testing.assert_allclose(
        first.json()["predictions"], np.round(MODEL.predict_proba(X[:3]), 2)
    )  # the upstream's probabilities, behind this key's policy
    second = predict_url(f"{server.url}/v1/models/iris:predict", key, X[:2].tolist())
    assert second.status_code == 200  # 5 of the 5 instances a day
    over = predict_url(f"{server.url}/v1/models/iris:predict", key, X[:1].tolist())
    assert over.status_code == 429 and "daily quota of 5" in over.json()["error"]
    assert 1 <= int(over.headers["retry-after"]) <= 86400


def test_v2_endpoints_and_onnx_files(tmp_path: Path, server_factory, bare_server: str) -> None:
    # the scanner speaks the Open Inference Protocol v2 too
    _, report, _ = _scan(
        tmp_path, f"{bare_server}/v2/models/iris/infer", "--features", "4", "--protocol", "v2"
    )
    assert {"MIA101", "MIA102"} <= set(_rules(report))
    # the gateway proxies a v2 upstream, and serves an ONNX file, as V1
    skl2onnx = pytest.importorskip("skl2onnx")
    onnx_path = tmp_path / "iris.onnx"
    onnx_path.write_bytes(
        skl2onnx.to_onnx(
            MODEL, X[:1].astype(np.float32), options={id(MODEL): {"zipmap": False}}
        ).SerializeToString()
    )
    db = str(tmp_path / "g.db")
    key = add_key(db, "v2", "full")
    upstream = server_factory(
        "--upstream",
        f"{bare_server}/v2/models/iris/infer",
        "--protocol",
        "v2",
        "--classes",
        "3",
        "--db",
        db,
        "--name",
        "iris",
    )
    onnx = server_factory(str(onnx_path), "--classes", "0,1,2", "--db", db, "--name", "iris")
    expected = MODEL.predict_proba(X[:5])
    for server, tolerance in ((upstream, 1e-12), (onnx, 1e-5)):  # ONNX computes in float32
        got = predict_url(f"{server.url}/v1/models/iris:predict", key, X[:5].tolist())
        assert got.status_code == 200
        np.testing.assert_allclose(got.json()["predictions"], expected, atol=tolerance)


def test_the_gateway_serves_a_torch_export_file(tmp_path: Path, server_factory) -> None:
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    batch = torch.export.Dim("batch")
    program = torch.export.export(module, (torch.zeros(2, 4),), dynamic_shapes=({0: batch},))
    torch.export.save(program, tmp_path / "net.pt2")
    db = str(tmp_path / "g.db")
    key = add_key(db, "torch", "full")
    refusal = refused(str(tmp_path / "net.pt2"), "--classes", "3", "--db", db)
    assert refusal.returncode == 2 and "--trust-model-file" in refusal.stderr  # code runs
    server = server_factory(
        str(tmp_path / "net.pt2"),
        "--classes",
        "3",
        "--trust-model-file",
        "--db",
        db,
        "--name",
        "net",
    )
    got = predict_url(f"{server.url}/v1/models/net:predict", key, X[:4].tolist())
    with torch.no_grad():
        expected = torch.softmax(module(torch.tensor(X[:4], dtype=torch.float32)), 1).numpy()
    np.testing.assert_allclose(got.json()["predictions"], expected, rtol=1e-5)  # logits → p
