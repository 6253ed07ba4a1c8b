"""``near-duplicates``: bursts of close copies of one record (k-NN distance to the key's recent
queries, after Chen, Carlini & Wagner 2019; or shared quantised-window fingerprints, after
Blacklight, for high-dimensional inputs).

Copies join the cluster of the record that started them (the first query of the cluster, its
*centre*), not a chain of neighbours; ``burst_size`` copies make a burst. A burst counts as
evidence when a query in it is a training record, and against it otherwise, so an explainer
perturbing non-training records is not flagged: the score is the CUSUM of the log-likelihood
ratio of ``member_rate`` against the benign ``burst_rate`` (nats of evidence).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from miaudit.monitor.detectors.base import (
    Detector,
    KeyView,
    Neighbour,
    Query,
    decode_array,
    encode_array,
    register,
)


@register
class NearDuplicates(Detector):
    name = "near-duplicates"
    rule_id = "MIA203"
    description = "bursts of close copies of training records"
    default_threshold = 6.0
    priority = 2
    cusum = True
    needs_index = True

    @dataclass
    class State:
        bursts: int = 0
        training_bursts: int = 0
        next_cluster: int = 0
        #: cluster id: [copies in the ring, a training record among them, burst counted]
        clusters: dict[int, list[int]] = field(default_factory=dict)
        #: cluster id: its first query (ring row)
        centres: dict[int, np.ndarray] = field(default_factory=dict)
        #: the cluster of each ring slot
        cluster: np.ndarray | None = None

    def update(self, state: State, query: Query, score: float) -> float:
        near = query.neighbour
        if near is None:
            return score
        if near.reset or state.cluster is None or len(state.cluster) != near.window:
            state.cluster = np.zeros(near.window, dtype=np.int64)
            state.clusters.clear()
            state.centres.clear()
        if near.evicted:
            _forget(state, int(state.cluster[near.slot]))
        cluster = int(state.cluster[near.nearest]) if near.nearest >= 0 else -1
        if near.near and cluster in state.centres and self._near_centre(state, cluster, near):
            entry = state.clusters[cluster]
            entry[0] += 1
            entry[1] |= bool(query.hit)
            if entry[0] >= self.settings.burst_size and not entry[2]:
                entry[2] = 1
                score = self._burst(state, bool(entry[1]), score)
        else:
            cluster = state.next_cluster
            state.next_cluster += 1
            state.clusters[cluster] = [1, int(bool(query.hit)), 0]
            dtype = np.float32 if near.prints is None else near.value.dtype
            state.centres[cluster] = near.value.astype(dtype)
        state.cluster[near.slot] = cluster
        return score

    def _near_centre(self, state: State, cluster: int, near: Neighbour) -> bool:
        """Whether the query is a near copy of the record that started ``cluster``."""
        centre = state.centres[cluster]
        if near.prints is None:
            gap = near.value - centre
            distance = math.sqrt(float(gap @ gap) / len(near.value))
            return distance < self.settings.near_radius
        from miaudit.monitor.fingerprint import shared

        return int(shared(centre[None, :], near.prints)[0]) >= self.settings.hash_match

    def _burst(self, state: State, training: bool, score: float) -> float:
        state.bursts += 1
        state.training_bursts += training
        up, down = self.settings.burst_steps
        return max(0.0, score + (up if training else down))

    def evidence(self, state: State, key: KeyView) -> dict[str, Any]:
        return {"bursts": state.bursts, "training_bursts": state.training_bursts}

    def baseline_settings(self, keys: Sequence[KeyView]) -> dict[str, Any]:
        bursts = sum(key.state(self.name).bursts for key in keys)
        centred = sum(key.state(self.name).training_bursts for key in keys)
        # Laplace's rule: never 0 or 1
        return {"burst_rate": min((centred + 1) / (bursts + 2), self.settings.member_rate / 2)}

    @classmethod
    def state_to_dict(cls, state: State) -> dict[str, Any]:
        data: dict[str, Any] = {
            "bursts": state.bursts,
            "training_bursts": state.training_bursts,
            "next_cluster": state.next_cluster,
            "clusters": {str(k): v for k, v in state.clusters.items()},
        }
        if state.centres:
            stacked = np.stack(list(state.centres.values()))
            data["centres"] = [list(state.centres), *encode_array(stacked)]
        if state.cluster is not None:
            data["cluster"] = encode_array(state.cluster)
        return data

    @classmethod
    def state_from_dict(cls, data: Mapping[str, Any]) -> State:
        state = cls.State(
            int(data.get("bursts", 0)),
            int(data.get("training_bursts", 0)),
            int(data.get("next_cluster", 0)),
            {int(k): list(v) for k, v in data.get("clusters", {}).items()},
        )
        if "centres" in data:
            ids, *encoded = data["centres"]
            stacked = decode_array(encoded)
            state.centres = {int(k): row.copy() for k, row in zip(ids, stacked, strict=True)}
        if "cluster" in data:
            state.cluster = decode_array(data["cluster"])
        return state


def _forget(state: NearDuplicates.State, cluster: int) -> None:
    """A copy of ``cluster`` left the ring; the cluster goes with its last copy."""
    entry = state.clusters.get(cluster)
    if entry is not None:
        entry[0] -= 1
        if entry[0] <= 0:
            del state.clusters[cluster]
            state.centres.pop(cluster, None)
