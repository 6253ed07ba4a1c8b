"""Canary exposure for language models — the public home of :func:`canary_exposure` and
:class:`CanaryFormat` (implemented in :mod:`miaudit.audit.canary`)."""

from miaudit.audit.canary import CanaryExposure, CanaryFormat, CanaryReport, canary_exposure

__all__ = ["CanaryExposure", "CanaryFormat", "CanaryReport", "canary_exposure"]
