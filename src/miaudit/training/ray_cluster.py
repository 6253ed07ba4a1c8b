"""Moved to :mod:`miaudit.executors.ray` (the Ray executor and its cluster connection); these
names stay importable from here for the CLI's ``--verbose`` switch and older imports."""

from __future__ import annotations

from miaudit.executors.ray import check_reachable, ray_session, set_verbose, token_available

__all__ = ["check_reachable", "ray_session", "set_verbose", "token_available"]
