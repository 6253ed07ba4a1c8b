"""``volume``: queries within ``period`` seconds, refused ones included."""

from __future__ import annotations

from miaudit.monitor.detectors.base import Query, register
from miaudit.monitor.detectors.window import RateDetector


@register
class Volume(RateDetector):
    name = "volume"
    rule_id = "MIA206"
    description = "more queries than benign keys send in the same period"
    default_threshold = 2500.0
    priority = 7
    legacy_column = 1

    def amount(self, query: Query) -> int:
        return 1
