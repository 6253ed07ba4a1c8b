"""The monitor inside the gateway (``miaudit serve --monitor``): the same detectors on the live
stream, and an action on a flagged key.

Answered requests are handed to a worker thread after their rows are committed, so the monitor
adds a queue hand-off to a request, not its own work. A flagged key is, from its next request
on (``--on-alert``): ``label-only`` — answered with labels whatever its policy; ``throttle`` —
held to one instance every ``THROTTLE_SECONDS`` seconds; ``block`` — refused (403); or ``none``
— only recorded. Alerts are stored in the database (``miaudit_alerts``), logged, and sent to
the webhook; ``miaudit monitor alerts --db … --release KEY`` lifts them.

State survives a restart: every key's windows and scores are saved to ``miaudit_monitor_state``
every ``SNAPSHOT_SECONDS`` and at shutdown, and a restarted gateway replays the query log
after each key's last saved query, so even a ``kill -9`` loses nothing. The links between keys
(the ``campaign`` detector) are rebuilt from new traffic.

A release is never undone by a saved state: releases are picked up before every snapshot, a
state is saved with the time the releases were last read (the monitor's state reflects every
release made before it), and a restarted gateway discards a key's saved state taken before its
latest release, and replays none of its queries logged before it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import threading
import time
from collections.abc import Sequence
from typing import Any, get_args

from miaudit.errors import InputError
from miaudit.gateway.db import Database
from miaudit.monitor.calibrate import Calibration
from miaudit.monitor.engine import Alert, Monitor
from miaudit.monitor.index import TrainingIndex
from miaudit.monitor.settings import AlertAction
from miaudit.monitor.webhook import Webhook, jsonable
from miaudit.querylog import QueryRecord

ACTIONS: tuple[str, ...] = get_args(AlertAction)
SNAPSHOT_SECONDS = 2.0
THROTTLE_SECONDS = 10.0
#: Seconds a release may be stamped before it is visible to the gateway (the release's commit,
#: clocks): a saved state must be this much newer than a key's latest release to be restored.
RELEASE_MARGIN = 1.0
_SCALES = ""  # the state row holding the feature scales (no key has an empty name)
_STOP = object()
log = logging.getLogger("miaudit.gateway.monitor")


class Watch:
    """Feeds the live query rows to a :class:`Monitor` and remembers what to do with flagged
    keys."""

    def __init__(
        self,
        db: Database,
        calibration: Calibration,
        index: TrainingIndex | None = None,
        action: str = "label-only",
        webhook: Webhook | None = None,
        snapshot_seconds: float = SNAPSHOT_SECONDS,
    ) -> None:
        if action not in ACTIONS:
            raise InputError(f"--on-alert must be one of {ACTIONS}, got {action!r}")
        self.db, self.action, self.webhook = db, action, webhook
        self.monitor: Monitor = calibration.monitor(index)
        self.snapshot_seconds = snapshot_seconds
        self.flags: dict[str, str] = db.flagged()
        self._started = time.time()  # rows logged from now on come through the queue
        #: When the releases were last read: the monitor's state reflects every release before.
        self._synced = self._started
        #: The latest release of each key recently released that the monitor has applied.
        self._applied: dict[str, float] = {}
        self._queue: queue.Queue[Any] = queue.Queue()
        self._dirty: set[str] = set()
        self._idle = threading.Event()
        self._thread = threading.Thread(target=self._run, name="miaudit-monitor", daemon=True)
        self._thread.start()

    def action_for(self, key: str) -> str | None:
        """What to do with ``key``'s request: ``None`` when it is not flagged."""
        action = self.flags.get(key)
        return None if action in (None, "none") else action

    def feed(self, records: Sequence[QueryRecord]) -> None:
        if records and records[0].key:
            self._idle.clear()
            self._queue.put(records)

    def wait(self, timeout: float = 10.0) -> bool:
        """Block until every record fed so far is processed (tests, shutdown)."""
        self._queue.put(None)
        return self._idle.wait(timeout)

    def close(self) -> None:
        """Save the state and stop; deliver the webhook's queued alerts within its limit."""
        self._queue.put(_STOP)
        self._thread.join(timeout=30)
        if self.webhook is not None:
            for line in self.webhook.close():
                log.warning("webhook: alert not delivered: %s", line)

    # ------------------------------------------------------------------ the worker
    def _run(self) -> None:
        try:
            self._restore()
        except Exception:  # a broken saved state must not stop the gateway: start afresh
            log.exception("could not restore the monitor's saved state; starting afresh")
        last = time.monotonic()
        while True:
            try:
                item = self._queue.get(timeout=self.snapshot_seconds)
            except queue.Empty:
                item = None
            if item is _STOP:
                self._refresh()  # a key released since the last refresh is not saved
                self._snapshot()
                return
            if item is not None:
                self._observe(item)
            if time.monotonic() - last >= self.snapshot_seconds or item is None:
                self._refresh()  # first: a released key's old state must not be saved again
                self._snapshot()
                last = time.monotonic()
            if self._queue.empty():
                self._idle.set()

    def _observe(self, records: Sequence[QueryRecord]) -> None:
        for record in records:
            self._dirty.add(record.key)
            for alert in self.monitor.observe(record):
                self._raise(alert)

    def _raise(self, alert: Alert) -> None:
        data = alert.to_dict()
        with contextlib.suppress(TypeError, ValueError):  # if not JSON, add_alert reports it
            data = json.loads(json.dumps(data, default=jsonable))  # numpy values: numbers
        for key in alert.keys:
            try:
                self.db.add_alert(key, alert.detector, self.action, data)
            except Exception:  # the alert is still acted on and logged
                log.exception("could not store the alert for %s", key)
            if self.action != "none":
                self.flags[key] = self.action
        log.warning(
            "membership-inference alert: key(s) %s, %s (score %.3g > %.3g after %d queries); "
            "action: %s",
            ", ".join(alert.keys),
            alert.detector,
            alert.score,
            alert.threshold,
            alert.queries_before_alert,
            self.action,
        )
        if self.webhook is not None and not self.webhook.send(alert):  # queued, never waited on
            log.warning("webhook: alert not queued (%s)", self.webhook.failures[-1])

    def _refresh(self) -> None:
        """Pick up releases made with ``miaudit monitor alerts --release``."""
        now = time.time()  # before the reads: a release after it is seen next time
        try:
            released = self.db.releases_since(self._synced - RELEASE_MARGIN)
            flags = self.db.flagged()
        except Exception:  # the database is away: the state keeps its older sync time
            return
        self.flags = flags
        for key, when in released.items():
            if when > self._applied.get(key, -1.0):  # not one applied already (a key that
                self._applied[key] = when  # queried since must not lose its new state)
                if key not in flags:
                    self.monitor.release(key)
        self._synced = now
        self._applied = {k: t for k, t in self._applied.items() if t >= now - 2 * RELEASE_MARGIN}

    # ------------------------------------------------------------------ persistence
    def _snapshot(self) -> None:
        """Save the states of the keys seen since the last snapshot, stamped with the time the
        releases were last read (a release after it voids the state at a restart)."""
        dirty, self._dirty = self._dirty, set()
        synced = self._synced
        states = {
            key: (synced, json.dumps(data))
            for key, (_, data) in self.monitor.snapshot(dirty).items()
        }
        scales = self.monitor.learned_scales()
        if scales is not None:
            states[_SCALES] = (time.time(), json.dumps(scales))
        try:
            self.db.save_states(states)
        except Exception:
            self._dirty |= dirty  # try again at the next snapshot
            log.exception("could not save the monitor's state")

    def _restore(self) -> None:
        """Saved states, then the log after each key's last saved query, up to this
        process's start (what came later is in the queue). A released key resumes from its
        latest release: a state saved before it is discarded, its older queries not replayed."""
        alerted: list[tuple[str, str]] = []
        groups: dict[tuple[str, str], set[str]] = {}  # named groups (a client) that alerted
        released: dict[str, float] = {}  # each key's latest release
        for a in self.db.list_alerts(include_released=True):
            if a["released"] is None:
                alerted.append((a["key"], a["detector"]))
                group = a["alert"].get("evidence", {}).get("group")
                if isinstance(group, str):
                    groups.setdefault((group, a["detector"]), set()).update(a["alert"]["keys"])
            else:
                released[a["key"]] = max(released.get(a["key"], 0.0), a["released"])
        saved: dict[str, Any] = {}
        stale: set[str] = set()
        for key, (synced, text) in self.db.load_states().items():
            if key in released and released[key] >= synced - RELEASE_MARGIN:
                stale.add(key)  # taken before the release (or too close to tell)
            else:
                saved[key] = json.loads(text)
        if stale:
            log.info("discarded the saved state of released key(s) %s", ", ".join(sorted(stale)))
        scales = saved.pop(_SCALES, None)
        self._applied = released  # the restored state reflects them all
        upto = self.monitor.restore(saved, alerted, scales, groups)  # each key saved as of
        after = dict(upto)  # replay each key's queries logged after this time
        for key, when in released.items():
            after[key] = max(after.get(key, when), when)
        since = min([*upto.values(), *(after[key] for key in stale)], default=None)
        for record in self.db.records(since):
            if record.time >= self._started:
                break  # logged by this process: it is in the queue
            if record.time > after.get(record.key, -1.0):
                self._observe([record])
