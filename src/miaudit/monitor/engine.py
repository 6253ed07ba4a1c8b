"""The streaming monitor: every logged query updates its key's detectors, in one pass and
bounded memory; a detector's first crossing of its threshold is an :class:`Alert`.

Only answered queries (status 200) with a key feed the detectors; ``volume`` counts every
attempt, refused ones included. Numeric inputs are standardised with the baseline's feature
scales, or with scales estimated on the fly (Welford 1962) when there is no baseline.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from miaudit.errors import InputError
from miaudit.monitor.detectors import DETECTORS, KeyState, Settings
from miaudit.monitor.fingerprint import Fingerprinter
from miaudit.monitor.index import TrainingIndex, canonical
from miaudit.querylog import QueryRecord


@dataclass(frozen=True)
class Alert:
    """One detector's first crossing of its threshold for a key (or a group of keys)."""

    key: str
    keys: list[str]
    detector: str
    score: float
    threshold: float
    queries_before_alert: int
    first_time: float
    evidence: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "keys": self.keys,
            "detector": self.detector,
            "description": DETECTORS[self.detector],
            "score": round(self.score, 4),
            "threshold": round(self.threshold, 4),
            "queries_before_alert": self.queries_before_alert,
            "first_time": self.first_time,
            "evidence": self.evidence,
        }


@dataclass
class Scales:
    """Running mean and variance per feature (Welford), or fixed ones from a baseline."""

    count: int = 0
    mean: np.ndarray | None = None
    m2: np.ndarray | None = None
    fixed: bool = False
    _divisor: np.ndarray | None = None

    def update(self, x: np.ndarray) -> None:
        if self.fixed:
            return
        if self.mean is None or len(self.mean) != len(x):
            self.count, self.mean, self.m2 = 0, np.zeros(len(x)), np.zeros(len(x))
        assert self.m2 is not None
        self.count += 1
        delta = x - self.mean
        self.mean += delta / self.count
        self.m2 += delta * (x - self.mean)

    def standardise(self, x: np.ndarray, pooled: bool = False) -> np.ndarray:
        """``x`` in standard deviations of each feature; ``pooled``: of all features at once
        (the pixels of an image share one scale, so a shifted image stays the same values)."""
        if self.mean is None or len(self.mean) != len(x) or self.m2 is None:
            return x
        if pooled:
            spread = self.m2 if self.fixed else np.sqrt(self.m2 / max(self.count - 1, 1))
            scale = math.sqrt(float(np.mean(spread**2)))
            return (x - float(np.mean(self.mean))) / (scale if scale > 1e-12 else 1.0)
        if self.fixed:
            if self._divisor is None:
                self._divisor = np.where(self.m2 > 1e-12, self.m2, 1.0)
            return (x - self.mean) / self._divisor
        spread = np.sqrt(self.m2 / max(self.count - 1, 1))
        return (x - self.mean) / np.where(spread > 1e-12, spread, 1.0)

    def to_dict(self) -> dict[str, Any] | None:
        if self.mean is None or self.m2 is None:
            return None
        spread = self.m2 if self.fixed else np.sqrt(self.m2 / max(self.count - 1, 1))
        return {"mean": self.mean.tolist(), "scale": spread.tolist()}

    @classmethod
    def of(cls, data: dict[str, Any] | None) -> Scales:
        if not data:
            return cls()
        mean, scale = np.asarray(data["mean"], float), np.asarray(data["scale"], float)
        return cls(count=1, mean=mean, m2=scale, fixed=True)


@dataclass
class _Groups:
    """Keys linked by records they both queried (union-find; bounded memory of records)."""

    owner: dict[int, str] = field(default_factory=dict)  # record digest → first key
    links: dict[tuple[str, str], int] = field(default_factory=dict)
    parent: dict[str, str] = field(default_factory=dict)
    _members: dict[str, list[str]] = field(default_factory=dict)  # by root, until a union

    def root(self, key: str) -> str:
        while self.parent.get(key, key) != key:
            key = self.parent[key]
        return key

    def shared(
        self, key: str, digest: int, settings: Settings, distinct: Callable[[str], int]
    ) -> None:
        """``key`` queried the record ``digest``: link it with the key that queried it first
        once they share ``link_min`` records and ``link_share`` of the smaller one's."""
        first = self.owner.setdefault(digest, key)
        if len(self.owner) > settings.shared:
            del self.owner[next(iter(self.owner))]
        if first == key:
            return
        pair = (min(first, key), max(first, key))
        count = self.links[pair] = self.links.get(pair, 0) + 1
        smaller = min(distinct(first), distinct(key))
        if count >= settings.link_min and count >= settings.link_share * smaller:
            a, b = self.root(first), self.root(key)
            if a != b:
                self.parent.setdefault(a, a)
                self.parent.setdefault(b, b)
                self.parent[max(a, b)] = min(a, b)
                self._members.clear()

    def members(self, key: str) -> list[str]:
        """The keys linked with ``key`` (itself included), sorted."""
        top = self.root(key)
        if top not in self._members:
            self._members[top] = sorted(k for k in {*self.parent, key} if self.root(k) == top)
        return self._members[top]


