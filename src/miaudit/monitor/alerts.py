"""Alerts out: ``alerts.json`` (schema ``miaudit.alerts/1``), SARIF 2.1.0, and a webhook.

``alerts.json``::

    {"schema": "miaudit.alerts/1", "log": "...", "queries": 120000, "keys": 512,
     "calibration": {...}, "alerts": [{"key", "keys", "detector", "description", "score",
     "threshold", "queries_before_alert", "first_time", "evidence"}]}

A webhook receives one JSON POST per alert (``{"schema": "miaudit.alert/1", "alert": {...}}``),
retried with backoff; a webhook that stays down is reported, never allowed to stop the
monitor. Key *names* only: the log never holds a key.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

from miaudit._version import __version__
from miaudit.errors import InputError, require
from miaudit.monitor.detectors import DETECTORS
from miaudit.monitor.engine import Alert

SCHEMA = "miaudit.alerts/1"
ATLAS = "https://atlas.mitre.org/techniques/AML.T0024.000"
#: SARIF rule ids, one per detector.
RULES = {name: f"MIA2{number:02d}" for number, name in enumerate(DETECTORS, 1)}


def alerts_document(
    alerts: Sequence[Alert], summary: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "miaudit_version": __version__,
        **(summary or {}),
        "alerts": [a.to_dict() for a in alerts],
    }


def sarif(alerts: Sequence[Alert], log: str) -> str:
    """The alerts as SARIF 2.1.0: one rule per detector, one result per alert."""
    rules = list(RULES.items())
    document = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "miaudit-monitor",
                        "version": __version__,
                        "informationUri": ATLAS,
                        "rules": [
                            {
                                "id": rule,
                                "name": name,
                                "shortDescription": {"text": DETECTORS[name]},
                                "properties": {
                                    "tags": ["security", "privacy", "MITRE-ATLAS/AML.T0024.000"]
                                },
                            }
                            for name, rule in rules
                        ],
                    }
                },
                "results": [
                    _result(a, log, [n for n, _ in rules].index(a.detector)) for a in alerts
                ],
            }
        ],
    }
    return json.dumps(document, indent=2) + "\n"


def _result(alert: Alert, log: str, rule_index: int) -> dict[str, Any]:
    who = ", ".join(alert.keys)
    return {
        "ruleId": RULES[alert.detector],
        "ruleIndex": rule_index,
        "level": "error",
        "message": {
            "text": (
                f"API key(s) {who}: {DETECTORS[alert.detector]} (score {alert.score:.3g} > "
                f"{alert.threshold:.3g} after {alert.queries_before_alert} queries)"
            )
        },
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": log}}}],
        "partialFingerprints": {"miauditMonitor/v1": f"{alert.detector}:{who}"},
        "properties": {"evidence": alert.evidence, "first_time": alert.first_time},
    }


class Webhook:
    """POSTs each alert as JSON to ``url``; ``failures`` lists what could not be delivered."""

    def __init__(self, url: str, retries: int = 3, timeout: float = 5.0) -> None:
        self._httpx: Any = require("httpx", "http", "The monitor's webhook")
        if not url.startswith(("http://", "https://")):
            raise InputError(f"--webhook must be an http:// or https:// URL, got {url!r}")
        self.url, self.retries, self.timeout = url, retries, timeout
        self.failures: list[str] = []

    def send(self, alert: Alert) -> bool:
        body = {"schema": "miaudit.alert/1", "alert": alert.to_dict()}
        problem = ""
        for attempt in range(self.retries):
            try:
                reply = self._httpx.post(self.url, json=body, timeout=self.timeout)
                if reply.status_code < 300:
                    return True
                problem = f"HTTP {reply.status_code}"
            except self._httpx.HTTPError as exc:
                problem = type(exc).__name__
            time.sleep(0.2 * 2**attempt)
        self.failures.append(f"{alert.detector} for {', '.join(alert.keys)}: {problem}")
        return False
