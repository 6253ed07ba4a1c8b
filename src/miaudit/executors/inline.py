"""The inline executor: every item in this process, one after another, with every core the
libraries care to use (no thread limits: there is no other worker to share them with)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from miaudit.executors.interface import Executor, Prepare, Work, unchanged


class InlineExecutor(Executor):
    """Runs the items here, in order; ``workers`` is accepted and ignored (there is one)."""

    name = "inline"

    def map(
        self,
        fn: Work,
        items: Sequence[Any],
        shared: Any = None,
        prepare: Prepare = unchanged,
    ) -> Iterator[Any]:
        """``fn(state, item)`` for each item in turn, ``state = prepare(shared)`` made once
        before the first (nothing is pickled: closures and lambdas are fine here)."""
        if not items:
            return
        state = prepare(shared)
        for item in items:
            yield fn(state, item)
