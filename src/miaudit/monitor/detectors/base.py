"""What a detector is, and the registry of them.

A detector turns the queries of one API key (or of a group of keys) into one number that grows
with the evidence of one trace a membership-inference campaign leaves; the engine
(:mod:`miaudit.monitor.engine`) raises an alert the first time that number exceeds the
detector's threshold, and :mod:`miaudit.monitor.calibrate` sets the thresholds on benign
traffic. A detector is one unit: its name, its fixed SARIF rule id, its description, its
default threshold, the floor and the priority calibration gives it, its per-key state, how one
query updates it, and how that state is saved (so a restarted gateway resumes exactly).

The engine does the work every detector shares, once per query, and hands it over as a
:class:`Query`: the record's digest, whether the key queries it for the first time lately,
whether it is a training record (with a training index), whether the answer revealed scores,
and, for numeric inputs, its :class:`Neighbour` among the key's recent queries.

Add a detector by subclassing :class:`Detector` (per key) or :class:`GroupDetector` (across
keys) and decorating it with :func:`register`; the engine, the calibration, the alerts, the
SARIF rules and the command line pick it up from the registry.
"""

from __future__ import annotations

import base64
import math
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, fields, is_dataclass
from typing import Any, ClassVar, Protocol, TypeVar

import numpy as np

from miaudit.errors import InputError
from miaudit.monitor.settings import Settings


class KeyView(Protocol):
    """What a detector may read of a key beyond its own state (a :class:`KeyState`)."""

    queries: int
    distinct: int
    scores: dict[str, float]

    def state(self, detector: str) -> Any: ...


@dataclass(frozen=True)
class Neighbour:
    """A numeric query's place among the key's recent ones (the last ``window`` new records).

    ``value`` is the query as a ring row: standardised features, or for high-dimensional
    inputs its quantised-window fingerprint padded to ``hash_top`` (then ``prints`` holds the
    fingerprint itself)."""

    #: The ring slot the query now fills, and whether an older query was evicted from it.
    slot: int
    evicted: bool
    #: The slot of the nearest earlier query (``-1``: none), whether it is a near copy
    #: (``near_radius``, or ``hash_match`` shared hashes) and very close (``flip_radius``).
    nearest: int
    near: bool
    close: bool
    #: The query's predicted label and the nearest query's (``-1``: none, e.g. scores only).
    label: int
    nearest_label: int
    value: np.ndarray
    prints: np.ndarray | None
    #: The ring was (re)made for this query: per-slot arrays of the detectors start afresh.
    reset: bool
    #: The ring's length (``Settings.window``).
    window: int
    #: The slots of two earlier queries on one straight line with this one (a search line:
    #: :mod:`miaudit.monitor.lines`), or ``None``.
    partners: tuple[int, int] | None = None


@dataclass(frozen=True)
class Query:
    """One logged query, as every detector sees it."""

    key: str
    time: float
    #: Answered (status 200) with an input.
    answered: bool
    #: The input is a record (finite numbers or text) the key had not queried lately.
    new: bool
    #: The record's 64-bit digest (``None``: not a record).
    digest: int | None
    #: The record is in the training index (``None``: no index, or not a new record).
    hit: bool | None
    #: The answer revealed scores, not just a label.
    full: bool
    #: For a new numeric record: its nearest recent query.
    neighbour: Neighbour | None
    #: A hit in a training neighbourhood the key hit before (a near copy of a training
    #: record it already queried: a customer's what-if edits of their own record): not a new
    #: training record.
    repeat: bool = False
    #: Who sent it (the log's optional ``client``: an address), where the log says.
    client: str | None = None
    #: Training neighbourhoods the key never sent a query into that this query's search lines
    #: pass (:mod:`miaudit.monitor.lines`): hidden centres of a search, new to the key.
    hidden: int = 0


class _Declared(ABC):
    """What every detector declares as class attributes."""

    #: The name used in thresholds, alerts and the command line.
    name: ClassVar[str]
    #: The SARIF rule id, fixed for good (``MIA2xx``): never derived from an order.
    rule_id: ClassVar[str]
    #: One line: the trace the detector sees.
    description: ClassVar[str]
    #: The threshold used without a calibration (``miaudit.monitor.calibrate.defaults``).
    default_threshold: ClassVar[float]
    #: Calibration hands the false-alarm budget to detectors in increasing priority.
    priority: ClassVar[int]
    #: The score is nats of evidence (a CUSUM of a log-likelihood ratio): its floor is
    #: ``log(1/rate)``, Wald's bound (1945); otherwise the floor is ``minimum``.
    cusum: ClassVar[bool] = False
    minimum: ClassVar[float] = 1.0
    #: It tells training records apart, so it needs the training index.
    needs_index: ClassVar[bool] = False

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @classmethod
    def floor(cls, false_alarm_rate: float) -> float:
        """The lowest threshold calibration may give the detector."""
        return math.log(1 / false_alarm_rate) if cls.cusum else cls.minimum


