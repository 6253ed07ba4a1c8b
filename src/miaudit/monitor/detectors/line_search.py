"""``line-search``: the key's queries lie on straight lines whose ends (or crossings) reach
training records the key never sent — a boundary search around hidden candidates
(:mod:`miaudit.monitor.lines`). The score is the count of such hidden training neighbourhoods.

It sees what ``boundary-walk``'s fixed radii cannot: an attacker who stays outside them (the
bisection stops 0.19 standard deviations from the candidate, and the candidate is never sent)
still walks lines that meet at the candidate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from miaudit.monitor.detectors.base import Detector, KeyView, Query, register


@register
class LineSearch(Detector):
    name = "line-search"
    rule_id = "MIA209"
    description = "queries on lines that lead to training records the key never sent"
    default_threshold = 3.0
    priority = 3
    minimum = 1.0
    needs_index = True

    @dataclass
    class State:
        #: Hidden training neighbourhoods found around the key's search lines.
        centres: int = 0

    def update(self, state: State, query: Query, score: float) -> float:
        if not query.hidden:
            return score
        state.centres += query.hidden
        return float(state.centres)

    def evidence(self, state: State, key: KeyView) -> dict[str, Any]:
        return {"hidden_training_centres": state.centres}
