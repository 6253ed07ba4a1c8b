"""Alerts out: ``alerts.json`` (schema ``miaudit.alerts/1``), SARIF 2.1.0, JUnit XML (plug-ins of
:class:`miaudit.formats.Format` over an :class:`AlertReport`, in ``FORMATS``), and a webhook.

``alerts.json``::

    {"schema": "miaudit.alerts/1", "log": "...", "queries": 120000, "keys": 512,
     "calibration": {...}, "alerts": [{"key", "keys", "detector", "description", "score",
     "threshold", "queries_before_alert", "first_time", "evidence"}]}

The webhook (one JSON POST per alert, on its own sender thread) is ``monitor/webhook.py``;
``Webhook`` is importable from here too. Key *names* only: the log never holds a key.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from miaudit import junit
from miaudit import sarif as _sarif  # the name "sarif" is this module's function below
from miaudit._taxonomy import ATLAS_TAG, ATLAS_URL, OWASP_TAG
from miaudit._version import __version__
from miaudit.formats import Format, Formats
from miaudit.monitor.detectors import DETECTORS, RULE_IDS
from miaudit.monitor.engine import Alert
from miaudit.monitor.webhook import Webhook  # it lived here before monitor/webhook.py

SCHEMA = "miaudit.alerts/1"
#: The technique's page (kept under its earlier name; see ``miaudit._taxonomy``).
ATLAS = ATLAS_URL
#: SARIF rule id of each detector: fixed per detector (``monitor.detectors.RULE_IDS``).
RULES = RULE_IDS
#: GitHub's ``security-severity`` of every monitor rule: a campaign under way is serious.
SEVERITY = 7.5
_HELP = (
    "A key's traffic looks like a membership-inference campaign. Review the key's queries; "
    "revoke or limit the key if the traffic is not legitimate; 'miaudit monitor alerts --release "
    "KEY' lifts an online alert after review."
)


@dataclass(frozen=True)
class AlertReport:
    """What the monitor's formats render: the alerts of one run over ``log`` (a path or a
    URL without credentials) and the run's summary (queries, keys, calibration, …)."""

    alerts: Sequence[Alert]
    log: str
    summary: dict[str, Any] = field(default_factory=dict)


def alerts_document(
    alerts: Sequence[Alert], summary: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "miaudit_version": __version__,
        **(summary or {}),
        "alerts": [a.to_dict() for a in alerts],
    }


def _who(alert: Alert) -> str:
    return ", ".join(alert.keys)


def _message(alert: Alert) -> str:
    return (
        f"API key(s) {_who(alert)}: {DETECTORS[alert.detector]} (score {alert.score:.3g} > "
        f"{alert.threshold:.3g} after {alert.queries_before_alert} queries)"
    )


class AlertFormat(Format[AlertReport]):
    """A format of the monitor's alerts."""


class AlertsJson(AlertFormat):
    name: ClassVar[str] = "json"
    filename: ClassVar[str] = "alerts.json"

    def render(self, subject: AlertReport, /) -> str:
        return json.dumps(alerts_document(subject.alerts, subject.summary), indent=2) + "\n"


class AlertsSarif(AlertFormat):
    """One rule per detector (its id fixed per detector), one result per alert, located on the
    log (an absolute path or URL relative to the base ``LOG``)."""

    name: ClassVar[str] = "sarif"
    filename: ClassVar[str] = "alerts.sarif"

    def render(self, subject: AlertReport, /) -> str:
        rules = [
            _sarif.Rule(
                rule_id,
                name,
                DETECTORS[name],
                description=f"The {name} detector: {DETECTORS[name]}.",
                help=_HELP,
                level="error",
                severity=SEVERITY,
                tags=("security", "privacy", ATLAS_TAG, OWASP_TAG),
            )
            for name, rule_id in RULE_IDS.items()
        ]
        where, bases = _sarif.location(subject.log, "LOG")
        results = [
            _sarif.Result(
                RULE_IDS[a.detector],
                "error",
                _message(a),
                where,
                {"miauditMonitor/v1": f"{a.detector}:{_who(a)}"},
                {"evidence": a.evidence, "first_time": a.first_time},
            )
            for a in subject.alerts
        ]
        run = _sarif.Run(
            "miaudit-monitor",
            rules,
            results,
            version=__version__,
            information_uri=ATLAS_URL,
            base_uris=bases,
        )
        return _sarif.render(run)


class AlertsJunit(AlertFormat):
    """One test case per detector: failed when it raised alerts (one line per alert), passed
    when it raised none."""

    name: ClassVar[str] = "junit"
    filename: ClassVar[str] = "alerts.junit.xml"

    def render(self, subject: AlertReport, /) -> str:
        cases = []
        for name, rule_id in RULE_IDS.items():
            raised = [a for a in subject.alerts if a.detector == name]
            case_name = f"{rule_id} {name}"
            if raised:
                message = f"{len(raised)} alert(s): {DETECTORS[name]}"
                text = "\n".join(_message(a) for a in raised)
                failure = junit.Failure(message, "monitor alert", text)
                cases.append(junit.TestCase(case_name, "miaudit.monitor", failure=failure))
            else:
                cases.append(junit.TestCase(case_name, "miaudit.monitor", output="no alert"))
        properties = [("log", subject.log)] + [
            (k, str(v)) for k, v in subject.summary.items() if isinstance(v, (str, int, float))
        ]
        suite = junit.TestSuite("miaudit monitor", cases, properties=properties)
        return junit.render(suite)


#: The monitor's alert formats by name.
FORMATS: Formats[AlertReport] = Formats("alerts", (AlertsJson(), AlertsSarif(), AlertsJunit()))


def sarif(alerts: Sequence[Alert], log: str) -> str:
    """The alerts as SARIF 2.1.0: one rule per detector, one result per alert."""
    return FORMATS.lookup("sarif").render(AlertReport(alerts, log))


def render(report: AlertReport, fmt: str) -> str:
    """The alerts in one format (``json``, ``sarif``, ``junit`` or a registered one)."""
    return FORMATS.lookup(fmt).render(report)


__all__ = [
    "FORMATS",
    "SCHEMA",
    "AlertFormat",
    "AlertReport",
    "Webhook",
    "alerts_document",
    "render",
    "sarif",
]
