"""Loaders the public facade (``miaudit/__init__.py``) registers for plug-ins a lower layer
needs but must not import: the report formats behind ``AuditResult.write``/``render`` (the
report layer sits above the results). ``import miaudit`` stays light: the facade imports a
module when one of its names is first used, and the report layer only when a result is
rendered."""

from __future__ import annotations

from collections.abc import Callable

#: Called, in order, when a result is rendered and no presenter has registered yet.
PRESENTER_LOADERS: list[Callable[[], object]] = []
