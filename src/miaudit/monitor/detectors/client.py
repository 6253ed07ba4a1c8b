"""``client``: the keys one client uses pool their evidence, so a campaign split over many keys
from one address adds up to what one key would show.

The log's optional ``client`` (``miaudit.querylog/1``; the gateway writes the peer's address,
or with ``--trust-forwarded-for`` the one its proxy appended to ``X-Forwarded-For``) groups the
queries (an IPv6 address by its /64, an IPv4-mapped one as IPv4). A client's distinct records
(a record any of its keys sent lately counts once; another look at a training neighbourhood
the key hit already is left out, as ``training-overlap`` does) and their hits on the training
index are tested by the same one-sided mixture likelihood ratio as a single key's
(:func:`~miaudit.monitor.detectors.training_overlap.log_bayes_factor`, against the baseline's
``p*``), restarted whenever its evidence falls to nothing (Page's CUSUM, with the mixture test
for the increments): an address's benign history — an office's, or misses an attacker banks
on purpose — does not hide a campaign that starts later. Each restarted test is a test that
a pool whose share is at most ``p*`` passes ``log(1/ε)`` with probability at most ``ε``
(Ville), so such a pool raises a false alarm after ``1/ε`` weighed records on average at the
soonest (Lorden 1971). Only a client of two keys or more is a group (one key alone is its own
``training-overlap``); its alert names the client and those of its keys whose own training
share is above ``p*`` — the ones carrying the excess, not a benign colleague behind the same
address; with none above ``p*`` it waits — and a key that comes to be so later gets an alert
of its own.

What it cannot see: keys of a campaign that come from unrelated addresses (a botnet, many
cloud machines, a proxy the gateway does not trust) — the residual cost is stated in
docs/monitor.md. A shared address of many benign users (a company's NAT) pools benign keys,
whose pooled share is their mean, at most ``p*`` when they are like the baseline's; the
calibration sees such clients in the baseline and sets the threshold above them.

Memory: ``Settings.shared`` clients at most (the least recently seen forgotten) and as many
``(client, record)`` pairs, the names of ``MAX_KEYS`` keys per client (as many more are
counted, not named). Not saved: a restarted gateway starts the clients afresh (each key's own
state is saved).
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from miaudit.monitor.detectors.base import GroupDetector, KeyView, Query, register
from miaudit.monitor.detectors.training_overlap import evidence
from miaudit.querylog import normal_address

#: Key names kept per client (an alert names at most these; more keys are counted).
MAX_KEYS = 1000
#: The per-key detector whose counts tell which of a client's keys carry its excess.
OVERLAP = "training-overlap"


@dataclass
class Pool:
    """One client's pooled evidence since its last restart."""

    hits: int = 0
    trials: int = 0
    score: float = 0.0
    peak: float = 0.0
    keys: dict[str, None] = field(default_factory=dict)  # an ordered set, at most MAX_KEYS
    more_keys: set[int] = field(default_factory=set)  # hashes of keys beyond MAX_KEYS


@dataclass
class Clients:
    """Every client's pool, least recently seen first, and the records each client sent
    lately (``(client, digest)``, bounded by ``Settings.shared``): a record several of a
    client's keys send counts once."""

    pools: dict[str, Pool] = field(default_factory=dict)
    sent: dict[tuple[str, int], None] = field(default_factory=dict)
    #: Each key's highest score of a client while the client would name it (its peak).
    key_peaks: dict[str, float] = field(default_factory=dict)


@functools.lru_cache(maxsize=65536)
def pool_name(client: str) -> str:
    """The pool an address belongs to: the address in its one written form
    (:func:`~miaudit.querylog.normal_address`), an IPv6 address as its /64 (one subscriber's
    network: every address in it costs its holder nothing); anything else as itself."""
    found = normal_address(client)
    if found is None:
        return client  # not an address (a client identifier of another kind): itself
    address = ipaddress.ip_address(found)
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return found


