"""The validation boundary: every bad input gets an InputError that names the problem."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from miaudit.data import RecordSet, check_audit_sets
from miaudit.errors import InputError


def records(n: int = 30, seed: int = 0, name: str = "members", offset: int = 0) -> RecordSet:
    rng = np.random.default_rng(seed)
    return RecordSet.from_arrays(
        rng.normal(size=(n, 3)),
        rng.integers(0, 2, n),
        [f"{name}-{i + offset}" for i in range(n)],
        name,
    )


@pytest.mark.parametrize(
    ("features", "labels", "message"),
    [
        (np.zeros((5, 2)), np.zeros(4), "shape mismatch"),
        (np.array([[1.0, np.nan]] * 3), np.zeros(3), "NaN/inf"),
        (np.array([[1.0, np.inf]] * 3), np.zeros(3), "NaN/inf"),
        (np.zeros((0, 2)), np.zeros(0), "empty"),
        (np.zeros((3, 2, 2)), np.zeros(3), "2-D"),
        (np.array([["a", "b"]] * 3), np.zeros(3), "must be real numbers"),
        (np.zeros((3, 2)), np.array([0.0, np.nan, 1.0]), "NaN or inf"),
    ],
)
def test_bad_arrays(features: np.ndarray, labels: np.ndarray, message: str) -> None:
    with pytest.raises(InputError, match=message):
        RecordSet.from_arrays(features, labels, name="members")


def test_duplicate_ids() -> None:
    with pytest.raises(InputError, match="duplicate record ids"):
        RecordSet.from_arrays(np.zeros((3, 1)), [0, 1, 0], ["a", "b", "a"], name="members")


def test_frame_with_undeclared_text_column_and_declared_one() -> None:
    frame = pd.DataFrame({"age": [30, 40, 50], "city": ["x", "y", "z"], "label": [0, 1, 0]})
    with pytest.raises(InputError, match=r"non-numeric feature columns \['city'\]"):
        RecordSet.from_frame(frame, "label")
    records_ = RecordSet.from_frame(frame, "label", categorical=["city"])
    assert list(records_.features.columns) == ["age", "city"]
    with pytest.raises(InputError, match="no label column 'target'"):
        RecordSet.from_frame(frame, "target")


def test_an_undeclared_id_like_column_is_named_with_the_id_flag() -> None:
    """A distinct string per row is a record id, not a feature: the error names --id-column
    (advice to declare it categorical would feed the ids to the model)."""
    frame = pd.DataFrame(
        {"sample_id": [f"s{i}" for i in range(40)], "x": range(40), "label": [0, 1] * 20}
    )
    with pytest.raises(InputError, match=r"'sample_id'.*--id-column sample_id, config: data\.id"):
        RecordSet.from_frame(frame, "label")
    frame["city"] = ["a", "b"] * 20  # repeated values: a categorical column, not an id
    with pytest.raises(InputError, match=r"non-numeric feature columns \['city'\]"):
        RecordSet.from_frame(frame, "label", id_column="sample_id")


def test_csv_round_trip_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    pd.DataFrame({"id": ["p1", "p2"], "x": [1.0, 2.0], "label": [0, 1]}).to_csv(path, index=False)
    loaded = RecordSet.from_file(path, "label", "id", name="members")
    assert loaded.ids.tolist() == ["p1", "p2"] and loaded.features.shape == (2, 1)
    with pytest.raises(InputError, match="file not found"):
        RecordSet.from_file(tmp_path / "nope.csv")
    with pytest.raises(InputError, match="unsupported file type"):
        (tmp_path / "m.xlsx").write_text("x")
        RecordSet.from_file(tmp_path / "m.xlsx")


def test_parquet_and_npz(tmp_path: Path) -> None:
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0], "label": [0, 1, 1]})
    frame.to_parquet(tmp_path / "r.parquet")
    assert len(RecordSet.from_file(tmp_path / "r.parquet")) == 3
    np.savez(tmp_path / "r.npz", features=np.ones((3, 2)), labels=np.array([0, 1, 0]))
    assert RecordSet.from_file(tmp_path / "r.npz").features.shape == (3, 2)


def test_tiny_sets_rejected() -> None:
    with pytest.raises(InputError, match="only 5 records"):
        check_audit_sets(records(5), records(30, 1, "non-members"))


def test_single_class_rejected() -> None:
    a = RecordSet.from_arrays(
        np.random.default_rng(0).normal(size=(25, 2)), np.zeros(25), name="members"
    )
    b = RecordSet.from_arrays(
        np.random.default_rng(1).normal(size=(25, 2)), np.zeros(25), name="non-members"
    )
    with pytest.raises(InputError, match="single class"):
        check_audit_sets(a, b)


def test_labels_outside_model_classes() -> None:
    with pytest.raises(InputError, match=r"labels \[1\] are not among the model's classes"):
        check_audit_sets(records(), records(30, 1, "non-members"), classes=np.array([0, 2]))


def test_overlap_by_id_and_by_identical_row() -> None:
    members = records()
    same_ids = RecordSet.from_arrays(
        np.ones((30, 3)), np.arange(30) % 2, members.ids, "non-members"
    )
    with pytest.raises(InputError, match="share 30 record ids"):
        check_audit_sets(members, same_ids)
    copied_rows = RecordSet.from_arrays(
        members.features, members.labels, [f"other-{i}" for i in range(30)], "non-members"
    )
    with pytest.raises(InputError, match="identical feature rows"):
        check_audit_sets(members, copied_rows)
    check_audit_sets(members, copied_rows, allow_overlap=True)  # the explicit escape hatch


def test_feature_width_mismatch() -> None:
    narrow = RecordSet.from_arrays(
        np.zeros((30, 2)) + np.arange(30)[:, None], np.arange(30) % 2, name="non-members"
    )
    with pytest.raises(InputError, match="feature counts differ"):
        check_audit_sets(records(), narrow)
