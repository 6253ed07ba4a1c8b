"""Modules of the user's own — attacks, target kinds, report formats, result sections, monitor
detectors — loaded before a command runs, so what they register is a choice on the command line
as it is in Python.

Three ways to name them — miaudit imports no module of yours that one of them does not name:

- ``miaudit --plugin my_attacks audit …`` (repeatable): a module importable from ``sys.path``;
- ``MIAUDIT_PLUGINS=my_attacks,my_formats``: the same list in the environment (CI, the gateway);
- an installed package's entry point in the group ``miaudit.plugins``
  (``[project.entry-points."miaudit.plugins"] mine = "my_package.miaudit_plugin"``): installing
  that package is the consent, as with pytest's ``pytest11`` plug-ins.

A module that cannot be imported is bad input (exit 2) naming the module, where it was named
and what went wrong; it is never skipped quietly, since an audit without the attack the user
asked for would be a silent wrong answer.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterable
from importlib.metadata import entry_points

from miaudit.errors import InputError

GROUP = "miaudit.plugins"
ENVIRONMENT = "MIAUDIT_PLUGINS"

__all__ = ["ENVIRONMENT", "GROUP", "load_plugins"]


def _named(options: Iterable[str]) -> list[tuple[str, str]]:
    """(module, where it was named) in order: the options, then the environment."""
    named = [(name.strip(), "--plugin") for name in options]
    named += [(n.strip(), ENVIRONMENT) for n in os.environ.get(ENVIRONMENT, "").split(",")]
    return [(name, where) for name, where in named if name]


def load_plugins(options: Iterable[str] = ()) -> list[str]:
    """Import the modules named by ``--plugin``, ``MIAUDIT_PLUGINS`` and the ``miaudit.plugins``
    entry points (each once, in that order); returns their names."""
    loaded: list[str] = []
    for name, where in _named(options):
        if name in loaded:
            continue
        try:
            importlib.import_module(name)
        except (Exception, SystemExit) as exc:  # the module is input
            raise InputError(
                f"{where}: the plugin module {name!r} could not be imported "
                f"({type(exc).__name__}: {exc}); check that it is on the Python path "
                "(PYTHONPATH) and imports on its own"
            ) from exc
        loaded.append(name)
    for point in entry_points(group=GROUP):
        if point.value in loaded:
            continue
        try:
            point.load()
        except (Exception, SystemExit) as exc:
            raise InputError(
                f"the plugin entry point {point.name!r} ({point.value}, group {GROUP}) could "
                f"not be loaded ({type(exc).__name__}: {exc}); reinstall or uninstall the "
                "package that declares it"
            ) from exc
        loaded.append(point.value)
    return loaded
