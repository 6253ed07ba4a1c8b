"""An :class:`AuditResult` read back from its ``report.json`` (schema ``miaudit.report/1``).

Everything the report holds comes back, so the result renders, gates and compares as it did:
``result_from_dict(json.load(f)).to_dict()`` equals the file's object. What the JSON never
held stays out: per-record scores (``score_table``: the score histograms and ``scores.csv``)
and the threshold of the Gaussian ε bound. Written for ``miaudit compare``'s resumable cache
and for rendering a saved report again.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from miaudit.errors import InputError
from miaudit.metrics import EpsilonBound, Estimate, GdpBound, TprAtFpr
from miaudit.results.audit import (
    SCHEMA,
    AttackResult,
    AuditResult,
    AuditSettings,
    ClassSlice,
    ModelUtility,
    RecordRisk,
    SkippedAttack,
)
from miaudit.results.gate import Check, Verdict
from miaudit.targets.exposure import Exposure


def _ci(value: Any) -> tuple[float, float] | None:
    return (float(value[0]), float(value[1])) if value is not None else None


def _estimate(entry: dict[str, Any]) -> Estimate:
    """An ``{"value", "ci", "note" | "reason"}`` object."""
    if entry.get("value") is None:
        return Estimate(None, reason=entry.get("reason"))
    return Estimate(entry["value"], _ci(entry.get("ci")), entry.get("note"))


def _flat(data: dict[str, Any], key: str) -> Estimate:
    """A ``key`` / ``key_ci`` pair."""
    return Estimate(data[key], _ci(data.get(f"{key}_ci")))


def _tpr(fpr: str, entry: dict[str, Any]) -> TprAtFpr:
    achieved = entry.get("achieved_fpr")
    return TprAtFpr(
        float(fpr),
        _estimate(entry),
        entry.get("threshold"),
        _estimate(achieved) if achieved is not None else None,
    )


def _slice(entry: dict[str, Any]) -> ClassSlice:
    auc = (
        Estimate(None, reason=entry.get("reason")) if entry["auc"] is None else _flat(entry, "auc")
    )
    return ClassSlice(entry["label"], entry["n_members"], entry["n_nonmembers"], auc)


def _attack(data: dict[str, Any]) -> AttackResult:
    gdp = data.get("epsilon_gdp")
    return AttackResult(
        name=data["name"],
        description=data["description"],
        auc=_flat(data, "auc"),
        tpr_at_fpr=tuple(_tpr(f, e) for f, e in data["tpr_at_fpr"].items()),
        advantage=_flat(data, "advantage"),
        balanced_accuracy=_flat(data, "balanced_accuracy"),
        advantage_threshold=data["advantage_threshold"],
        epsilon=EpsilonBound(**data["epsilon"]),
        roc_fpr=tuple(data["roc"]["fpr"]),
        roc_tpr=tuple(data["roc"]["tpr"]),
        at_risk=tuple(RecordRisk(**r) for r in data["at_risk"]),
        slices=tuple(_slice(s) for s in data["slices"]),
        calibrated_by=data.get("calibrated_by", ""),
        access=data.get("access", ""),
        queries_per_record=data.get("queries_per_record"),
        method=data.get("method", ""),
        epsilon_gdp=(
            GdpBound(gdp["mu"], gdp["epsilon"], gdp["delta"], gdp["confidence"], None)
            if gdp
            else None
        ),
    )


def _verdict(data: dict[str, Any] | None) -> Verdict | None:
    if data is None:
        return None
    return Verdict(
        tuple(Check(**c) for c in data["checks"]),
        data.get("baseline"),
        data.get("tolerance", 0.0),
        data.get("soft_fail", False),
    )


def _exposure(target: dict[str, Any]) -> Exposure | None:
    try:
        return Exposure.parse(str(target.get("exposes")))
    except ValueError:
        return None


def result_from_dict(data: dict[str, Any]) -> AuditResult:
    """The result a ``report.json`` object describes; a clear error if it is not one."""
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        found = data.get("schema") if isinstance(data, dict) else type(data).__name__
        raise InputError(f"not a miaudit report: expected schema {SCHEMA!r}, found {found!r}")
    try:
        model, settings, dp = data["model"], data["settings"], data["differential_privacy"]
        return AuditResult(
            version=data["miaudit_version"],
            created=data["created"],
            target=data["target"],
            model=ModelUtility(
                _flat(model, "train_accuracy"),
                _flat(model, "test_accuracy"),
                _flat(model, "generalization_gap"),
            ),
            n_members=data["records"]["n_members"],
            n_nonmembers=data["records"]["n_nonmembers"],
            n_population=data["records"]["n_population"],
            attacks=tuple(_attack(a) for a in data["attacks"]),
            skipped=tuple(SkippedAttack(s["name"], s["reason"]) for s in data["skipped_attacks"]),
            settings=AuditSettings(
                settings["seed"],
                settings["delta"],
                settings["confidence"],
                tuple(settings["fprs"]),
                settings["calibration"],
            ),
            declared_dp_epsilon=dp["declared_epsilon"],
            epsilon_ceiling=dp.get("ceiling"),
            sensitive_data=data.get("sensitive_data", False),
            reference=data.get("reference_models"),
            notes=tuple(data.get("notes", ())),
            gate=_verdict(data.get("gate")),
            source=data.get("source"),
            exposure=_exposure(data["target"]),
            class_names=data.get("class_names"),
            subjects=data.get("subjects", "records"),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(
            f"report.json is incomplete or damaged ({exc!r}); write it again"
        ) from None


def read_result(path: str | Path) -> AuditResult:
    """The result saved in a ``report.json`` file."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
        raise InputError(f"{path} is not JSON ({exc}); pass a report.json") from None
    return result_from_dict(data)
