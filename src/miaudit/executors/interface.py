"""The executor interface: where a batch of independent pieces of work runs.

An executor maps a function over items — reference models to train, compared variants to fit,
probing attacks to run, shards of records to score — in this process, in a pool of local
processes, or on a Ray cluster. Whatever the executor, each item gives the same result (the
work is seeded per item, never by where or when it runs), so the same seed gives the same
scores; results arrive as they finish, so a caller can store each at once and an interrupted
run loses only the work still in flight.

What every item needs (a recipe and its training pool, a target's loader) travels once as the
``shared`` payload, not once per item: each worker receives it once, turns it into its working
state once (``prepare``: e.g. loading a model) and then runs every item it is given with it.
"""

from __future__ import annotations

import pickle
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from miaudit.errors import InputError

Shared = TypeVar("Shared")
State = TypeVar("State")
Item = TypeVar("Item")
Result = TypeVar("Result")

#: ``fn(state, item)``: one piece of work, given its worker's state (the prepared payload).
Work = Callable[[Any, Any], Any]
#: ``prepare(shared) -> state``: run once per worker before its first item.
Prepare = Callable[[Any], Any]


def unchanged(shared: Any) -> Any:
    """The default ``prepare``: the worker's state is the shared payload itself."""
    return shared


class Executor(ABC):
    """Runs ``fn(state, item)`` for every item somewhere, and hands back the results.

    Subclasses say where (:attr:`name`) and implement :meth:`map`; :meth:`map_ordered` and the
    worker conventions (one BLAS/OpenMP thread per worker process, :func:`in_worker`) are
    shared. An executor holds settings only (no pool, no connection) between calls, so it is
    cheap to create and safe to keep."""

    #: The executor's name in the CLI, the config and reports (a value of ``ExecutorName``).
    name: ClassVar[str]

    def __init__(self, workers: int | None = None) -> None:
        if workers is not None and int(workers) < 1:
            raise InputError(f"executor {self.name!r}: workers must be at least 1, got {workers}")
        #: The most items run at once (``None``: one per core, or per cluster CPU for Ray).
        self.workers = None if workers is None else int(workers)

    @abstractmethod
    def map(
        self,
        fn: Work,
        items: Sequence[Any],
        shared: Any = None,
        prepare: Prepare = unchanged,
    ) -> Iterator[Any]:
        """Yield ``fn(state, item)`` for every item, in the order the items **finish** (not
        the order given: tag items with their index when the order matters, or use
        :meth:`map_ordered`).

        ``shared`` travels to each worker once; there ``state = prepare(shared)`` runs once,
        before the worker's first item, and every item the worker runs receives that
        ``state``. ``fn`` and ``prepare`` must be module-level functions (or other picklable
        callables) for executors that leave this process. An exception raised by ``fn`` or
        ``prepare`` stops the map and is raised here, with its own type and message (one
        that cannot be pickled arrives as a ``RuntimeError`` naming it); work not yet
        started is cancelled. Closing the
        iterator early cancels what has not started, too."""

    def pickles(self, n_items: int) -> bool:
        """Whether :meth:`map` over ``n_items`` items sends ``fn``, ``prepare``, ``shared``
        and the items to other processes with Python's ``pickle`` (so a closure or a lambda
        fails there); a caller can check its own payload first, with a message of its own."""
        return False

    def map_ordered(
        self,
        fn: Work,
        items: Sequence[Any],
        shared: Any = None,
        prepare: Prepare = unchanged,
    ) -> list[Any]:
        """Every ``fn(state, item)``, in the order of ``items`` (the results are gathered
        before returning, so nothing can be stored as it finishes)."""
        results: list[Any] = [None] * len(items)
        for index, result in self.map(_Indexed(fn), list(enumerate(items)), shared, prepare):
            results[index] = result
        return results

    def __repr__(self) -> str:
        workers = "" if self.workers is None else f"workers={self.workers}"
        return f"{type(self).__name__}({workers})"


@dataclass(frozen=True)
class _Indexed(Generic[Item, Result]):
    """``fn`` applied to ``(index, item)`` pairs, returning ``(index, result)`` (picklable
    whenever ``fn`` is, unlike a closure)."""

    fn: Callable[[Any, Item], Result]

    def __call__(self, state: Any, pair: tuple[int, Item]) -> tuple[int, Result]:
        index, item = pair
        return index, self.fn(state, item)


# ------------------------------------------------------------------ inside a worker process
_WORKER: dict[str, Any] = {"inside": False}


def in_worker() -> bool:
    """Whether this code runs in a worker process an executor started (a local pool's or a
    Ray worker), where per-process settings (threads, devices) may be changed freely; false
    in the caller's own process, including under the inline executor."""
    return bool(_WORKER["inside"])


def enter_worker() -> None:
    """Mark this process as a worker and limit BLAS/OpenMP to one thread in it (once per
    process). One item per worker and as many workers as cores: threads inside each worker
    would only fight over the cores (measured on digits, 2 cores: 4-14x slower)."""
    if _WORKER["inside"]:
        return
    from threadpoolctl import threadpool_limits

    _WORKER["thread_limits"] = threadpool_limits(limits=1)  # kept: the limit lasts with it
    _WORKER["inside"] = True


class _Discard:
    """A file that keeps nothing: pickling into it measures picklability without a copy."""

    def write(self, data: Any) -> int:
        return memoryview(data).nbytes  # bytes, or a pickle.PickleBuffer (protocol 5)


def check_picklable(value: Any, what: str, fix: str) -> None:
    """Raise an ``InputError`` when ``value`` cannot be sent to another process: ``what`` is
    named in the message (e.g. "the recipe") and ``fix`` says how to make it picklable."""
    try:
        pickle.Pickler(_Discard(), protocol=pickle.HIGHEST_PROTOCOL).dump(value)
    except Exception as exc:
        raise InputError(
            f"{what} cannot be sent to worker processes ({exc}); {fix}, or use executor "
            "'inline' or 'ray'"
        ) from exc


def portable_error(exc: BaseException) -> BaseException:
    """``exc`` itself when it survives the trip to the caller's process (pickled there and
    back), else a ``RuntimeError`` that names its type and repeats its message: an error a
    worker cannot send back would otherwise break the pool ("terminated abruptly") and the
    real message would reach only the worker's stderr."""
    try:
        pickle.loads(pickle.dumps(exc, protocol=pickle.HIGHEST_PROTOCOL))
    except Exception:
        portable = RuntimeError(f"{type(exc).__module__}.{type(exc).__qualname__}: {exc}")
        return portable.with_traceback(exc.__traceback__)
    return exc


def picklable(value: Any) -> bool:
    """Whether ``value`` can be sent to another process (pickled), without keeping a copy."""
    try:
        pickle.Pickler(_Discard(), protocol=pickle.HIGHEST_PROTOCOL).dump(value)
    except Exception:
        return False
    return True
