"""The webhook sends from its own thread: a webhook that is down (a closed port, a server that
answers 500) never stalls detection; what is not delivered is reported; closing is bounded in
time. Real sockets on 127.0.0.1; the waits between retries and the shutdown clock are
injected, so no test sleeps."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

from miaudit.errors import InputError
from miaudit.monitor import Monitor
from miaudit.monitor.engine import Alert
from miaudit.monitor.webhook import Webhook
from miaudit.querylog import QueryRecord


class _Answer(BaseHTTPRequestHandler):
    """Answers every POST with the server's ``status`` and keeps the bodies."""

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.bodies.append(json.loads(body))  # type: ignore[attr-defined]
        self.send_response(self.server.status)  # type: ignore[attr-defined]
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def _server(status: int) -> Iterator[HTTPServer]:
    server = HTTPServer(("127.0.0.1", 0), _Answer)
    server.status, server.bodies = status, []  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture()
def failing() -> Iterator[HTTPServer]:
    yield from _server(500)


@pytest.fixture()
def working() -> Iterator[HTTPServer]:
    yield from _server(204)


@pytest.fixture()
def closed_port() -> int:
    """A port on 127.0.0.1 nobody listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _Gate:
    """An injected ``sleep`` that records the waits and holds the sender until opened."""

    def __init__(self) -> None:
        self.waits: list[float] = []
        self.open = threading.Event()

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.open.wait(30)


def _alert(n: int) -> Alert:
    return Alert(f"k{n}", [f"k{n}"], "volume", 10.0 + n, 5.0, 11, 1.0, {})


def _url(port: int) -> str:
    return f"http://127.0.0.1:{port}/hook"


def test_a_down_webhook_never_stalls_detection(closed_port: int) -> None:
    gate = _Gate()
    hook = Webhook(_url(closed_port), retries=3, timeout=2.0, sleep=gate)
    # a monitor raising an alert on every key; each alert goes to the webhook while its
    # sender is stuck in a retry wait: detection must go on at full speed
    monitor = Monitor(thresholds={"volume": 0.5})
    records = [
        QueryRecord(1000.0 + n, f"k{n}", "r", "m", [float(n), 1.0], [0.3, 0.7], "full", 200)
        for n in range(40)
    ]
    start = time.perf_counter()
    alerts = []
    for alert in monitor.run(records):
        alerts.append(alert)
        assert hook.send(alert)
    spent = time.perf_counter() - start
    assert len(alerts) == 40
    # the old webhook slept 1.4 s per alert (and waited for each connection) on this thread
    assert spent < 2.0, spent
    gate.open.set()
    failures = hook.close(timeout=30)
    assert len(failures) == 40 and hook.delivered == 0
    assert all("ConnectError" in line for line in failures), failures[:3]
    assert gate.waits[:2] == [0.2, 0.4]  # backoff between the 3 attempts, none after the last
    assert len(gate.waits) == 2 * 40


def test_http_errors_are_retried_then_reported(failing: HTTPServer) -> None:
    waits: list[float] = []
    hook = Webhook(_url(failing.server_port), retries=3, sleep=waits.append)
    for n in range(3):
        assert hook.send(_alert(n))
    failures = hook.close(timeout=30)
    assert failures == [f"volume for k{n}: HTTP 500" for n in range(3)]
    assert len(failing.bodies) == 9  # type: ignore[attr-defined]
    assert failing.bodies[0] == {  # type: ignore[attr-defined]
        "schema": "miaudit.alert/1",
        "alert": _alert(0).to_dict(),
    }
    assert waits == [0.2, 0.4] * 3


def test_close_delivers_what_is_queued(working: HTTPServer) -> None:
    hook = Webhook(_url(working.server_port))
    for n in range(5):
        assert hook.send(_alert(n))
    assert hook.close(timeout=30) == [] and hook.delivered == 5
    assert [b["alert"]["key"] for b in working.bodies] == [f"k{n}" for n in range(5)]  # type: ignore[attr-defined]
    assert not hook.send(_alert(9))  # closed: refused, and said so
    assert hook.failures == ["volume for k9: the webhook is closed"]


def test_close_is_bounded_in_time_and_reports_the_rest() -> None:
    now = [0.0]  # an injected clock: every attempt takes one "second"
    release = threading.Event()

    def post(*args: object, **kwargs: object) -> _Reply:
        release.wait(30)  # the first attempt is in flight when close() starts
        now[0] += 1.0
        return _Reply(500)

    hook = Webhook(_url(9), retries=3, sleep=lambda _: None, clock=lambda: now[0], post=post)
    for n in range(10):
        hook.send(_alert(n))
    done: list[list[str]] = []
    closer = threading.Thread(target=lambda: done.append(hook.close(timeout=4.5)))
    closer.start()
    while not hook.closed:  # close() has fixed its deadline: 4.5 "seconds" from now
        time.sleep(0)
    release.set()
    closer.join(10)
    failures = done[0]
    assert len(failures) == 10 and hook.delivered == 0
    # the first alert used its 3 attempts, the second 2 of them, the rest none
    assert failures[0] == "volume for k0: HTTP 500"
    assert failures[1] == "volume for k1: HTTP 500; not sent before shutdown"
    assert all(line.endswith(": not sent before shutdown") for line in failures[2:])
    assert now[0] == 5.0


def test_a_full_queue_reports_instead_of_blocking(closed_port: int) -> None:
    gate = _Gate()
    hook = Webhook(_url(closed_port), retries=2, queue_size=2, sleep=gate)
    sent = [hook.send(_alert(n)) for n in range(6)]
    # one being sent (held in its retry wait), two queued; the rest refused at once
    assert sent.count(True) in (2, 3) and sent[:2] == [True, True]
    assert any("queue is full" in line for line in hook.failures)
    gate.open.set()
    failures = hook.close(timeout=30)
    assert len(failures) == 6  # every alert accounted for: refused or not delivered


class _Reply:
    """A stand-in for ``httpx.Response``."""

    def __init__(self, status_code: int) -> None:
        self.status_code = status_code


def _evidence_alert(n: int, evidence: dict, score: float = 10.0) -> Alert:
    return Alert(f"k{n}", [f"k{n}"], "volume", score, 5.0, 11, 1.0, evidence)


def test_numpy_evidence_is_sent_and_an_alert_that_is_not_json_is_refused(
    working: HTTPServer,
) -> None:
    """A plug-in detector's evidence may hold numpy values: they are sent as numbers. What
    cannot be JSON at all is refused by send(), on the caller's thread, and the sender lives
    on for the alerts after it."""
    import numpy as np

    hook = Webhook(_url(working.server_port))
    numbers = {"hits": np.int64(3), "rate": np.float32(0.5), "rows": np.arange(2)}
    assert hook.send(_evidence_alert(0, numbers))
    assert not hook.send(_evidence_alert(1, {"thing": object()}))
    assert not hook.send(_evidence_alert(2, {}, score=float("nan")))  # not valid JSON
    assert [hook.send(_alert(n)) for n in range(3, 6)] == [True] * 3
    assert hook._thread is not None and hook._thread.is_alive()
    failures = hook.close(timeout=30)
    assert hook.delivered == 4
    assert len(failures) == 2 and all("not JSON" in line for line in failures), failures
    assert failures[0].startswith("volume for k1: ") and failures[1].startswith("volume for k2: ")
    bodies = working.bodies  # type: ignore[attr-defined]
    assert bodies[0]["alert"]["evidence"] == {"hits": 3, "rate": 0.5, "rows": [0, 1]}
    assert [b["alert"]["key"] for b in bodies] == ["k0", "k3", "k4", "k5"]


def test_any_error_while_sending_is_reported_and_the_sender_goes_on(working: HTTPServer) -> None:
    """Not only HTTP errors: whatever a delivery raises is that alert's failure, and the
    next alerts are still delivered (the real server gets them)."""
    import httpx

    client = httpx.Client()

    def post(url: str, **kwargs: Any) -> httpx.Response:
        if b'"k1"' in kwargs["content"]:
            raise RuntimeError("a bug below the sender")
        return client.post(url, **kwargs)

    hook = Webhook(_url(working.server_port), retries=2, sleep=lambda _: None, post=post)
    assert all(hook.send(_alert(n)) for n in range(4))
    assert hook.close(timeout=30) == ["volume for k1: RuntimeError"]
    assert hook.delivered == 3
    assert [b["alert"]["key"] for b in working.bodies] == ["k0", "k2", "k3"]  # type: ignore[attr-defined]
    client.close()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_alerts_left_by_a_sender_that_stopped_are_reported(failing: HTTPServer) -> None:
    """Even a sender thread killed by what no code should catch (here SystemExit from its
    wait between retries) loses nothing silently: the alert it held and those still queued
    are all in close()'s failures."""

    def sleep(_: float) -> None:
        raise SystemExit

    hook = Webhook(_url(failing.server_port), retries=2, sleep=sleep)
    for n in range(5):
        assert hook.send(_alert(n))
    failures = hook.close(timeout=30)
    assert hook.delivered == 0 and len(failures) == 5, failures
    assert sorted(line.split(":")[0] for line in failures) == [f"volume for k{n}" for n in range(5)]


def test_the_scheme_is_not_case_sensitive_and_a_refused_url_hides_its_secrets(
    working: HTTPServer,
) -> None:
    hook = Webhook(f"HTTP://127.0.0.1:{working.server_port}/hook")
    assert hook.send(_alert(0))
    assert hook.close(timeout=30) == [] and hook.delivered == 1
    Webhook("HTTPS://alerts:t0ken@hooks.example.com/x")  # accepted; nothing is sent yet
    for url in [
        "ftp://alerts:t0ken@hooks.example.com/x?sig=s3cret",
        "http://alerts:t0ken@hooks.example.com:99999/x?sig=s3cret",
        "https://alerts:t0ken@[::1/x?sig=s3cret",
        "https:///x?sig=s3cret",
    ]:
        with pytest.raises(InputError) as refused:
            Webhook(url)
        message = str(refused.value)
        assert "t0ken" not in message and "s3cret" not in message, message
        assert "--webhook must be" in message
