"""``training-overlap``: over a key's *distinct* inputs, hits on the training index.

A campaign's candidates are about half training records (``member_rate`` 0.25 allows for
dilution by known non-members); benign traffic hits at the benign rate ``baseline_rate``. The
score is Page's CUSUM (1954) of the log-likelihood ratio of the two, so it reads as "nats of
evidence that this key behaves like a campaign rather than like benign traffic", and drifts
back to zero on benign behaviour. Repeat users re-querying the same customers add nothing: only
a first query of a record counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from miaudit.monitor.detectors.base import Detector, KeyView, Query, register


@register
class TrainingOverlap(Detector):
    name = "training-overlap"
    rule_id = "MIA201"
    description = "distinct queries hit training records at a campaign's rate"
    default_threshold = 12.0
    priority = 1
    cusum = True
    needs_index = True

    @dataclass
    class State:
        #: Distinct records of the key found in the training index.
        hits: int = 0

    def update(self, state: State, query: Query, score: float) -> float:
        if not query.new or query.hit is None:
            return score
        state.hits += query.hit
        up, down = self.settings.overlap_steps
        return max(0.0, score + (up if query.hit else down))

    def evidence(self, state: State, key: KeyView) -> dict[str, Any]:
        share = state.hits / key.distinct if key.distinct else 0.0
        return {"training_hits": state.hits, "training_share": round(share, 4)}

    def baseline_settings(self, keys: Sequence[KeyView]) -> dict[str, Any]:
        hits = sum(key.state(self.name).hits for key in keys)
        distinct = sum(key.distinct for key in keys)
        # Laplace's rule: never 0 or 1
        rate = min((hits + 1) / (distinct + 2), self.settings.member_rate / 2)
        return {"baseline_rate": rate}
