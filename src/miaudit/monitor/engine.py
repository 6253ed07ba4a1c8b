"""The streaming monitor: every logged query updates its key's detectors, in one pass and
bounded memory; a detector's first crossing of its threshold is an :class:`Alert`.

Only answered queries (status 200) with a key feed the detectors; ``volume`` counts every
attempt, refused ones included. Numeric inputs are standardised with the baseline's feature
scales, or with scales estimated on the fly (Welford 1962) when there is no baseline.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from miaudit.errors import InputError
from miaudit.monitor.detectors import (
    DETECTORS,
    Detector,
    GroupDetector,
    Neighbour,
    Query,
    registered,
)
from miaudit.monitor.fingerprint import Fingerprinter
from miaudit.monitor.index import TrainingIndex, canonical
from miaudit.monitor.settings import Settings
from miaudit.monitor.state import KeyState
from miaudit.querylog import QueryRecord

#: Numeric inputs after which a log none of whose inputs fits the index is refused.
MISFIT_AFTER = 20


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
        return (x - self.mean) / self.divisor()

    def divisor(self) -> np.ndarray:
        """Each feature's scale (1 where it is constant); call after :meth:`update`."""
        assert self.m2 is not None
        if self.fixed:
            if self._divisor is None:
                self._divisor = np.where(self.m2 > 1e-12, self.m2, 1.0)
            return self._divisor
        spread = np.sqrt(self.m2 / max(self.count - 1, 1))
        return np.where(spread > 1e-12, spread, 1.0)

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


