"""Defences compared on privacy and utility: :func:`compare` trains and audits each variant
of a model (its reference models with the variant's own recipe); :func:`one_run_audit` bounds
a training run's ε from canaries, with no retraining."""

from miaudit.defences.compare import Comparison, VariantResult, compare
from miaudit.defences.one_run import OneRunResult, one_run_audit

__all__ = ["Comparison", "OneRunResult", "VariantResult", "compare", "one_run_audit"]