class Monitor:
    """Feed it records (:meth:`observe`), in log order; it returns the alerts they raise.
    ``thresholds`` maps detector names to scores that must be exceeded; a detector without one
    never alerts (its peaks still count, which is how calibration uses it)."""

    def __init__(
        self,
        settings: Settings | None = None,
        thresholds: dict[str, float] | None = None,
        index: TrainingIndex | None = None,
        scales: Scales | None = None,
    ) -> None:
        self.settings = settings or Settings()
        self.thresholds = dict(thresholds or {})
        self.index = index
        self.scales = scales or Scales()
        self.keys: dict[str, KeyState] = {}
        self.groups = _Groups()
        self.group_peaks: dict[tuple[str, ...], float] = {}
        self.alerted: set[tuple[str, str]] = set()
        self.processed = 0
        s = self.settings
        self._fingerprint = Fingerprinter(s.hash_step, s.hash_window, s.hash_top)

    def run(self, records: Iterable[QueryRecord]) -> Iterator[Alert]:
        for record in records:
            yield from self.observe(record)

    def observe(self, record: QueryRecord) -> list[Alert]:
        """Update the detectors of ``record.key`` (and its group); the alerts raised."""
        if not record.key:
            return []
        self.processed += 1
        state = self.keys.get(record.key)
        if state is None:
            state = self.keys[record.key] = KeyState()
        state.queries += 1
        state.last_time = max(state.last_time, record.time)
        answered = record.status == 200 and record.input is not None
        new_full = answered and self._update(record, state)
        state.count(record.time, new_full, self.settings.period)
        alerts = [
            self._alert(record, state, name)
            for name in DETECTORS
            if name != "campaign" and self._crossed(record.key, name, state.scores[name])
        ]
        if answered:
            alerts.extend(self._group(record))
        return alerts

    def _update(self, record: QueryRecord, state: KeyState) -> bool:
        """The per-query detectors; True if the record is new to the key and answered in
        full (for ``harvesting``)."""
        value = record.input
        try:
            canon = canonical(value, self.settings.decimals)  # type: ignore[arg-type]
        except (InputError, TypeError, ValueError):  # not finite numbers or text: no record
            return False
        digest = int.from_bytes(hashlib.blake2b(canon, digest_size=8).digest(), "big")
        hit = None if self.index is None else self.index.contains_canonical(canon)
        new = state.first_query(digest, hit, self.settings)
        if new and not hit:  # training records (returning customers) are often shared
            self.groups.shared(record.key, digest, self.settings, self._distinct)
        if isinstance(value, list) and new:  # a repeat of a recent record adds no copy
            x = np.asarray(value, dtype=np.float64)  # finite: canonical() checked
            self.scales.update(x)
            prints = None
            if self.settings.hashing(len(x)):  # one scale for all values, so a shift is a shift
                prints = self._fingerprint(self.scales.standardise(x, pooled=True))
            z = self.scales.standardise(x) if prints is None else x
            state.place(z, _label(record.output), bool(hit), self.settings, prints)
        return new and _full(record.output)

    def _distinct(self, key: str) -> int:
        state = self.keys.get(key)
        return state.distinct if state is not None else 0

    def _crossed(self, key: str, detector: str, score: float) -> bool:
        threshold = self.thresholds.get(detector)
        if threshold is None or score <= threshold or (key, detector) in self.alerted:
            return False
        self.alerted.add((key, detector))
        return True

    def _alert(self, record: QueryRecord, state: KeyState, detector: str) -> Alert:
        return Alert(
            record.key,
            [record.key],
            detector,
            state.scores[detector],
            self.thresholds[detector],
            state.queries,
            record.time,
            _evidence(state),
        )

    def _group(self, record: QueryRecord) -> list[Alert]:
        members = self.groups.members(record.key) if record.key in self.groups.parent else []
        if len(members) < 2:
            return []
        states = [self.keys[k] for k in members if k in self.keys]
        score = sum(s.scores["training-overlap"] for s in states)
        group = tuple(members)
        self.group_peaks[group] = max(self.group_peaks.get(group, 0.0), score)
        if not self._crossed(",".join(group), "campaign", score):
            return []
        evidence = {k: _evidence(s) for k, s in zip(members, states, strict=False)}
        return [
            Alert(
                record.key,
                members,
                "campaign",
                score,
                self.thresholds["campaign"],
                sum(s.queries for s in states),
                record.time,
                {"keys": evidence},
            )
        ]

    def peaks(self) -> dict[str, dict[str, float]]:
        """Each key's highest score per detector so far (``campaign``: its group's)."""
        found = {key: dict(state.peaks) for key, state in self.keys.items()}
        for group, score in self.group_peaks.items():
            for key in group:
                found[key]["campaign"] = max(found[key]["campaign"], score)
        return found


def _label(output: Any) -> int:
    """The predicted class index of a logged output (-1 when there is none)."""
    if isinstance(output, list) and output and all(isinstance(v, int | float) for v in output):
        return int(np.argmax(output)) if len(output) > 1 else -1
    if isinstance(output, bool) or output is None:
        return -1
    if isinstance(output, int):
        return output
    return int.from_bytes(hashlib.blake2b(str(output).encode(), digest_size=4).digest(), "big")


def _full(output: Any) -> bool:
    """Whether an output reveals scores, not just a label: a probability list (even a
    ``top-k:1`` one shows the top score)."""
    return isinstance(output, list) and len(output) > 1


def _evidence(state: KeyState) -> dict[str, Any]:
    share = state.hits / state.distinct if state.distinct else 0.0
    return {
        "queries": state.queries,
        "distinct_records": state.distinct,
        "training_hits": state.hits,
        "training_share": round(share, 4),
        "switches": state.switches,
        "bursts": state.bursts,
        "training_bursts": state.training_bursts,
        "boundary_steps": int(state.scores["boundary-walk"]),
        "scores": {k: round(v, 3) for k, v in state.scores.items() if math.isfinite(v)},
    }
