"""A traffic simulator for the monitor: benign clients and membership-inference campaigns
driven by miaudit's own attacks, logged as ``miaudit.querylog/1`` records (used by the tests and
``bench/monitor.py``).

The world is a tabular classifier (``make_classification``, a random forest that memorises its
training set) with a training index. Benign clients:

- ``ordinary``: fresh records, one at a time, a few seconds to a minute apart; a record is a
  training record with probability ``train_share`` (a returning customer);
- ``repeat``: a book of customers, re-queried in random order;
- ``batch``: a scoring job sending hundreds of fresh records in a few requests;
- ``explainer``: LIME-style explanations — a non-training record, then hundreds of Gaussian
  perturbations of it at 0.3-1 standard deviations (the known false-positive class);
- ``whatif``: a customer querying their own record (a training record, four times in five),
  then what-if edits of it: one or two fields at a time set to several values (0.25-2
  standard deviations away), and the record again — straight lines through a training record.

Campaigns, each on candidates of which half are training records:

- ``threshold``: candidates alternated with known non-members, full outputs, to set a loss
  threshold (Yeom et al. 2018);
- ``lira`` / ``rmia``: score harvesting for the offline attacks: every candidate (RMIA: then
  population records too);
- ``label-noise`` / ``label-boundary``: :class:`~miaudit.attacks.label_only.LabelNoiseAttack` and
  :class:`~miaudit.attacks.label_only.LabelBoundaryAttack` run against a label-only key, as
  miaudit sends them (every candidate, then the probes) or, ``...-per-record``, one candidate at
  a time with its probes;
- ``multi-key``: the ``threshold`` campaign split over four keys that share their known
  non-members.

Adaptive campaigns (``ADAPTIVE``), played by an attacker who has read the monitor (issue 24):

- ``perturbed``: the ``lira`` harvest, each candidate nudged by 1e-3 standard deviations;
- ``perturbed-tiny``: each value nudged by ±3e-5, below the exact index's rounding;
- ``diluted``: each candidate followed by 4 fresh records (a 10% training share);
- ``search``: 1,200 candidates of which 10% are training records;
- ``lira-perturbed``: four copies of each candidate at 0.02 standard deviations (LiRA's
  augmentations), full outputs;
- ``split-20`` / ``split-50``: the harvest split over 20 keys × 10 / 50 keys × 4 candidates,
  no record shared between keys, all sent from one address (the log's ``client``);
- ``split-20-spread`` / ``split-50-spread``: the same from as many unrelated addresses as keys
  (a botnet, or a proxy the gateway does not trust);
- ``boundary-adaptive``: a label-only boundary search along random directions that never sends
  the candidate and stops bisecting 0.19 standard deviations from it (outside the monitor's
  0.1 radii).

:func:`simulate` answers locally and returns the log; the same clients run against a real
gateway through :class:`~miaudit.targets.http.HttpTarget` (``run_campaign``).
"""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from miaudit.data import RecordSet
from miaudit.errors import InputError
from miaudit.monitor.index import TrainingIndex
from miaudit.querylog import QueryRecord
from miaudit.targets.interface import ClassifierTarget, Exposure

BENIGN = ("ordinary", "repeat", "batch", "explainer", "whatif")
CAMPAIGNS = (
    "threshold",
    "lira",
    "rmia",
    "label-noise",
    "label-noise-per-record",
    "label-boundary",
    "label-boundary-per-record",
    "multi-key",
)
#: Campaigns by an attacker who knows the monitor (see the module's text).
ADAPTIVE = (
    "perturbed",
    "perturbed-tiny",
    "diluted",
    "search",
    "lira-perturbed",
    "split-20",
    "split-50",
    "split-20-spread",
    "split-50-spread",
    "boundary-adaptive",
)
#: Keys per campaign (one unless named here).
CAMPAIGN_KEYS = {"multi-key": 4, "split-20": 20, "split-50": 50, "split-20-spread": 20,
                 "split-50-spread": 50}  # fmt: skip
#: The candidates a campaign draws and their training share (100 and a half unless named).
CAMPAIGN_SIZE = {"search": (1200, 0.1), "split-20": (200, 0.5), "split-50": (200, 0.5),
                 "split-20-spread": (200, 0.5), "split-50-spread": (200, 0.5)}  # fmt: skip
