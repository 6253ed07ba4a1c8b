"""Thresholds from known-benign traffic, so that at most ``false_alarm_rate`` of new benign keys
raise any alert.

Two passes over the baseline: the first measures the benign rate of training-record hits (the
null of the overlap detectors), of bursts around training records, and each feature's scale;
the second replays the baseline with no thresholds and keeps every key's highest score per
detector. The thresholds are then chosen by :func:`_joint` so that a conformal (Bonferroni)
bound on the false-alarm rate of new benign keys stays within the rate. No threshold is set
below a floor: ``log(1/rate)`` nats for the evidence (CUSUM) detectors, the level at which
Wald's bound alone keeps a benign key's false-alarm chance under the rate (Wald 1945); three
steps for ``boundary-walk``.

The calibration is a JSON file (``miaudit.monitorcalibration/1``) holding the settings, the
thresholds, the feature scales and what the baseline was, so the offline monitor and the
gateway use the same numbers.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from miaudit._io import atomic_write_text
from miaudit.errors import InputError
from miaudit.monitor.detectors import DETECTORS, RegistryView, by_priority, detector
from miaudit.monitor.engine import Monitor, Scales
from miaudit.monitor.index import TrainingIndex
from miaudit.monitor.settings import Settings
from miaudit.querylog import QueryRecord

SCHEMA = "miaudit.monitorcalibration/1"
#: Thresholds without a baseline, each detector's ``default_threshold`` (a live view of the
#: registry). The built-in ones are the median calibrated thresholds of ``bench/monitor.py``'s
#: simulated traffic (500 benign keys of four kinds, a 1% false-alarm rate: 11.6, 20.0, 4.6,
#: 3, 1985, 1987, 4.6), rounded up, with more room for near-duplicates, the counts and
#: campaigns — a start, not a substitute for calibrating on your own traffic (docs/monitor.md).
DEFAULT_THRESHOLDS: RegistryView = RegistryView(lambda cls: float(cls.default_threshold))


@dataclass(frozen=True)
class Calibration:
    """The thresholds, the settings they were found with, and where they came from."""

    settings: Settings
    thresholds: dict[str, float]
    scales: dict[str, Any] | None = None
    false_alarm_rate: float | None = None
    benign_keys: int = 0
    #: Summed over detectors, the baseline keys whose peak reaches that detector's threshold:
    #: the false-alarm rate on new benign keys is at most ``benign_at_threshold /
    #: (benign_keys + 1)``.
    benign_at_threshold: int = 0
    source: str = "defaults"
    #: The baseline's records named their client (``miaudit.querylog/1``'s optional field).
    clients: bool = False
    #: Registered detectors the file has no threshold for (it predates them): they never alert.
    uncalibrated: tuple[str, ...] = ()

    @property
    def note(self) -> str:
        if self.source == "defaults":
            return "documented default thresholds (no baseline): calibrate on benign traffic"
        rate, n = self.false_alarm_rate or 0.0, self.benign_keys
        text = (
            f"thresholds from {n} benign keys: false-alarm rate on new benign keys at most "
            f"{self.expected_false_alarms:.2%} (target {rate:.2%})"
        )
        if self.expected_false_alarms > rate:
            need = math.ceil(self.benign_at_threshold / rate)
            text += f"; the baseline is too small for the target: it needs {need} or more keys"
        if self.uncalibrated:
            text += (
                f"; no threshold for {', '.join(self.uncalibrated)} (the calibration predates "
                "them): they never alert until you calibrate again"
            )
        return text

    @property
    def expected_false_alarms(self) -> float:
        return self.benign_at_threshold / (self.benign_keys + 1) if self.benign_keys else 0.0

    def monitor(self, index: TrainingIndex | None = None) -> Monitor:
        made = Monitor(self.settings, self.thresholds, index, Scales.of(self.scales))
        made.expects_clients = self.clients
        return made

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "source": self.source,
            "false_alarm_rate": self.false_alarm_rate,
            "benign_keys": self.benign_keys,
            "benign_at_threshold": self.benign_at_threshold,
            "thresholds": self.thresholds,
            "settings": self.settings.to_dict(),
            "scales": self.scales,
            "clients": self.clients,
        }

    def save(self, path: str | Path) -> Path:
        return atomic_write_text(Path(path), json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> Calibration:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputError(f"cannot read the calibration {path}: {exc}") from None
        if not isinstance(data, dict) or data.get("schema") != SCHEMA:
            raise InputError(f"{path} is not a {SCHEMA} file (made by 'miaudit monitor calibrate')")
        try:
            settings = Settings(**data["settings"])
            thresholds = {str(k): float(v) for k, v in data["thresholds"].items()}
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"{path}: a broken calibration ({exc})") from None
        unknown = sorted(set(thresholds) - set(DETECTORS))
        if unknown:
            raise InputError(f"{path}: unknown detectors {unknown}; known: {list(DETECTORS)}")
        return cls(
            settings,
            thresholds,
            data.get("scales"),
            data.get("false_alarm_rate"),
            int(data.get("benign_keys", 0)),
            int(data.get("benign_at_threshold", 0)),
            str(data.get("source", "baseline")),
            bool(data.get("clients", False)),
            tuple(name for name in DETECTORS if name not in thresholds),
        )


def defaults(settings: Settings | None = None) -> Calibration:
    return Calibration(settings or Settings(), dict(DEFAULT_THRESHOLDS))


def floor(name: str, false_alarm_rate: float) -> float:
    """The lowest threshold the detector ``name`` may get (its ``floor``)."""
    return detector(name).floor(false_alarm_rate)


def calibrate(
    baseline: Callable[[], Iterable[QueryRecord]],
    index: TrainingIndex | None,
    false_alarm_rate: float = 0.01,
    settings: Settings | None = None,
) -> Calibration:
    """Thresholds from the benign log ``baseline`` (a callable, read twice)."""
    if not (isinstance(false_alarm_rate, float | int) and 0 < false_alarm_rate < 1):
        raise InputError(f"--false-alarm-rate must be in (0, 1), got {false_alarm_rate!r}")
    settings = settings or Settings()
    first = Monitor(settings, {}, index)
    for record in baseline():
        first.observe(record)
    if not first.keys:
        raise InputError("the baseline log has no answered queries with an API key")
    keys = len(first.keys)
    if (keys + 1) * false_alarm_rate < 1 - 1e-9:
        # the smallest bound a baseline of n keys can give is 1/(n+1) (its highest peak)
        need = math.ceil(1 / false_alarm_rate - 1 - 1e-9)
        raise InputError(
            f"the baseline has {keys} keys: a false-alarm rate of {false_alarm_rate:g} needs at "
            f"least {need} (a threshold at the highest of n benign peaks bounds the rate by "
            f"1/(n+1) only); give a baseline with more keys or a higher --false-alarm-rate "
            f"(at least {1 / (keys + 1):.3g} for this one)"
        )
    if first.misfit:
        raise InputError(f"the baseline: {first.misfit_message()}")
    estimated: dict[str, Any] = {}  # the null rates of the detectors' tests, on this baseline
    for found in first.detectors:
        if index is not None or not found.needs_index:
            estimated.update(found.baseline_settings(list(first.keys.values())))
    settings = replace(settings, **estimated)
    scales = first.scales.to_dict()
    second = Monitor(settings, {}, index, Scales.of(scales))
    for record in baseline():
        second.observe(record)
    peaks = second.peaks()
    thresholds, at_or_above = _joint(peaks, false_alarm_rate)
    return Calibration(
        settings, thresholds, scales, false_alarm_rate, len(peaks), at_or_above, "baseline",
        clients=first.with_client > 0,
    )  # fmt: skip


def priority() -> tuple[str, ...]:
    """The order in which detectors get the false-alarm budget (each one's ``priority``): the
    ones that catch campaigns first, the heavy-tailed counts (where a batch job looks like a
    harvest) last."""
    return tuple(cls.name for cls in by_priority())


def _joint(peaks: dict[str, dict[str, float]], rate: float) -> tuple[dict[str, float], int]:
    """Per-detector thresholds, and ``c``: the sum over detectors of the baseline keys whose
    peak reaches that detector's threshold.

    A threshold at the baseline's ``j``-th highest peak is exceeded by a new key exchangeable
    with the baseline's with probability at most ``j / (n + 1)`` (conformal prediction, Vovk
    et al. 2005); over all detectors, a new benign key raises an alert with probability at most
    ``c / (n + 1)`` (Bonferroni). Each threshold starts at its highest benign peak (or its
    floor) and they are lowered, detector by detector in :func:`priority` order, while
    ``c <= rate × (n + 1)``.
    """
    keys, order = list(peaks), priority()
    budget = math.floor(rate * (len(keys) + 1) + 1e-9)
    columns = {d: np.asarray([peaks[k].get(d, 0.0) for k in keys]) for d in order}
    levels = {d: np.unique(c[c >= floor(d, rate)])[::-1] for d, c in columns.items()}
    chosen = {d: 0 for d in order}  # position in levels[d]; past the end: the floor

    def threshold(d: str) -> float:
        found = levels[d]
        return float(found[chosen[d]]) if chosen[d] < len(found) else floor(d, rate)

    def cost() -> int:
        return sum(int((columns[d] >= threshold(d)).sum()) for d in order)

    moved = True
    while moved:
        moved = False
        for d in order:
            if chosen[d] >= len(levels[d]):
                continue
            chosen[d] += 1
            if cost() <= budget:
                moved = True
            else:
                chosen[d] -= 1
    thresholds = {d: threshold(d) for d in DETECTORS}
    return thresholds, cost()
