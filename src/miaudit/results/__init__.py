"""Results: plain frozen dataclasses — what an audit found and what the gate decided. They
serialise their own data; interpretation lives in :mod:`miaudit.assess`, formats in
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

__all__ = [
    "MODEL_FREE_ATTACKS",
    "SCHEMA",
    "AttackResult",
    "AuditResult",
    "AuditSettings",
    "Check",
    "ClassSlice",
    "ModelUtility",
    "RecordRisk",
    "ScoreTable",
    "SkippedAttack",
    "Verdict",
    "fpr_key",
    "read_result",
    "register_presenter",
    "result_from_dict",
]