class Monitor:
    """Feed it records (:meth:`observe`), in log order; it returns the alerts they raise.
    ``thresholds`` maps detector names to scores that must be exceeded; a detector without one
    never alerts (its peaks still count, which is how calibration uses it). The detectors are
    the ones registered when the monitor is made (:mod:`miaudit.monitor.detectors`)."""

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
        self.alerted: set[tuple[str, str]] = set()
        #: The keys each named group (a client) had alerted for, by its name.
        self.group_keys: dict[str, set[str]] = {}
        self.processed = 0
        #: Numeric inputs seen, and those whose number of values is not the index's.
        self.numeric_inputs = 0
        self.misfits = 0
        #: Records that named their client (the log's optional ``client``), and whether the
        #: calibration's baseline had them (then a log without any is refused: :attr:`clientless`).
        self.with_client = 0
        self.expects_clients = False
        made = [cls(self.settings) for cls in registered()]
        self.detectors: list[Detector] = [d for d in made if isinstance(d, Detector)]
        self.group_detectors = [d for d in made if isinstance(d, GroupDetector)]
        #: Each group detector's monitor-wide state, by name.
        self.shared: dict[str, Any] = {d.name: d.new_state() for d in self.group_detectors}
        s = self.settings
        self._fingerprint = Fingerprinter(s.hash_step, s.hash_window, s.hash_top)
        #: Hidden centres the query being read found (:meth:`_search`), for its :class:`Query`.
        self._hidden = 0

    def run(self, records: Iterable[QueryRecord]) -> Iterator[Alert]:
        """The alerts of ``records``, in order (see :attr:`misfit` after the run)."""
        for record in records:
            yield from self.observe(record)

    @property
    def misfit(self) -> bool:
        """Whether every numeric input so far (``MISFIT_AFTER`` or more) had another number of
        values than the training index's records: an index of another model, which silently
        matches nothing (one attacker's odd inputs cannot make this true)."""
        return self.numeric_inputs >= MISFIT_AFTER and self.misfits == self.numeric_inputs

    @property
    def clientless(self) -> bool:
        """Whether the thresholds were calibrated on a baseline whose records named their
        client but none of this log's do (``MISFIT_AFTER`` keyed records or more): the
        ``client`` detector would silently see nothing."""
        return self.expects_clients and self.processed >= MISFIT_AFTER and not self.with_client

    def clientless_message(self) -> str:
        return (
            f"the calibration's baseline names each query's client (the keys of one client "
            f"pool their evidence: detector client, MIA208), but none of the {self.processed} "
            "keyed queries in this log does: export the log from a gateway that records it "
            "('miaudit log export'), or calibrate on a baseline without client fields"
        )

    def misfit_message(self) -> str:
        assert self.index is not None and self.index.proximity is not None
        return (
            f"the training index was built on records of {self.index.proximity.features} "
            f"values, but none of the {self.numeric_inputs} numeric inputs in the log has "
            "that many: build the index from this model's training records, the same columns "
            "in the same order as the model's inputs ('miaudit monitor index')"
        )

    def observe(self, record: QueryRecord) -> list[Alert]:
        """Update the detectors of ``record.key`` (and its group); the alerts raised."""
        if not record.key:
            return []
        self.processed += 1
        self.with_client += bool(record.client)
        state = self.keys.get(record.key)
        if state is None:
            state = self.keys[record.key] = KeyState()
        state.queries += 1
        state.last_time = max(state.last_time, record.time)
        query = self._query(record, state)
        for detector in self.detectors:
            score = state.scores.get(detector.name, 0.0)
            state.set(detector.name, detector.update(state.state(detector), query, score))
        alerts = [
            self._alert(record, state, detector.name)
            for detector in self.detectors
            if self._crossed(record.key, detector.name, state.scores[detector.name])
        ]
        if query.answered:
            for detector in self.group_detectors:
                alerts.extend(self._group(record, query, detector))
        return alerts

    def _query(self, record: QueryRecord, state: KeyState) -> Query:
        """What every detector reads of ``record``: the work they share, done once."""
        value = record.input
        answered = record.status == 200 and value is not None
        digest, hit, new, neighbour, canon, repeat = None, None, False, None, None, False
        x: np.ndarray | None = None  # a numeric input's values, converted once
        if answered:
            try:
                if isinstance(value, list):
                    x = np.asarray(value, dtype=np.float64)
                canon = canonical(value if x is None else x, self.settings.decimals)  # type: ignore[arg-type]
            except (InputError, TypeError, ValueError, OverflowError):  # not a record
                canon, x = None, None
        if canon is not None and isinstance(value, list) and self.index is not None:
            proximity = self.index.proximity
            if proximity is not None:
                self.numeric_inputs += 1
                self.misfits += len(value) != proximity.features
        if canon is not None:
            digest = int.from_bytes(hashlib.blake2b(canon, digest_size=8).digest(), "big")
            new = state.remember(digest, self.settings.seen)
            if new and self.index is not None:  # in the index's own rounding, not ours
                same = self.index.decimals == self.settings.decimals or isinstance(value, str)
                exact = self.index.contains_canonical(canon) if same else None
                if exact is None:
                    exact = self.index.contains_exact(value)
                regions = self.index.regions(x, digest) if x is not None else []  # near copies
                hit = exact or bool(regions)
                if regions:  # a what-if edit of a record the key hit already: not a new one
                    seen_before = not state.visit(regions, 16 * self.settings.seen)
                    repeat = seen_before and not exact  # an exact record is always itself
            if x is not None and new:  # a repeat of a recent record adds no copy
                neighbour = self._place(state, x, record)
        full = new and _full(record.output)
        hidden, self._hidden = self._hidden, 0
        return Query(
            record.key, record.time, answered, new, digest, hit, full, neighbour, repeat,
            record.client, hidden,
        )  # fmt: skip

    def _place(self, state: KeyState, x: np.ndarray, record: QueryRecord) -> Neighbour:
        """Put a new numeric record (finite: ``canonical`` checked) among the key's recent
        ones, standardised (or fingerprinted, for inputs of many values)."""
        self.scales.update(x)
        prints = None
        if self.settings.hashing(len(x)):  # one scale for all values, so a shift is a shift
            prints = self._fingerprint(self.scales.standardise(x, pooled=True))
        z = self.scales.standardise(x) if prints is None else x
        rounding = None  # search lines are looked for only where they can be looked up
        proximity = self.index.proximity if self.index is not None else None
        mean = self.scales.mean
        width = proximity.features if proximity is not None else -1
        if prints is None and mean is not None and len(mean) == len(x) == width:
            # half the last decimal the log may hold, in each feature's standard deviations,
            # over the features (Euclidean)
            unit = 0.5 * 10.0**-self.settings.decimals
            rounding = unit * math.sqrt(float(np.sum(self.scales.divisor() ** -2.0)))
        near = state.recent.add(z, _label(record.output), self.settings, prints, rounding)
        if near.partners is not None and rounding is not None:
            self._hidden = self._search(state, near, rounding)
        return near

    def _search(self, state: KeyState, near: Neighbour, rounding: float) -> int:
        """The query is on a line with two recent ones: look up the points around the line
        (:mod:`miaudit.monitor.lines`); the hidden training neighbourhoods new to the key."""
        assert self.index is not None and self.index.proximity is not None
        assert near.partners is not None and state.recent.ring is not None
        proximity = self.index.proximity
        a, b = (state.recent.ring[slot] for slot in near.partners)
        d = len(near.value)
        step = proximity.params.radius * math.sqrt(d)  # the index's radius, Euclidean
        reach = self.settings.search_reach * math.sqrt(d)
        probes = state.lines.add(near.value, a, b, rounding, step, reach)
        if not len(probes):
            return 0
        assert self.scales.mean is not None
        raw = self.scales.mean + probes * self.scales.divisor()
        finite = np.isfinite(raw).all(axis=1)
        found = 0
        for where, regions in zip(probes[finite], proximity.matched_many(raw[finite]), strict=True):
            if regions:  # centres closer than 3 look-up steps are one training neighbourhood
                found += state.lines.remember(regions, state.regions, where, 3 * step)
        return found

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
            _evidence(state, self.detectors),
        )

    def _group(self, record: QueryRecord, query: Query, detector: GroupDetector) -> list[Alert]:
        found = detector.update(self.shared[detector.name], query, self.keys)
        if found is None:
            return []
        members, score, *named = found  # (keys, score[, the group's name for its alerts])
        identity = named[0] if named else ",".join(members)
        threshold = self.thresholds.get(detector.name)
        if threshold is None or score <= threshold:
            return []
        if (identity, detector.name) not in self.alerted:
            members = detector.implicated(members, self.keys)
            if not members:  # no key carries the excess yet: wait
                return []
            self.alerted.add((identity, detector.name))
            if named:
                self.group_keys[identity] = set(members)
        elif named:
            # a key of a named group that the group's evidence implicates after its alert is
            # flagged too (once), so the gateway acts on it: a campaign's next key from the
            # same client gets no more answers
            known = self.group_keys.setdefault(identity, set())
            if query.key in known or not detector.implicated([query.key], self.keys):
                return []
            known.add(query.key)
            members = [query.key]
        else:
            return []
        states = [self.keys[k] for k in members if k in self.keys]
        evidence = {k: _evidence(s, self.detectors) for k, s in zip(members, states, strict=False)}
        extra = detector.group_evidence(self.shared[detector.name], query)
        return [
            Alert(
                record.key if record.key in members else members[0],
                members,
                detector.name,
                score,
                self.thresholds[detector.name],
                sum(s.queries for s in states),
                record.time,
                {**extra, **({"group": identity} if named else {}), "keys": evidence},
            )
        ]

    def peaks(self) -> dict[str, dict[str, float]]:
        """Each key's highest score per detector so far (a group detector's: its groups')."""
        found = {key: dict(state.peaks) for key, state in self.keys.items()}
        for detector in self.group_detectors:
            for key, score in detector.peaks(self.shared[detector.name]).items():
                mine = found.setdefault(key, {})
                mine[detector.name] = max(mine.get(detector.name, 0.0), score)
        return found

    # ------------------------------------------------------------------ the gateway's hooks
    def release(self, key: str) -> None:
        """Forget ``key`` after a reviewer lifted its alerts: it starts afresh, and may alert
        again."""
        self.keys.pop(key, None)
        self.alerted = {(k, d) for k, d in self.alerted if k != key}
        for members in self.group_keys.values():  # it may be named by its group again
            members.discard(key)

    def snapshot(self, keys: Iterable[str] | None = None) -> dict[str, tuple[float, dict]]:
        """``key: (time of its last query, its state as JSON-ready data)`` for ``keys`` (by
        default every key), for :meth:`restore`."""
        chosen = self.keys if keys is None else [k for k in keys if k in self.keys]
        return {key: (self.keys[key].last_time, self.keys[key].to_dict()) for key in chosen}

    def learned_scales(self) -> dict[str, Any] | None:
        """The feature scales learnt on the fly (``None``: none yet, or fixed ones from a
        baseline), worth saving for a restart."""
        return None if self.scales.fixed else self.scales.to_dict()

    def restore(
        self,
        states: Mapping[str, Mapping[str, Any]],
        alerted: Iterable[tuple[str, str]] = (),
        scales: Mapping[str, Any] | None = None,
        groups: Mapping[tuple[str, str], Iterable[str]] | None = None,
    ) -> dict[str, float]:
        """Take back saved key ``states`` (from :meth:`snapshot`), the ``(key, detector)``
        pairs that already alerted, scales learnt on the fly (resumed as fixed ones, unless the
        monitor has fixed ones already), and the named groups that alerted with the keys they
        named (``(group, detector): keys``, from the alerts' ``evidence["group"]``). A restored
        key whose peak exceeds a threshold does not alert again, nor does a restored group.
        Returns each restored key's time of its last query: replay the log after it."""
        self.alerted |= set(alerted)
        for (group, detector), members in (groups or {}).items():
            self.alerted.add((group, detector))
            self.group_keys.setdefault(group, set()).update(members)
        if scales and not self.scales.fixed:
            self.scales = Scales.of(dict(scales))
        for key, data in states.items():
            state = self.keys[key] = KeyState.from_dict(data)
            for detector, score in state.peaks.items():
                threshold = self.thresholds.get(detector)
                if threshold is not None and score > threshold:
                    self.alerted.add((key, detector))
        return {key: self.keys[key].last_time for key in states}


