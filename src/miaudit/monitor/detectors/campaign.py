"""``campaign``: keys that queried the same records are linked (union-find over a bounded
memory of records); a group's score is the sum of its keys' ``training-overlap`` evidence, so a
campaign split across keys adds up to what one key would show.

Two keys are linked once they share ``link_min`` records that are not training records
(returning customers often share those) and ``link_share`` of the smaller key's distinct
records. The links are not saved: a restarted gateway rebuilds them from new traffic.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from miaudit.monitor.detectors.base import GroupDetector, KeyView, Query, register
from miaudit.monitor.settings import Settings


@dataclass
class Groups:
    """Keys linked by records they both queried (union-find; bounded memory of records)."""

    owner: dict[int, str] = field(default_factory=dict)  # record digest → first key
    links: dict[tuple[str, str], int] = field(default_factory=dict)
    parent: dict[str, str] = field(default_factory=dict)
    peaks: dict[tuple[str, ...], float] = field(default_factory=dict)  # a group's highest score
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


@register
class Campaign(GroupDetector):
    name = "campaign"
    rule_id = "MIA207"
    description = "keys that queried the same records share a campaign's evidence"
    default_threshold = 9.0
    priority = 5
    cusum = True
    needs_index = True
    #: The per-key detector whose scores a group sums.
    sums = "training-overlap"

    def new_state(self) -> Groups:
        return Groups()

    def update(
        self, state: Groups, query: Query, keys: Mapping[str, KeyView]
    ) -> tuple[list[str], float] | None:
        if query.new and not query.hit and query.digest is not None:
            # training records (returning customers) are often shared: they link nobody
            def distinct(key: str) -> int:
                return keys[key].distinct if key in keys else 0

            state.shared(query.key, query.digest, self.settings, distinct)
        members = state.members(query.key) if query.key in state.parent else []
        if len(members) < 2:
            return None
        score = sum(keys[k].scores[self.sums] for k in members if k in keys)
        group = tuple(members)
        state.peaks[group] = max(state.peaks.get(group, 0.0), score)
        return members, score

    def peaks(self, state: Groups) -> dict[str, float]:
        found: dict[str, float] = {}
        for group, score in state.peaks.items():
            for key in group:
                found[key] = max(found.get(key, 0.0), score)
        return found
