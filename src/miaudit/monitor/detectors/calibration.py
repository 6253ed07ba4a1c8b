"""``calibration``: over a key's distinct inputs, switches between an index hit and a miss.

An attacker alternating candidates with known non-members to set a threshold switches at rate
1/2, benign traffic at ``2·p0·(1-p0)`` (``p0``: ``baseline_rate``). The score is the CUSUM of
the log-likelihood ratio (nats of evidence), as for ``training-overlap``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from miaudit.monitor.detectors.base import Detector, KeyView, Query, register


@register
class ThresholdCalibration(Detector):
    name = "calibration"
    rule_id = "MIA202"
    description = "queries alternate between training records and other records"
    default_threshold = 21.0
    priority = 4
    cusum = True
    needs_index = True

    @dataclass
    class State:
        #: Switches between a hit and a miss, and whether the last distinct record was a hit.
        switches: int = 0
        last_hit: bool | None = None

    def update(self, state: State, query: Query, score: float) -> float:
        if not query.new or query.hit is None:
            return score
        if state.last_hit is not None:
            switched = query.hit != state.last_hit
            state.switches += switched
            up, down = self.settings.switch_steps
            score = max(0.0, score + (up if switched else down))
        state.last_hit = query.hit
        return score

    def evidence(self, state: State, key: KeyView) -> dict[str, Any]:
        return {"switches": state.switches}