def _label(output: Any) -> int:
    """The predicted class index of a logged output (-1 when there is none)."""
    if isinstance(output, list) and output and all(isinstance(v, int | float) for v in output):
        if len(output) == 1:
            return -1
        if any(v != v for v in output):  # NaN: the first one (as numpy's argmax)
            return next(i for i, v in enumerate(output) if v != v)
        return max(range(len(output)), key=output.__getitem__)  # the first highest
    if isinstance(output, bool) or output is None:
        return -1
    if isinstance(output, int) and -(2**62) <= output < 2**62:  # a class id (a 64-bit one:
        return output  # hashed below, so it fits the ring's labels)
    return int.from_bytes(hashlib.blake2b(str(output).encode(), digest_size=4).digest(), "big")


def _full(output: Any) -> bool:
    """Whether an output reveals scores, not just a label: a probability list (even a
    ``top-k:1`` one shows the top score)."""
    return isinstance(output, list) and len(output) > 1


def _evidence(state: KeyState, detectors: Sequence[Detector]) -> dict[str, Any]:
    """What an alert on a key shows: its counts, each detector's evidence, every score."""
    found: dict[str, Any] = {"queries": state.queries, "distinct_records": state.distinct}
    for detector in detectors:
        found.update(detector.evidence(state.state(detector), state))
    found["scores"] = {k: round(v, 3) for k, v in state.scores.items() if math.isfinite(v)}
    return found