@register
class Client(GroupDetector):
    name = "client"
    rule_id = "MIA208"
    description = "the keys of one client together hit training records more than benign keys"
    default_threshold = 12.0
    priority = 2
    cusum = True
    needs_index = True

    def new_state(self) -> Clients:
        return Clients()

    def update(
        self, state: Clients, query: Query, keys: Mapping[str, KeyView]
    ) -> tuple[Collection[str], float, str] | None:
        if not query.client:
            return None
        name = pool_name(query.client)
        pool = self._pool(state, name, query.key)
        if self._counts(state, name, query):
            pool.hits += bool(query.hit)
            pool.trials += 1
            rate = self.settings.overlap_rate
            pool.score = evidence(pool.hits, pool.trials, bool(query.hit), pool.score, rate)
            if pool.score == 0.0:  # Page's restart: misses banked before a campaign hide none
                pool.hits = pool.trials = 0
        if len(pool.keys) + len(pool.more_keys) < 2:
            return None
        if pool.score > pool.peak:  # what an alert now would name: each key's peak
            pool.peak = pool.score
            for key in self.implicated(pool.keys, keys):
                state.key_peaks[key] = max(state.key_peaks.get(key, 0.0), pool.score)
        elif self.implicated([query.key], keys):  # a follow-up alert's moment
            peak = state.key_peaks.get(query.key, 0.0)
            state.key_peaks[query.key] = max(peak, pool.score)
        return pool.keys.keys(), pool.score, f"client {name}"

    def _pool(self, state: Clients, name: str, key: str) -> Pool:
        """The pool of client ``name``, made the most recently seen, with ``key`` in it."""
        pool = state.pools.pop(name, None)
        if pool is None:
            pool = Pool()
            if len(state.pools) >= self.settings.shared:
                del state.pools[next(iter(state.pools))]
        state.pools[name] = pool
        if key not in pool.keys:
            if len(pool.keys) < MAX_KEYS:
                pool.keys[key] = None
            elif len(pool.more_keys) < MAX_KEYS:
                pool.more_keys.add(hash(key))
        return pool

    def _counts(self, state: Clients, name: str, query: Query) -> bool:
        """Whether ``query`` is a record the client had not sent lately (by any of its keys),
        weighed as ``training-overlap`` weighs a key's."""
        if not query.new or query.hit is None or query.repeat or query.digest is None:
            return False
        sent = (name, query.digest)
        if sent in state.sent:
            return False
        state.sent[sent] = None
        if len(state.sent) > self.settings.shared:
            del state.sent[next(iter(state.sent))]
        return True

    def group_evidence(self, state: Clients, query: Query) -> dict[str, Any]:
        name = pool_name(query.client or "")
        pool = state.pools[name]
        return {
            "client": name,
            "client_keys": len(pool.keys) + len(pool.more_keys),
            "training_hits": pool.hits,
            "weighed_records": pool.trials,
            "training_share": round(pool.hits / pool.trials, 4) if pool.trials else 0.0,
            "benign_share_tested": round(self.settings.overlap_rate, 4),
        }

    def implicated(self, members: Collection[str], keys: Mapping[str, KeyView]) -> list[str]:
        """The client's keys whose own training share is above ``p*``: those that carry the
        excess. A benign key behind the same address (an office's NAT, a proxy the gateway
        does not trust) is not named, nor acted on; with none above ``p*``, no key is."""
        found = []
        for key in members:
            view = keys.get(key)
            own = view.state(OVERLAP) if view is not None else None
            if own is not None and own.hits and own.hits > self.settings.overlap_rate * own.trials:
                found.append(key)
        return sorted(found)

    def peaks(self, state: Clients) -> dict[str, float]:
        """Each key's highest client score at a moment the client's alert would have named it
        (the pool reaching a new peak, or the key querying): a benign key behind a busy
        address that never carries an excess has no peak, as it would get no alert."""
        return dict(state.key_peaks)
