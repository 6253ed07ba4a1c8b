"""Catch membership-inference campaigns in the query log (``miaudit monitor``): a keyed-hash
index of the training records, streaming per-key detectors, thresholds calibrated on benign
traffic, alerts as JSON, SARIF or a webhook, and a traffic simulator to test them on."""

from miaudit.monitor.calibrate import Calibration, calibrate, defaults
from miaudit.monitor.detectors import DETECTORS, RULE_IDS, Detector, GroupDetector, register
from miaudit.monitor.engine import Alert, Monitor, Scales
from miaudit.monitor.index import FORMAT, TrainingIndex, canonical, load_secret
from miaudit.monitor.overlap import KeyOverlap, overlap_by_key
from miaudit.monitor.settings import Settings
from miaudit.monitor.state import KeyState

__all__ = [
    "DETECTORS",
    "FORMAT",
    "RULE_IDS",
    "Alert",
    "Calibration",
    "Detector",
    "GroupDetector",
    "KeyOverlap",
    "KeyState",
    "Monitor",
    "Scales",
    "Settings",
    "TrainingIndex",
    "calibrate",
    "canonical",
    "defaults",
    "load_secret",
    "overlap_by_key",
    "register",
]
