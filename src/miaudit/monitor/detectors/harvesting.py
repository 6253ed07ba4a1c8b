"""``harvesting``: distinct records answered with a full probability vector within ``period``
seconds — the score harvest LiRA and RMIA need (a ``top-k:1`` answer still shows a score)."""

from __future__ import annotations

from miaudit.monitor.detectors.base import Query, register
from miaudit.monitor.detectors.window import RateDetector


@register
class Harvesting(RateDetector):
    name = "harvesting"
    rule_id = "MIA205"
    description = "many distinct records answered with full probability vectors"
    default_threshold = 2500.0
    priority = 6
    legacy_column = 2

    def amount(self, query: Query) -> int:
        return int(query.new and query.full)
