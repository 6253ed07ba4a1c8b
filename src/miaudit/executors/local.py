"""The local executor: a pool of worker processes on this machine, one item per worker at a
time and one worker per core, each limited to one BLAS/OpenMP thread."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from typing import Any

from miaudit.executors.interface import (
    Executor,
    Prepare,
    Work,
    check_picklable,
    enter_worker,
    portable_error,
    unchanged,
)

#: What a worker process holds between items: the function and its prepared state.
_HELD: dict[str, Any] = {}

_FIX = "define the function and what it needs at module level"


def _start_worker(fn: Work, prepare: Prepare, shared: Any) -> None:
    """The pool's initializer: runs once per worker process. An error here is kept and
    raised by each item the worker runs: raised from the initializer it would only reach
    stderr, and the pool would report its worker "terminated abruptly"."""
    _HELD.clear()
    try:
        enter_worker()
        _HELD["fn"], _HELD["state"] = fn, prepare(shared)
    except Exception as exc:
        _HELD["error"] = exc


def _run_item(item: Any) -> Any:
    error = _HELD.get("error")
    try:
        if error is not None:
            raise error.with_traceback(error.__traceback__)
        return _HELD["fn"](_HELD["state"], item)
    except Exception as exc:
        portable = portable_error(exc)
        if portable is exc:
            raise
        raise portable from exc


class LocalExecutor(Executor):
    """A process pool of ``workers`` processes (default: one per core, never more than there
    are items). With one worker or one item the work runs in this process, as inline (a pool
    would only add the cost of starting it)."""

    name = "local"

    def pool_size(self, n_items: int) -> int:
        """The worker processes a map over ``n_items`` starts (at most one per item)."""
        return min(self.workers or os.cpu_count() or 1, n_items)

    def pickles(self, n_items: int) -> bool:
        return self.pool_size(n_items) > 1

    def map(
        self,
        fn: Work,
        items: Sequence[Any],
        shared: Any = None,
        prepare: Prepare = unchanged,
    ) -> Iterator[Any]:
        """``fn(state, item)`` per item, yielded as each finishes. ``shared``, ``fn`` and
        ``prepare`` reach each worker once, through the pool's initializer (so the payload
        is sent once per worker, not once per item); each item is sent on its own."""
        workers = self.pool_size(len(items))
        if workers <= 1:
            if items:
                state = prepare(shared)
                for item in items:
                    yield fn(state, item)
            return
        for value, what in ((fn, "the function"), (prepare, "the prepare step")):
            check_picklable(value, what, _FIX)
        check_picklable(shared, "the shared payload", _FIX)
        pool = ProcessPoolExecutor(
            max_workers=workers, initializer=_start_worker, initargs=(fn, prepare, shared)
        )
        futures: list[Future[Any]] = []
        try:
            futures = [pool.submit(_run_item, item) for item in items]
            for future in as_completed(futures):
                yield future.result()
        finally:
            # an error, or the caller stopped early: what has not started never will
            pool.shutdown(wait=True, cancel_futures=True)
