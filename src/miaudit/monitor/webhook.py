"""Alerts to a webhook, from a sender thread of their own.

Each alert is one JSON POST (``{"schema": "miaudit.alert/1", "alert": {...}}``), retried with
backoff. :meth:`Webhook.send` only puts the alert on a bounded queue, so a webhook that is
down or slow never stalls detection (the monitor's worker thread in the gateway, or
``miaudit monitor``); what could not be delivered is listed in ``failures``, and
:meth:`Webhook.close` delivers what is still queued within a time limit and reports the rest.

The body is made in :meth:`Webhook.send`, on the caller's thread (numpy values, which a
plug-in detector's evidence may hold, become JSON numbers and lists): an alert that is not JSON
is refused there and reported, and nothing that goes wrong while sending stops the sender.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import numpy as np

from miaudit.errors import InputError, require
from miaudit.monitor.engine import Alert
from miaudit.targets.http import public_url

SCHEMA = "miaudit.alert/1"
#: Alerts waiting for the sender; beyond this, new ones are reported as not delivered.
QUEUE_SIZE = 1000
#: Seconds :meth:`Webhook.close` gives the queue by default.
CLOSE_SECONDS = 30.0
_STOP = object()
_HEADERS = {"Content-Type": "application/json"}


def jsonable(value: Any) -> Any:
    """``json.dumps``'s ``default`` for numpy values (``np.int64(3)`` → ``3``, arrays →
    lists); anything else is still refused with a ``TypeError``."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def shown(url: str) -> str:
    """``url`` as it may be printed: no user:password, query string or fragment, even when
    the URL is malformed."""
    try:
        return public_url(url)
    except ValueError:  # e.g. a port out of range: cut by hand
        pass
    try:
        parts = urlsplit(url)
    except ValueError:  # not even split (an unclosed "[" in the host): show no part of it
        return "a malformed URL"
    return urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))


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
        try:
            parts = urlsplit(url)
            valid = parts.scheme.lower() in ("http", "https") and bool(parts.hostname)
            parts.port  # noqa: B018  (raises ValueError when out of range)
            self._httpx.URL(url)
        except (ValueError, self._httpx.InvalidURL):
            valid = False
        if not valid:  # the URL may hold a token: never print it whole
            raise InputError(
                f"--webhook must be a valid http:// or https:// URL, got {shown(url)!r}"
            )
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
        is full, the webhook closed, or the alert cannot be written as JSON."""
        try:
            data = {"schema": SCHEMA, "alert": alert.to_dict()}
            body = json.dumps(data, default=jsonable, allow_nan=False).encode()
        except (TypeError, ValueError, OverflowError) as exc:  # e.g. a plug-in's evidence
            problem, body = f"not JSON ({exc})", b""
        else:
            problem = ""
        with self._lock:
            if not problem and self._closing.is_set():
                problem = "the webhook is closed"
            if not problem and self._queue.qsize() >= self._size:
                problem = f"the queue is full ({self._size} alerts waiting)"
            if problem:
                self._fail(alert, problem)
                return False
            if self._thread is None or not self._thread.is_alive():
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
        # whatever is still queued (the sender stuck past its own timeouts, or gone) is
        # reported, never dropped
        late = thread is not None and thread.is_alive()
        self._drain("the sender did not finish in time" if late else "the sender stopped")
        if late:
            self._queue.put(_STOP)  # should it come unstuck, it stops (and closes its client)
        return self.failures

    # ------------------------------------------------------------------ the sender thread
    def _run(self) -> None:
        client, post, broken = None, self._post, ""
        if post is None:  # one client: its connections are reused between alerts
            try:
                client = self._httpx.Client()
                post = client.post
            except Exception as exc:  # every alert is then reported, none silently lost
                broken = f"no HTTP client ({type(exc).__name__})"
        alert = None  # the one being sent
        try:
            while True:
                item = self._queue.get()
                if item is _STOP:
                    return
                alert, body = item
                try:
                    problem = broken or self._deliver(post, body)
                except Exception as exc:  # the injected sleep or clock: still reported
                    problem = type(exc).__name__
                with self._lock:
                    if problem:
                        self._fail(alert, problem)
                    else:
                        self.delivered += 1
                alert = None
        finally:  # stopped, or killed by what no sender survives: nothing left unreported
            if alert is not None:
                with self._lock:
                    self._fail(alert, "the sender stopped")
            if client is not None:
                client.close()

    def _deliver(self, post: Callable[..., Any] | None, body: bytes) -> str:
        """Send ``body`` with retries; ``""`` when delivered, else why not."""
        assert post is not None  # set, or ``broken``, before the sender's loop
        problem = ""
        for attempt in range(self.retries):
            if self._clock() >= self._deadline:
                return f"{problem + '; ' if problem else ''}not sent before shutdown"
            try:
                reply = post(self.url, content=body, headers=_HEADERS, timeout=self.timeout)
                if reply.status_code < 300:
                    return ""
                problem = f"HTTP {reply.status_code}"
            except Exception as exc:  # any error: reported, and the sender goes on
                problem = type(exc).__name__  # only the type: a message may show the URL
            if attempt + 1 < self.retries:
                self._sleep(0.2 * 2**attempt)
        return problem

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