#: Campaigns whose keys each send from an address of their own (the others: one address).
SPREAD = ("split-20-spread", "split-50-spread")
#: The share of benign keys that share an address with other keys (an office's NAT: 2-8
#: keys), the rest each from an address of its own.
OFFICE_SHARE = 0.2
#: A benign mix: the share of keys of each kind.
BENIGN_MIX = {"ordinary": 0.45, "repeat": 0.15, "batch": 0.15, "explainer": 0.15, "whatif": 0.1}
SECRET = b"miaudit-simulator-secret-not-for-production"
#: When the simulated day starts (2026-11-30 00:00 UTC), so logs are reproducible.
START = 1_795_996_800.0


@dataclass
class World:
    """The model under watch, its training records, fresh records, and its training index."""

    model: Any
    members: np.ndarray
    member_labels: np.ndarray
    population: np.ndarray
    population_labels: np.ndarray
    index: TrainingIndex
    classes: list[int]
    #: Fresh records are dealt from a shuffled deck, so two clients rarely send the same one.
    _deck: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    _dealt: int = 0

    def fresh(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` population records no client has sent yet (reshuffled when all have been)."""
        taken = []
        while n > 0:
            if self._dealt >= len(self._deck):
                self._deck, self._dealt = rng.permutation(len(self.population)), 0
            part = self._deck[self._dealt : self._dealt + n]
            self._dealt += len(part)
            taken.append(part)
            n -= len(part)
        return self.population[np.concatenate(taken)] if taken else self.population[:0]

    def answer(self, rows: np.ndarray, label_only: bool) -> list[Any]:
        probabilities = self.model.predict_proba(rows)
        if label_only:
            return [int(c) for c in np.argmax(probabilities, axis=1)]
        return np.round(probabilities, 6).tolist()


def world(seed: int = 0, members: int = 2000, features: int = 10, population: int = 100) -> World:
    """A random forest trained on ``members`` records (it memorises them) and
    ``population × members`` fresh records from the same distribution."""
    from sklearn.datasets import make_classification
    from sklearn.ensemble import RandomForestClassifier

    x, y = make_classification(
        n_samples=(population + 1) * members,
        n_features=features,
        n_informative=max(2, features // 2),
        flip_y=0.1,
        random_state=seed,
    )
    x = np.round(x, 4)
    model = RandomForestClassifier(n_estimators=30, random_state=seed, n_jobs=1)
    model.fit(x[:members], y[:members])
    index = TrainingIndex.build(x[:members].tolist(), SECRET, decimals=4)
    return World(model, x[:members], y[:members], x[members:], y[members:], index, [0, 1])


# ---------------------------------------------------------------- the local service and clock
@dataclass
class Service:
    """Answers queries like the gateway would and logs them with simulated times."""

    world: World
    records: list[QueryRecord] = field(default_factory=list)
    #: Stop (:class:`CampaignDone`) once this many queries are logged.
    limit: int | None = None
    #: Each key's address (the log's ``client``; a key not here logs none).
    client_of: dict[str, str] = field(default_factory=dict)
    #: Draws the addresses (apart from the traffic's generator, so adding them changed no
    #: simulated query).
    addresses: np.random.Generator = field(default_factory=lambda: np.random.default_rng(0))

    def send(self, key: str, rows: np.ndarray, times: np.ndarray, label_only: bool) -> list[Any]:
        if self.limit is not None and len(self.records) >= self.limit:
            raise CampaignDone
        answers = self.world.answer(rows, label_only)
        policy = "label-only" if label_only else "full"
        request, client = uuid.uuid4().hex, self.client_of.get(key)
        self.records.extend(
            QueryRecord(float(t), key, request, "model", row, answer, policy, 200, client)
            for t, row, answer in zip(times, rows.tolist(), answers, strict=True)
        )
        return answers


class KeyTarget(ClassifierTarget):
    """A key's view of the :class:`Service`, as a miaudit target, so miaudit's attacks can run
    against it; every instance advances the key's clock by ``gap`` seconds."""

    kind = "simulated-key"

    def __init__(
        self, service: Service, key: str, start: float, gap: float, label_only: bool
    ) -> None:
        self.service, self.key, self.clock, self.gap = service, key, start, gap
        self.label_only = label_only
        self._classes = np.asarray(service.world.classes)
        self._exposes = Exposure.LABEL if label_only else Exposure.PROBABILITIES

    def _predict(self, features: Any) -> np.ndarray:
        rows = np.asarray(features, dtype=np.float64)
        times = self.clock + self.gap * np.arange(1, len(rows) + 1)
        self.clock = float(times[-1]) if len(rows) else self.clock
        return np.asarray(self.service.send(self.key, rows, times, self.label_only))


# ---------------------------------------------------------------- benign clients
def benign_rows(kind: str, world: World, rng: np.random.Generator, train_share: float) -> Any:
    """The inputs one benign client of ``kind`` sends, and the gap between them (seconds)."""
    if kind == "ordinary":
        n = int(np.clip(rng.lognormal(np.log(80), 0.8), 10, 1000))
        return _fresh(world, rng, n, train_share), rng.uniform(5, 60, n)
    if kind == "repeat":
        book = _fresh(world, rng, int(rng.integers(20, 100)), train_share)
        n = int(rng.integers(50, 600))
        return book[rng.integers(0, len(book), n)], rng.uniform(2, 60, n)
    if kind == "batch":
        n = int(rng.integers(100, 2000))
        return _fresh(world, rng, n, train_share), np.full(n, 0.002)
    if kind == "explainer":
        scale = world.population.std(axis=0)
        rows = []
        for _ in range(int(rng.integers(1, 6))):
            centre = world.fresh(rng, 1)[0]
            spread = rng.uniform(0.3, 1.0) * scale
            samples = int(rng.integers(100, 500))
            rows += [centre[None], centre + rng.normal(size=(samples, len(centre))) * spread]
        data = np.round(np.concatenate(rows), 4)
        return data, np.full(len(data), 0.005)
    if kind == "whatif":
        data = _what_if(world, rng)
        return data, rng.uniform(3, 30, len(data))
    raise InputError(f"unknown benign client {kind!r}; choose from {list(BENIGN)}")


def _what_if(world: World, rng: np.random.Generator) -> np.ndarray:
    """A customer's own records (1-3; training records four times in five) and what-if edits
    of each: a field (sometimes two) set to 2-4 other values, 0.25-2 standard deviations away."""
    scale = world.population.std(axis=0)
    rows: list[np.ndarray] = []
    for _ in range(int(rng.integers(1, 4))):
        own = (
            world.members[rng.integers(len(world.members))]
            if rng.random() < 0.8
            else world.fresh(rng, 1)[0]
        )
        rows.append(own)
        for _ in range(int(rng.integers(2, 6))):
            fields = rng.choice(len(own), 2 if rng.random() < 0.3 else 1, replace=False)
            steps = rng.choice([-2, -1, -0.5, -0.25, 0.25, 0.5, 1, 2], rng.integers(2, 5),
                               replace=False)  # fmt: skip
            for step in steps:
                edit = own.copy()
                edit[fields] += step * scale[fields]
                rows.append(edit)
        rows.append(own)
    return np.round(np.asarray(rows), 4)


def _fresh(world: World, rng: np.random.Generator, n: int, train_share: float) -> np.ndarray:
    training = rng.random(n) < train_share
    rows = world.fresh(rng, n)
    rows[training] = world.members[rng.integers(0, len(world.members), int(training.sum()))]
    return rows


# ---------------------------------------------------------------- campaigns
def candidates(
    world: World, rng: np.random.Generator, n: int, share: float = 0.5
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` candidate records, ``share`` of them training records, shuffled; and their
    labels."""
    half = round(n * share)
    m = rng.choice(len(world.members), half, replace=False)
    p = rng.choice(len(world.population), n - half, replace=False)
    rows = np.concatenate([world.members[m], world.population[p]])
    labels = np.concatenate([world.member_labels[m], world.population_labels[p]])
    order = rng.permutation(n)
    return rows[order], labels[order]


class CampaignDone(Exception):
    """A simulated campaign reached its query budget."""


def run_campaign(
    kind: str,
    targets: list[ClassifierTarget],
    world: World,
    rng: np.random.Generator,
    size: int = 100,
) -> None:
    """Run the campaign ``kind`` through ``targets`` (one per key: four for ``multi-key``, else
    one; label-only for the label attacks)."""
    size, share = CAMPAIGN_SIZE.get(kind, (size, 0.5))
    rows, labels = candidates(world, rng, size, share)
    known = world.population[rng.choice(len(world.population), size, replace=False)]
    base = kind.removesuffix("-per-record")
    seed = int(rng.integers(2**31))
    if kind in ADAPTIVE:
        _adaptive(kind, targets, world, rng, rows)
    elif base == "threshold":
        _ask(targets[0], np.stack([rows, known], axis=1).reshape(-1, rows.shape[1]))
    elif base == "lira":
        _ask(targets[0], rows)
    elif base == "rmia":
        _ask(targets[0], np.concatenate([rows, known]))
    elif base in ("label-noise", "label-boundary"):
        _label_only(base, targets[0], rows, labels, seed, per_record=kind != base)
    elif base == "multi-key":
        anchors = known[:10]
        for number, target in enumerate(targets):
            tile = rows[number :: len(targets)]
            shared = anchors[np.arange(len(tile)) % len(anchors)]
            _ask(target, np.stack([tile, shared], axis=1).reshape(-1, rows.shape[1]))
    else:
        raise InputError(f"unknown campaign {kind!r}; choose from {list(CAMPAIGNS)}")


def _label_only(
    kind: str, target: ClassifierTarget, rows: np.ndarray, labels: np.ndarray, seed: int,
    per_record: bool,
) -> None:  # fmt: skip
    """miaudit's label-only attack on the candidates: as the audit sends it (every candidate,
    then the probes) or one candidate at a time, with the same settings."""
    from miaudit.attacks.label_only import STRENGTH, LabelBoundaryAttack, robustness
    from miaudit.attacks.perturb import FeatureSpace
    from miaudit.targets.interface import label_indices

    if not per_record:
        records = RecordSet.from_arrays(rows, labels, name="candidates")
        attack = LabelBoundaryAttack() if kind == "label-boundary" else _noise()
        attack.probe(target, [records], None, seed)
        return
    space = FeatureSpace.of([rows], None)
    y = label_indices(labels, target.classes)
    boundary = LabelBoundaryAttack()
    radius = 2.0 * space.typical_distance(rows, seed)
    for i in range(len(rows)):
        one = slice(i, i + 1)
        if kind == "label-noise":
            robustness(target, space, rows[one], labels[one], y[one], STRENGTH, 32, seed + i)
        else:
            boundary.search(target, space, rows[one], labels[one], y[one], radius, seed + i)


def _adaptive(
    kind: str,
    targets: list[ClassifierTarget],
    world: World,
    rng: np.random.Generator,
    rows: np.ndarray,
) -> None:
    """The campaigns of an attacker who has read the monitor (:data:`ADAPTIVE`)."""
    scale = world.population.std(axis=0)
    if kind == "perturbed":
        _ask(targets[0], rows + rng.normal(size=rows.shape) * 1e-3 * scale)
    elif kind == "perturbed-tiny":
        _ask(targets[0], rows + rng.choice([-3e-5, 3e-5], size=rows.shape))
    elif kind == "diluted":
        fresh = world.fresh(rng, 4 * len(rows)).reshape(len(rows), 4, -1)
        _ask(targets[0], np.concatenate([rows[:, None], fresh], axis=1).reshape(-1, rows.shape[1]))
    elif kind == "search":
        _ask(targets[0], rows)
    elif kind == "lira-perturbed":
        copies = rows[:, None] + rng.normal(size=(len(rows), 4, rows.shape[1])) * 0.02 * scale
        _ask(targets[0], copies.reshape(-1, rows.shape[1]))
    elif kind.startswith("split-"):
        for number, target in enumerate(targets):
            _ask(target, rows[number :: len(targets)])
    elif kind == "boundary-adaptive":
        for row in rows:
            _boundary_outside(targets[0], row, scale, rng)
    else:  # pragma: no cover - ADAPTIVE lists the kinds above
        raise InputError(f"unknown adaptive campaign {kind!r}")


def _boundary_outside(
    target: ClassifierTarget, row: np.ndarray, scale: np.ndarray, rng: np.random.Generator
) -> None:
    """The distance to the decision boundary along 3 random directions, by bisection between
    0.19 and 4 standard deviations (root-mean-square): the candidate itself, and anything
    within 0.19 of it, is never sent."""
    near, far = 0.19, 4.0
    for _ in range(3):
        direction = rng.normal(size=len(row))
        direction *= np.sqrt(len(row)) / np.linalg.norm(direction)  # RMS 1 sd per unit of t
        low, high = near, far
        first = None
        for step in range(6):
            t = low if step == 0 else (low + high) / 2
            label = int(_ask(target, np.asarray([row + t * direction * scale])).values[0])
            if first is None:
                first = label
                continue
            if label == first:
                low = t
            else:
                high = t


def _noise() -> Any:
    from miaudit.attacks.label_only import LabelNoiseAttack

    return LabelNoiseAttack()


def _ask(target: ClassifierTarget, rows: np.ndarray) -> Any:
    return target.outputs(RecordSet.from_arrays(rows, np.zeros(len(rows), dtype=np.int64)))


# ---------------------------------------------------------------- the whole simulation
@dataclass
class Traffic:
    """A simulated log, in time order, and who sent what: ``benign`` maps each benign key to
    its kind, ``campaigns`` each campaign to its keys."""

    records: list[QueryRecord]
    benign: dict[str, str]
    campaigns: dict[str, list[str]]

    def score(self, monitor: Any) -> tuple[dict[str, tuple[int, str]], dict[str, str]]:
        """Run ``monitor`` over the log: each caught campaign's first alert (the queries it
        had sent across its keys, and the detector), and each flagged benign key's detector."""
        owner = {key: name for name, keys in self.campaigns.items() for key in keys}
        sent: dict[str, int] = dict.fromkeys(self.campaigns, 0)
        caught: dict[str, tuple[int, str]] = {}
        flagged: dict[str, str] = {}
        for record in self.records:
            if record.key in owner:
                sent[owner[record.key]] += 1
            for alert in monitor.observe(record):
                for key in alert.keys:
                    if key in owner:
                        caught.setdefault(owner[key], (sent[owner[key]], alert.detector))
                    else:
                        flagged.setdefault(key, alert.detector)
        return caught, flagged


