"""The pytest plugin: the ``miaudit_leakage`` fixture (registered through the ``pytest11``
entry point, so installing miaudit is enough)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def miaudit_leakage(tmp_path: Path) -> Callable[..., Any]:
    """:func:`miaudit.testing.assert_no_membership_leakage`, writing its report into the
    test's temporary folder."""
    from miaudit.integrations.testing import assert_no_membership_leakage

    def check(model: Any, members: Any, nonmembers: Any, **limits: Any) -> Any:
        limits.setdefault("report_dir", tmp_path / "miaudit-report")
        return assert_no_membership_leakage(model, members, nonmembers, **limits)

    return check
