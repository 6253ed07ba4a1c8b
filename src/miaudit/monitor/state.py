"""One key's state: what the engine keeps for every detector (queries, the records the key
queried lately, its recent numeric queries, every detector's score and peak) and each
detector's own state. O(``window`` × features + ``seen``) memory.

Saved as JSON (``to_dict``) so a restarted gateway resumes exactly; states saved before version
2 (every detector's fields in one flat dictionary) load too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from miaudit.monitor.detectors.base import Detector, detector, names, registered
from miaudit.monitor.lines import Lines
from miaudit.monitor.recent import Recent

#: The version of :meth:`KeyState.to_dict`'s layout.
VERSION = 2


def _zeros() -> dict[str, float]:
    return dict.fromkeys(names(), 0.0)


@dataclass
class KeyState:
    """One API key's traffic so far, as the detectors see it."""

    queries: int = 0
    #: Distinct records the key queried (a record forgotten from ``seen`` counts again).
    distinct: int = 0
    last_time: float = 0.0
    scores: dict[str, float] = field(default_factory=_zeros)
    peaks: dict[str, float] = field(default_factory=_zeros)
    #: The last ``Settings.seen`` records' digests, least recently queried first.
    seen: dict[int, None] = field(default_factory=dict)
    recent: Recent = field(default_factory=Recent)
    #: The proximity buckets of the training neighbourhoods the key hit lately (bounded as
    #: ``seen``), least recently hit first.
    regions: dict[int, None] = field(default_factory=dict)
    #: The key's recent search lines and the hidden training neighbourhoods found around them.
    lines: Lines = field(default_factory=Lines)
    #: Each per-key detector's own state, by detector name (made on first use).
    states: dict[str, Any] = field(default_factory=dict)

    def state(self, detector_or_name: Detector | str) -> Any:
        """The state of a per-key detector (a fresh one on first use), by name or instance."""
        if isinstance(detector_or_name, str):
            name, cls = detector_or_name, None
        else:
            name, cls = detector_or_name.name, type(detector_or_name)
        found = self.states.get(name)
        if found is None:
            cls = cls or detector(name)
            assert issubclass(cls, Detector), f"{name} is not a per-key detector"
            found = self.states[name] = cls.new_state()
        return found

    def set(self, detector_name: str, value: float) -> None:
        """The detector's score is now ``value`` (its peak follows)."""
        self.scores[detector_name] = value
        if value > self.peaks.get(detector_name, 0.0):
            self.peaks[detector_name] = value

    def remember(self, digest: int, limit: int) -> bool:
        """The key queried the record ``digest``; True if it had not queried it lately (the
        last ``limit`` distinct records)."""
        if digest in self.seen:
            del self.seen[digest]  # refresh: most recently used last
            self.seen[digest] = None
            return False
        self.seen[digest] = None
        if len(self.seen) > limit:
            del self.seen[next(iter(self.seen))]
        self.distinct += 1
        return True

    def visit(self, regions: list[int], limit: int, shared: int = 3) -> bool:
        """The key hit the training neighbourhood of proximity buckets ``regions``; True if
        it had not hit it lately: fewer than ``shared`` of them among the last ``limit``
        buckets it hit (a what-if edit of a record shares most of the record's buckets; another
        training record close by, a few)."""
        again = sum(r in self.regions for r in regions) >= min(shared, len(regions))
        for r in regions:
            self.regions.pop(r, None)
            self.regions[r] = None
        while len(self.regions) > limit:
            del self.regions[next(iter(self.regions))]
        return not again

    @property
    def ring(self) -> Any:
        """The ring of recent numeric queries (``None`` before the first)."""
        return self.recent.ring

    def __getattr__(self, name: str) -> Any:
        """A detector's state field read as the key's (``state.hits``, ``state.bursts``), as
        before the detectors had states of their own."""
        states = self.__dict__.get("states")
        if not name.startswith("_") and states:
            for own in states.values():
                if hasattr(own, name):
                    return getattr(own, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    # ------------------------------------------------------------------ persistence
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready copy (arrays as base64)."""
        detectors = {
            name: detector(name).state_to_dict(own)  # type: ignore[union-attr]
            for name, own in self.states.items()
            if name in names()
        }
        return {
            "version": VERSION,
            "queries": self.queries,
            "distinct": self.distinct,
            "last_time": self.last_time,
            "scores": self.scores,
            "peaks": self.peaks,
            "seen": list(self.seen),
            "regions": list(self.regions),
            **self.recent.to_dict(),
            **({"lines": lines} if (lines := self.lines.to_dict()) else {}),
            "detectors": detectors,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> KeyState:
        """A state from :meth:`to_dict`, or from a flat one saved before version 2."""
        state = cls(
            queries=int(data.get("queries", 0)),
            distinct=int(data.get("distinct", 0)),
            last_time=float(data.get("last_time", 0.0)),
            seen=dict.fromkeys(int(v) for v in data.get("seen", [])),
            regions=dict.fromkeys(int(v) for v in data.get("regions", [])),
            recent=Recent.from_dict(data),
            lines=Lines.from_dict(data.get("lines")),
        )
        state.scores.update(data.get("scores", {}))
        state.peaks.update(data.get("peaks", {}))
        saved = data.get("detectors")
        for cls_ in registered():
            if not issubclass(cls_, Detector):
                continue
            own = data if saved is None else saved.get(cls_.name)
            if own is not None and saved is not None:  # the key's counts, for older states
                own = {"queries": state.queries, "distinct": state.distinct, **own}
            if own is not None:
                state.states[cls_.name] = cls_.state_from_dict(own)
        return state
