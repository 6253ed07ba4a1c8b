"""``client``: the keys one client uses pool their evidence, so a campaign split over many keys
from one address adds up to what one key would show.

The log's optional ``client`` (``miaudit.querylog/1``; the gateway writes the peer's address,
or with ``--trust-forwarded-for`` the one its proxy appended to ``X-Forwarded-For``) groups the
queries. A client's distinct records (new for the key that sent them; another look at a
training neighbourhood the key hit already left out, as ``training-overlap`` does) and their
hits on the training index are tested by the same one-sided mixture likelihood ratio as a
single key's (:func:`~miaudit.monitor.detectors.training_overlap.log_bayes_factor`, against
the baseline's ``p*``): the score is nats of evidence over the client's whole history, and a
client whose share is at most ``p*`` ever reaches ``log(1/ε)`` with probability at most ``ε``
(Ville's inequality). Only a client of two keys or more is a group (one key alone is its own
``training-overlap``); its alert names the client and those of its keys whose own training
share is above ``p*`` — the ones carrying the excess, not a benign colleague behind the same
address — and a key that comes to be so later gets an alert of its own.

What it cannot see: keys of a campaign that come from unrelated addresses (a botnet, many
cloud machines, a proxy the gateway does not trust) — the residual cost is stated in
docs/monitor.md. A shared address of many benign users (a company's NAT) pools benign keys,
whose pooled share is their mean, at most ``p*`` when they are like the baseline's; the
calibration sees such clients in the baseline and sets the threshold above them.

Memory: ``Settings.shared`` clients at most (the least recently seen forgotten), the names of
``MAX_KEYS`` keys per client (more are counted, not named). Not saved: a restarted gateway
starts the clients afresh (each key's own state is saved).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from miaudit.monitor.detectors.base import GroupDetector, KeyView, Query, register
from miaudit.monitor.detectors.training_overlap import log_bayes_factor

#: Key names kept per client (an alert names at most these; more keys are counted).
MAX_KEYS = 1000
#: The per-key detector whose counts tell which of a client's keys carry its excess.
OVERLAP = "training-overlap"


@dataclass
class Pool:
    """One client's pooled evidence."""

    hits: int = 0
    trials: int = 0
    score: float = 0.0
    peak: float = 0.0
    keys: dict[str, None] = field(default_factory=dict)  # an ordered set, at most MAX_KEYS
    more_keys: int = 0  # keys beyond MAX_KEYS


@dataclass
class Clients:
    """Every client's pool, least recently seen first."""

    pools: dict[str, Pool] = field(default_factory=dict)


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
        pool = state.pools.pop(query.client, None)
        if pool is None:
            pool = Pool()
            if len(state.pools) >= self.settings.shared:
                del state.pools[next(iter(state.pools))]
        state.pools[query.client] = pool  # most recently seen last
        if query.key not in pool.keys:
            if len(pool.keys) < MAX_KEYS:
                pool.keys[query.key] = None
            else:
                pool.more_keys += 1
        if query.new and query.hit is not None and not query.repeat:
            pool.hits += query.hit
            pool.trials += 1
            if query.hit or pool.score > 0.0:  # a miss never raises the evidence from 0
                found = log_bayes_factor(pool.hits, pool.trials, self.settings.overlap_rate)
                pool.score = max(0.0, found)
        if len(pool.keys) + pool.more_keys < 2:
            return None
        pool.peak = max(pool.peak, pool.score)
        return pool.keys.keys(), pool.score, f"client {query.client}"

    def group_evidence(self, state: Clients, query: Query) -> dict[str, Any]:
        pool = state.pools[query.client or ""]
        return {
            "client": query.client,
            "client_keys": len(pool.keys) + pool.more_keys,
            "training_hits": pool.hits,
            "weighed_records": pool.trials,
            "training_share": round(pool.hits / pool.trials, 4) if pool.trials else 0.0,
            "benign_share_tested": round(self.settings.overlap_rate, 4),
        }

    def implicated(self, members: Collection[str], keys: Mapping[str, KeyView]) -> list[str]:
        """The client's keys whose own training share is above ``p*``: those that carry the
        excess (benign keys behind the same address — an office's NAT, a proxy the gateway
        does not trust — are not named); every key when none is."""
        found = []
        for key in members:
            view = keys.get(key)
            own = view.state(OVERLAP) if view is not None else None
            if own is not None and own.hits and own.hits > self.settings.overlap_rate * own.trials:
                found.append(key)
        return sorted(found or members)

    def peaks(self, state: Clients) -> dict[str, float]:
        """Each key's highest score of a client it was seen from (a key that joined a client
        after its peak is given the peak too: calibration errs towards higher thresholds)."""
        found: dict[str, float] = {}
        for pool in state.pools.values():
            if len(pool.keys) + pool.more_keys < 2:
                continue
            for key in pool.keys:
                found[key] = max(found.get(key, 0.0), pool.peak)
        return found
