"""``boundary-walk``: queries whose nearest recent query is very close (``flip_radius``) and got
another label — a bisection toward the decision boundary, as label-only attacks walk it. The
score is the count of such steps among the key's last ``window`` queries.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from miaudit.monitor.detectors.base import (
    Detector,
    KeyView,
    Query,
    decode_array,
    encode_array,
    register,
)


@register
class BoundaryWalk(Detector):
    name = "boundary-walk"
    rule_id = "MIA204"
    description = "close queries whose predicted labels differ (a walk to the boundary)"
    default_threshold = 3.0
    priority = 3
    minimum = 3.0

    @dataclass
    class State:
        #: 1 where the query in that ring slot was a step (it leaves the count with it)
        flips: np.ndarray | None = None

    def update(self, state: State, query: Query, score: float) -> float:
        near = query.neighbour
        if near is None:
            return score
        if near.reset or state.flips is None or len(state.flips) != near.window:
            state.flips = np.zeros(near.window, dtype=np.int8)
        if near.evicted:
            score -= float(state.flips[near.slot])
        labelled = near.label >= 0 and near.nearest >= 0 and near.nearest_label >= 0
        flipped = labelled and near.close and near.nearest_label != near.label
        state.flips[near.slot] = flipped
        return score + float(flipped)

    def evidence(self, state: State, key: KeyView) -> dict[str, Any]:
        return {"boundary_steps": int(key.scores[self.name])}

    @classmethod
    def state_to_dict(cls, state: State) -> dict[str, Any]:
        return {} if state.flips is None else {"flips": encode_array(state.flips)}

    @classmethod
    def state_from_dict(cls, data: Mapping[str, Any]) -> State:
        return cls.State(decode_array(data["flips"]) if "flips" in data else None)