def simulate(
    world: World,
    benign_keys: int = 200,
    campaigns: tuple[str, ...] = CAMPAIGNS,
    seed: int = 0,
    train_share: float = 0.05,
    campaign_size: int = 100,
    campaign_budget: int = 1000,
    day: float = 86400.0,
    mix: dict[str, float] | None = None,
    start: float = START,
) -> Traffic:
    """``benign_keys`` benign clients (``mix`` of kinds) and one run of each campaign, spread
    over a simulated ``day``; each campaign is cut after ``campaign_budget`` queries."""
    rng = np.random.default_rng(seed)
    world._deck = rng.permutation(len(world.population))  # a fresh deck for each log
    world._dealt = 0
    service = Service(world, addresses=np.random.default_rng([seed, 1]))
    mix = mix or BENIGN_MIX
    kinds = rng.choice(list(mix), benign_keys, p=np.asarray(list(mix.values())) / sum(mix.values()))
    benign: dict[str, str] = {}
    office: list[Any] = [None, 0]  # the open office's address and the keys it still takes
    for number, kind in enumerate(kinds):
        key = f"benign-{kind}-{number:04d}"
        service.client_of[key] = _benign_address(service.addresses, office)
        rows, gaps = benign_rows(str(kind), world, rng, train_share)
        times = start + rng.uniform(0, day * 0.8) + np.cumsum(gaps)
        for first in range(0, len(rows), 100):  # requests of up to 100 instances
            part = slice(first, first + 100)
            service.send(key, rows[part], times[part], label_only=False)
        benign[key] = str(kind)
    found: dict[str, list[str]] = {}
    for kind in campaigns:
        found[kind] = _campaign(
            kind,
            service,
            world,
            rng,
            start + rng.uniform(0, day * 0.8),
            campaign_size,
            campaign_budget,
        )
    records = sorted(service.records, key=lambda r: r.time)
    return Traffic(records, benign, found)


