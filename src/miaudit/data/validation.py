"""Checks across the sets of one audit: tiny sets, a single class, labels the model does not
know, shared ids, and records that are both members and non-members. Validation of record sets
lives here and in the record types' constructors, nowhere else."""

from __future__ import annotations

import numpy as np
import pandas as pd

from miaudit.data._checks import MIN_RECORDS
from miaudit.data.records import FeatureMatrix, RecordSet
from miaudit.data.texts import TextRecords
from miaudit.errors import InputError


def _row_hashes(features: FeatureMatrix) -> np.ndarray:
    frame = features if isinstance(features, pd.DataFrame) else pd.DataFrame(features)
    frame = frame.copy()
    frame.columns = range(frame.shape[1])
    return pd.util.hash_pandas_object(frame, index=False).to_numpy()


def check_audit_sets(
    members: RecordSet,
    nonmembers: RecordSet,
    population: RecordSet | None = None,
    classes: np.ndarray | None = None,
    allow_overlap: bool = False,
) -> None:
    """Checks across the audit's sets; raise :class:`InputError` naming the first problem."""
    for records in (members, nonmembers):
        if len(records) < MIN_RECORDS:
            raise InputError(
                f"{records.name}: only {len(records)} records; an audit needs at least "
                f"{MIN_RECORDS} members and {MIN_RECORDS} non-members"
            )
    sets = [members, nonmembers] + ([population] if population is not None else [])
    widths = {r.name: r.features.shape[1] for r in sets}
    if len(set(widths.values())) > 1:
        raise InputError(f"feature counts differ between sets: {widths}")
    audit_labels = np.concatenate([members.labels, nonmembers.labels])
    if len(np.unique(audit_labels.astype(str))) < 2:
        raise InputError(
            f"members and non-members hold a single class ({audit_labels[0]!r}); membership "
            "inference needs a classifier over at least two classes"
        )
    if classes is not None:
        known = set(np.asarray(classes).tolist())
        for records in sets:
            outside = sorted({v for v in records.labels.tolist() if v not in known}, key=str)
            if outside:
                raise InputError(
                    f"{records.name}: labels {outside[:5]} are not among the model's classes "
                    f"{sorted(known, key=str)[:10]}"
                )
    for a, b in [(members, nonmembers)] + (
        [(members, population), (nonmembers, population)] if population is not None else []
    ):
        shared = np.intersect1d(a.ids.astype(str), b.ids.astype(str))
        if len(shared):
            raise InputError(
                f"{a.name} and {b.name} share {len(shared)} record ids, e.g. {shared[:3].tolist()}"
            )
        if allow_overlap or a.features.shape[1] == 0:
            continue
        common = np.intersect1d(_row_hashes(a.features), _row_hashes(b.features))
        if len(common):
            raise InputError(
                f"{a.name} and {b.name} share {len(common)} identical feature rows; a record "
                "cannot be both a member and a non-member. Remove the duplicates, or pass "
                "allow_overlap=True (CLI: --allow-overlap) if they are distinct records"
            )


def check_text_sets(
    members: TextRecords,
    nonmembers: TextRecords,
    population: TextRecords | None = None,
    allow_overlap: bool = False,
) -> None:
    for records in (members, nonmembers):
        if len(records) < MIN_RECORDS:
            raise InputError(
                f"{records.name}: only {len(records)} texts; an audit needs at "
                f"least {MIN_RECORDS} members and {MIN_RECORDS} non-members"
            )
    pairs = [(members, nonmembers)] + (
        [(members, population), (nonmembers, population)] if population is not None else []
    )
    for a, b in pairs:
        shared = np.intersect1d(a.ids.astype(str), b.ids.astype(str))
        if len(shared):
            raise InputError(
                f"{a.name} and {b.name} share {len(shared)} record ids, e.g. {shared[:3].tolist()}"
            )
        if not allow_overlap:
            common = set(a.texts.tolist()) & set(b.texts.tolist())
            if common:
                raise InputError(
                    f"{a.name} and {b.name} share {len(common)} identical texts, e.g. "
                    f"{next(iter(common))[:60]!r}; a text cannot be both a member and a "
                    "non-member (pass allow_overlap=True if they are distinct records)"
                )
