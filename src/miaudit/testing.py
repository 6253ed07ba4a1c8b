"""Membership-inference checks inside a team's own test suite — the public home of
:func:`assert_no_membership_leakage` (implemented in :mod:`miaudit.integrations.testing`)."""

from miaudit.integrations.testing import assert_no_membership_leakage

__all__ = ["assert_no_membership_leakage"]
