"""The monitor's detectors: one module each, registered in the order of ``BUILT_IN`` (the
order they run, alert and list in). ``DETECTORS`` (name → description) and ``RULE_IDS``
(name → SARIF rule id) are live views of the registry, so a detector registered elsewhere with
:func:`register` shows up in them, in the engine, the calibration and the alerts.

The built-in detectors (docs/monitor.md tells what each means for a deployment):

- ``training-overlap`` (MIA201), ``calibration`` (MIA202), ``near-duplicates`` (MIA203):
  evidence (CUSUM, in nats) from the training index;
- ``boundary-walk`` (MIA204): close queries with another label, among the last ``window``;
- ``harvesting`` (MIA205), ``volume`` (MIA206): counts within ``period`` seconds;
- ``campaign`` (MIA207): keys linked by shared records add up their overlap evidence;
- ``client`` (MIA208): the keys one client (the log's ``client``, an address) uses pool their
  distinct records and training hits into one test;
- ``line-search`` (MIA209): queries on straight lines (a boundary search) that lead to
  training records the key never sent.

Distances are root-mean-square differences of features in standard deviations (scales from
the baseline, or estimated on the fly), so one radius serves any number of features.
"""

from __future__ import annotations

import importlib

from miaudit.monitor.detectors.base import (
    Detector,
    GroupDetector,
    KeyView,
    Neighbour,
    Query,
    RegistryView,
    by_priority,
    detector,
    names,
    register,
    registered,
    unregister,
)
from miaudit.monitor.settings import HASH_ABOVE, Settings

#: The built-in detectors' modules, in registration order (the order of MIA201-MIA209). A
#: module registers its detector when imported; a detector of your own registers from your
#: module, wherever it lives.
BUILT_IN = (
    "training_overlap",
    "calibration",
    "near_duplicates",
    "boundary_walk",
    "harvesting",
    "volume",
    "campaign",
    "client",
    "line_search",
)
for _module in BUILT_IN:
    importlib.import_module(f"{__name__}.{_module}")

#: Every registered detector's description, by name, in registration order.
DETECTORS: RegistryView = RegistryView(lambda cls: cls.description)
#: Every registered detector's SARIF rule id (fixed per detector), by name.
RULE_IDS: RegistryView = RegistryView(lambda cls: cls.rule_id)

__all__ = [
    "DETECTORS",
    "HASH_ABOVE",
    "RULE_IDS",
    "Detector",
    "GroupDetector",
    "KeyState",
    "KeyView",
    "Neighbour",
    "Query",
    "Settings",
    "by_priority",
    "detector",
    "names",
    "register",
    "registered",
    "unregister",
]


def __getattr__(name: str) -> object:
    """``KeyState`` lived here before the detectors became one module each."""
    if name == "KeyState":
        from miaudit.monitor.state import KeyState

        return KeyState
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
