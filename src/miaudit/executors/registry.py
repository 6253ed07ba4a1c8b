"""Executors by name: the one place that turns ``"local"``, ``"inline"`` or ``"ray"`` (the
values of :class:`~miaudit.executors.ExecutorName`) into an :class:`Executor`."""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum

from miaudit.errors import InputError
from miaudit.executors.inline import InlineExecutor
from miaudit.executors.interface import Executor
from miaudit.executors.local import LocalExecutor
from miaudit.executors.ray import RayExecutor


class ExecutorName(str, Enum):
    """Where work runs: the one declaration of the executors (CLI choices, config, docs)."""

    LOCAL = "local"
    INLINE = "inline"
    RAY = "ray"


#: How to build each executor from ``workers`` and a cluster ``address`` (Ray's only).
_FACTORIES: dict[ExecutorName, Callable[[int | None, str | None], Executor]] = {
    ExecutorName.LOCAL: lambda workers, _address: LocalExecutor(workers),
    ExecutorName.INLINE: lambda workers, _address: InlineExecutor(workers),
    ExecutorName.RAY: lambda workers, address: RayExecutor(workers, address),
}

#: The names, in the order help texts list them.
NAMES: tuple[str, ...] = tuple(name.value for name in ExecutorName)


def create(
    name: str | ExecutorName | None = None,
    address: str | None = None,
    workers: int | None = None,
) -> Executor:
    """The executor called ``name`` (``None``: the default, ``local``). ``address`` is a Ray
    cluster's (``ray`` only); ``workers`` caps how many items run at once."""
    label = name.value if isinstance(name, ExecutorName) else name
    if address is not None and label != ExecutorName.RAY.value:
        raise InputError(f"a cluster address is for executor 'ray', not {label or 'local'!r}")
    try:
        key = ExecutorName(label if label is not None else ExecutorName.LOCAL.value)
    except ValueError:
        raise InputError(
            f"executor {label!r} is not available; use one of {', '.join(NAMES)}"
        ) from None
    return _FACTORIES[key](workers, address)