def _address(draw: np.random.Generator) -> str:
    a, b, c = draw.integers(0, 256, 3)
    return f"10.{a}.{b}.{c}"


def _benign_address(draw: np.random.Generator, office: list[Any]) -> str:
    """A benign key's address: its own, or (``OFFICE_SHARE`` of keys) an office's shared by
    2-8 keys; ``office`` holds the open office's address and how many more keys it takes."""
    if draw.random() >= OFFICE_SHARE:
        return _address(draw)
    if office[1] <= 0:
        office[0], office[1] = _address(draw), int(draw.integers(2, 9))
    office[1] -= 1
    return str(office[0])


def _campaign(
    kind: str, service: Service, world: World, rng: np.random.Generator, start: float,
    size: int, budget: int,
) -> list[str]:  # fmt: skip
    keys = [f"campaign-{kind}-{n}" for n in range(CAMPAIGN_KEYS.get(kind, 1))]
    one, draw = _address(service.addresses), service.addresses
    service.client_of.update({k: _address(draw) if kind in SPREAD else one for k in keys})
    label_only = kind.startswith("label-") or kind == "boundary-adaptive"
    budget = max(budget, CAMPAIGN_SIZE.get(kind, (0, 0))[0])  # the search's 1,200 candidates
    scratch = Service(world, limit=budget, client_of=service.client_of)
    targets = [KeyTarget(scratch, key, start, 0.1, label_only) for key in keys]
    with contextlib.suppress(CampaignDone):  # the budget is spent
        run_campaign(kind, targets, world, rng, size)  # type: ignore[arg-type]
    logged = scratch.records
    if len(keys) > 1:  # the keys take turns, so the campaign's queries interleave
        logged = sorted(logged, key=lambda r: (r.time, r.key))
    logged = logged[:budget]
    times = start + 0.1 * np.arange(1, len(logged) + 1)
    service.records.extend(
        QueryRecord(
            float(t), r.key, r.request_id, r.model, r.input, r.output, r.policy, 200, r.client
        )
        for t, r in zip(times, logged, strict=True)
    )
    return keys
