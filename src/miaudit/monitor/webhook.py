"""Alerts to a webhook, from a sender thread of their own.

Each alert is one JSON POST (``{"schema": "miaudit.alert/1", "alert": {...}}``), retried with
backoff. :meth:`Webhook.send` only puts the alert on a bounded queue, so a webhook that is
down or slow never stalls detection (the monitor's worker thread in the gateway, or
``miaudit monitor``); what could not be delivered is listed in ``failures``, and
:meth:`Webhook.close` delivers what is still queued within a time limit and reports the rest.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from miaudit.errors import InputError, require
from miaudit.monitor.engine import Alert

SCHEMA = "miaudit.alert/1"
#: Alerts waiting for the sender; beyond this, new ones are reported as not delivered.
QUEUE_SIZE = 1000
#: Seconds :meth:`Webhook.close` gives the queue by default.
CLOSE_SECONDS = 30.0
_STOP = object()


class Webhook:
    """POSTs each alert as JSON to ``url`` on a sender thread; ``failures`` lists what could
    not be delivered (and why), ``delivered`` counts what was.

    ``sleep`` waits between attempts (``0.2 · 2**attempt`` seconds; by default a wait that
    :meth:`close` cuts short) and ``clock`` measures :meth:`close`'s limit — both injectable
    for tests; ``post`` defaults to the ``post`` of an ``httpx.Client``."""

    def __init__(
        self,
        url: str,
        retries: int = 3,
        timeout: float = 5.0,
        queue_size: int = QUEUE_SIZE,
        *,
        sleep: Callable[[float], Any] | None = None,
        clock: Callable[[], float] = time.monotonic,
        post: Callable[..., Any] | None = None,
    ) -> None:
        self._httpx: Any = require("httpx", "http", "The monitor's webhook")
        if not url.startswith(("http://", "https://")):
            raise InputError(f"--webhook must be an http:// or https:// URL, got {url!r}")
        if retries < 1 or queue_size < 1:
            raise InputError(f"a webhook needs retries and queue_size >= 1, got {retries}, "
                             f"{queue_size}")  # fmt: skip
        self.url, self.retries, self.timeout = url, retries, timeout
        self.failures: list[str] = []
        self.delivered = 0
        self._size = queue_size
        self._queue: queue.Queue[Any] = queue.Queue()  # bounded by send(), not by put()
        self._closing = threading.Event()
        self._sleep = sleep or self._closing.wait
        self._clock = clock
        self._post: Callable[..., Any] | None = post  # None: the sender makes an httpx.Client
        self._deadline = float("inf")
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def send(self, alert: Alert) -> bool:
        """Queue ``alert`` for delivery, without waiting; False (and a failure) when the queue
        is full or the webhook closed."""
        body = {"schema": SCHEMA, "alert": alert.to_dict()}
        with self._lock:
            problem = "the webhook is closed" if self._closing.is_set() else ""
            if not problem and self._queue.qsize() >= self._size:
                problem = f"the queue is full ({self._size} alerts waiting)"
            if problem:
                self._fail(alert, problem)
                return False
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="miaudit-webhook", daemon=True
                )
                self._thread.start()
            self._queue.put((alert, body))
        return True

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` has begun (no alert is accepted any more)."""
        return self._closing.is_set()

    def close(self, timeout: float = CLOSE_SECONDS) -> list[str]:
        """Deliver what is queued within ``timeout`` seconds (retries stop waiting), then stop
        the sender; every alert not delivered is in the returned ``failures``."""
        with self._lock:
            if self._closing.is_set():
                return self.failures
            self._deadline = self._clock() + timeout
            self._closing.set()
            thread = self._thread
            self._queue.put(_STOP)
        if thread is not None:
            thread.join(timeout + self.timeout + 1.0)  # an attempt in flight ends by its timeout
            if thread.is_alive():  # stuck past its own timeouts: report what is left
                self._drain("the sender did not finish in time")
        return self.failures

    # ------------------------------------------------------------------ the sender thread
    def _run(self) -> None:
        client = None
        if self._post is None:  # one client: its connections are reused between alerts
            client = self._httpx.Client()
            self._post = client.post
        try:
            while True:
                item = self._queue.get()
                if item is _STOP:
                    return
                self._deliver(*item)
        finally:
            if client is not None:
                client.close()

    def _deliver(self, alert: Alert, body: dict[str, Any]) -> None:
        assert self._post is not None  # set before the sender's loop
        problem = ""
        for attempt in range(self.retries):
            if self._clock() >= self._deadline:
                problem = f"{problem + '; ' if problem else ''}not sent before shutdown"
                break
            try:
                reply = self._post(self.url, json=body, timeout=self.timeout)
                if reply.status_code < 300:
                    with self._lock:
                        self.delivered += 1
                    return
                problem = f"HTTP {reply.status_code}"
            except self._httpx.HTTPError as exc:
                problem = type(exc).__name__
            if attempt + 1 < self.retries:
                self._sleep(0.2 * 2**attempt)
        with self._lock:
            self._fail(alert, problem)

    def _drain(self, why: str) -> None:
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if item is not _STOP:
                with self._lock:
                    self._fail(item[0], why)

    def _fail(self, alert: Alert, problem: str) -> None:
        self.failures.append(f"{alert.detector} for {', '.join(alert.keys)}: {problem}")