class Detector(_Declared):
    """A detector of one key's traffic. ``State`` is a dataclass holding its per-key state
    (JSON-ready fields, or override :meth:`state_to_dict` / :meth:`state_from_dict`)."""

    State: ClassVar[type]

    @classmethod
    def new_state(cls) -> Any:
        return cls.State()

    @abstractmethod
    def update(self, state: Any, query: Query, score: float) -> float:
        """Take ``query`` into the key's ``state``; the key's new score (``score``: the last)."""

    def evidence(self, state: Any, key: KeyView) -> dict[str, Any]:
        """Numbers an alert on the key shows as evidence (merged in registry order)."""
        return {}

    def baseline_settings(self, keys: Sequence[KeyView]) -> dict[str, Any]:
        """Settings estimated on benign traffic (the null of the detector's test), from the
        keys of a first pass over the baseline."""
        return {}

    @classmethod
    def state_to_dict(cls, state: Any) -> dict[str, Any]:
        """A JSON-ready copy of the state, so a restarted gateway resumes exactly."""
        return asdict(state)

    @classmethod
    def state_from_dict(cls, data: Mapping[str, Any]) -> Any:
        """The state back from :meth:`state_to_dict` (extra fields are ignored: a state saved
        before version 2 holds every detector's fields in one dictionary)."""
        return cls.State(**{f.name: data[f.name] for f in fields(cls.State) if f.name in data})


class GroupDetector(_Declared):
    """A detector of groups of keys. Its state is one for the whole monitor; it is updated
    after the per-key detectors, and scores the group of keys the query's key belongs to."""

    @abstractmethod
    def new_state(self) -> Any:
        """The monitor-wide state."""

    @abstractmethod
    def update(
        self, state: Any, query: Query, keys: Mapping[str, KeyView]
    ) -> tuple[Collection[str], float] | tuple[Collection[str], float, str] | None:
        """Take an answered ``query`` into ``state``; the keys of its group (two or more; the
        engine sorts them when it alerts) and the group's score, or ``None`` when the key is
        in no group. A third item names the group: it alerts once under that name (without
        one, once per set of keys)."""

    @abstractmethod
    def peaks(self, state: Any) -> dict[str, float]:
        """Each key's highest group score so far."""

    def group_evidence(self, state: Any, query: Query) -> dict[str, Any]:
        """What an alert on the group of ``query``'s key shows beside its keys' evidence."""
        return {}

    def implicated(self, members: Collection[str], keys: Mapping[str, KeyView]) -> list[str]:
        """The keys of a group that crossed its threshold that its alert names (and a gateway
        acts on): by default all of them."""
        return sorted(members)


AnyDetector = type[Detector] | type[GroupDetector]
_REGISTRY: dict[str, AnyDetector] = {}
_RULE_ID = re.compile(r"[A-Z]{2,}[0-9]{3}")
D = TypeVar("D", bound=AnyDetector)


def register(cls: D) -> D:
    """Add a detector class to the registry (a class decorator, or a plain call); detectors
    run, alert and list in the order they were registered."""
    name = getattr(cls, "name", None)
    if not (isinstance(cls, type) and issubclass(cls, Detector | GroupDetector)):
        raise InputError(f"{cls!r} is not a Detector or GroupDetector subclass")
    if not isinstance(name, str) or not name or name in _REGISTRY:
        taken = "already registered" if name in _REGISTRY else "missing"
        raise InputError(f"a detector's name {name!r} is {taken}: give it a new name")
    rule = getattr(cls, "rule_id", None)
    if not isinstance(rule, str) or not _RULE_ID.fullmatch(rule):
        raise InputError(f"detector {name}: rule_id must look like 'MIA208', got {rule!r}")
    owner = next((other.name for other in _REGISTRY.values() if other.rule_id == rule), None)
    if owner is not None:
        raise InputError(f"detector {name}: rule id {rule} is already {owner}'s")
    for attribute in ("description", "default_threshold", "priority"):
        if not hasattr(cls, attribute):
            raise InputError(f"detector {name} must declare {attribute}")
    if issubclass(cls, Detector) and not is_dataclass(getattr(cls, "State", None)):
        raise InputError(f"detector {name} must declare State, a dataclass of its key state")
    _REGISTRY[name] = cls
    return cls


def unregister(name: str) -> None:
    """Remove a detector (tests that register throwaway ones)."""
    if _REGISTRY.pop(name, None) is None:
        raise InputError(f"no detector {name!r} is registered; known: {list(_REGISTRY)}")


def registered() -> list[AnyDetector]:
    """The detector classes, in registration order."""
    return list(_REGISTRY.values())


def names() -> list[str]:
    """The registered detectors' names, in registration order."""
    return list(_REGISTRY)


def detector(name: str) -> AnyDetector:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise InputError(f"unknown detector {name!r}; known: {list(_REGISTRY)}") from None


def by_priority() -> list[AnyDetector]:
    """The detectors in the order calibration hands them the false-alarm budget."""
    order = list(_REGISTRY)
    return sorted(_REGISTRY.values(), key=lambda cls: (cls.priority, order.index(cls.name)))


class RegistryView(Mapping[str, Any]):
    """A live, read-only ``name → attribute`` view of the registry (``DETECTORS``,
    ``RULE_IDS``): a detector registered later shows up in it."""

    def __init__(self, value: Callable[[AnyDetector], Any]) -> None:
        self._value = value

    def __getitem__(self, name: str) -> Any:
        return self._value(_REGISTRY[name])

    def __iter__(self) -> Iterator[str]:
        return iter(list(_REGISTRY))

    def __len__(self) -> int:
        return len(_REGISTRY)

    def __repr__(self) -> str:
        return repr(dict(self))


def encode_array(array: np.ndarray) -> list[Any]:
    """``[dtype, shape, base64 bytes]``: an array in a JSON state."""
    raw = base64.b64encode(np.ascontiguousarray(array).tobytes()).decode()
    return [str(array.dtype), list(array.shape), raw]


def decode_array(value: Sequence[Any]) -> np.ndarray:
    """The array :func:`encode_array` wrote (a writable copy)."""
    dtype, shape, raw = value
    return np.frombuffer(base64.b64decode(raw), dtype=dtype).reshape(shape).copy()
