"""The audit's inputs: the target (a bare model is wrapped) and its record sets, coerced to the
records its kind of model reads and checked once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from miaudit.audit.options import AuditOptions
from miaudit.data import RecordSet, TextRecords, check_audit_sets, check_text_sets
from miaudit.errors import InputError
from miaudit.targets import PrecomputedTarget, as_target
from miaudit.targets.interface import ClassifierTarget, Modality, Target
from miaudit.targets.wrap import refuse_bare_language_model

Records = RecordSet | tuple[Any, Any]
_PROBE_ROWS = 8


@dataclass(frozen=True, eq=False)
class AuditSets:
    """Members, non-members and (optionally) population, of one kind of records."""

    members: Any
    nonmembers: Any
    population: Any = None

    @property
    def present(self) -> list[Any]:
        return [s for s in (self.members, self.nonmembers, self.population) if s is not None]


def as_records(value: Any, name: str) -> RecordSet | None:
    """A :class:`RecordSet` (renamed to its role) or an ``(X, y)`` pair as records; ``None``
    stays ``None``."""
    if value is None:
        return None
    if isinstance(value, RecordSet):
        return value.for_role(name)
    if isinstance(value, tuple) and len(value) == 2:
        return RecordSet.from_arrays(value[0], value[1], name=name)
    raise InputError(f"{name}: pass a RecordSet or an (X, y) pair, got {type(value).__name__}")


def _texts(value: Any, name: str) -> TextRecords | None:
    if value is None:
        return None
    if isinstance(value, TextRecords):
        return value.for_role(name)
    return TextRecords.from_texts(value, name=name)


def prepare(
    model: Any, members: Any, nonmembers: Any, population: Any, options: AuditOptions
) -> tuple[Target, AuditSets]:
    """The target and its checked record sets."""
    refuse_bare_language_model(model)
    if isinstance(model, Target) and model.modality is Modality.LANGUAGE_MODEL:
        sets = AuditSets(
            _texts(members, "members"),
            _texts(nonmembers, "non-members"),
            _texts(population, "population"),
        )
        _require_both(sets)
        check_text_sets(sets.members, sets.nonmembers, sets.population, options.allow_overlap)
        return model, sets
    if members is None and nonmembers is None and isinstance(model, PrecomputedTarget):
        members, nonmembers, table_population = model.table.split()
        population = population if population is not None else table_population
    sets = AuditSets(
        as_records(members, "members"),
        as_records(nonmembers, "non-members"),
        as_records(population, "population"),
    )
    _require_both(sets)
    target = _wrap(model, sets)
    check_audit_sets(
        sets.members, sets.nonmembers, sets.population, target.classes, options.allow_overlap
    )
    return target, sets


def _require_both(sets: AuditSets) -> None:
    if sets.members is None or sets.nonmembers is None:
        raise InputError("members and non-members are both required")


def _wrap(model: Any, sets: AuditSets) -> ClassifierTarget:
    if isinstance(model, Target):
        assert isinstance(model, ClassifierTarget)
        return model
    features = sets.members.features
    probe = features.iloc[:_PROBE_ROWS] if hasattr(features, "iloc") else features[:_PROBE_ROWS]
    labels = np.concatenate([s.labels for s in sets.present])
    target = as_target(model, probe, labels)
    assert isinstance(target, ClassifierTarget)
    return target
