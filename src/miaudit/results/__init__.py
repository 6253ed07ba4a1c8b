"""Results: plain frozen dataclasses — what an audit found and what the gate decided. They
serialise their own data, and read it back, through one serialiser derived from their fields
(:mod:`miaudit.results.serial`); parts beyond the built-in ones are typed sections
(:mod:`miaudit.results.sections`). Interpretation lives in :mod:`miaudit.assess`, formats in
:mod:`miaudit.report`."""

from miaudit.results.audit import (
    MODEL_FREE_ATTACKS,
    SCHEMA,
    AttackResult,
    AuditResult,
    AuditSettings,
    ClassSlice,
    ModelUtility,
    RecordRisk,
    ScoreTable,
    SkippedAttack,
    fpr_key,
    register_presenter,
)
from miaudit.results.gate import Check, Verdict
from miaudit.results.load import read_result, result_from_dict
from miaudit.results.sections import SECTION_TYPES, Section, register_section

__all__ = [
    "MODEL_FREE_ATTACKS",
    "SCHEMA",
    "SECTION_TYPES",
    "AttackResult",
    "AuditResult",
    "AuditSettings",
    "Check",
    "ClassSlice",
    "ModelUtility",
    "RecordRisk",
    "ScoreTable",
    "Section",
    "SkippedAttack",
    "Verdict",
    "fpr_key",
    "read_result",
    "register_presenter",
    "register_section",
    "result_from_dict",
]
