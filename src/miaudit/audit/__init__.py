"""The audit: one pipeline for every kind of model, configured by frozen options."""

from miaudit.audit.inputs import Records
from miaudit.audit.options import AuditOptions, LanguageModelOptions, ReferenceOptions
from miaudit.audit.pipeline import audit
from miaudit.audit.progress import Progress

__all__ = [
    "AuditOptions",
    "LanguageModelOptions",
    "Progress",
    "Records",
    "ReferenceOptions",
    "audit",
]
