"""The keyed-hash training index and the per-key training-set overlap (issue 14, first part)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cli_in_process import run_in_process
from miaudit.errors import InputError
from miaudit.monitor import TrainingIndex, load_secret, overlap_by_key
from miaudit.querylog import QueryRecord, write_jsonl

SECRET = b"0123456789abcdef-test-secret"


def test_near_matches_hit_and_others_miss(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    train, fresh = rng.normal(size=(500, 6)), rng.normal(size=(500, 6))
    index = TrainingIndex.build(train.tolist(), SECRET, decimals=4)
    assert all(index.contains_exact(r) for r in train.tolist())
    assert all(index.contains_exact(r) for r in (train + 1e-9).tolist())  # float noise
    assert not any(index.contains_exact(r) for r in fresh.tolist())
    assert not index.contains(None)
    # by proximity (radius 0.1 sd): near copies hit, fresh records rarely do. Measured on this
    # seed: 500/500 at 0.02 sd, 13/500 fresh (the bench's curve: about 2-3% at 6-30 features);
    # the bounds leave room for another seed of the projections
    assert index.radius == 0.1
    nudged = train + rng.normal(scale=0.02 * train.std(axis=0), size=train.shape)
    assert not any(index.contains_exact(r) for r in nudged.tolist())
    assert sum(index.contains(r) for r in nudged.tolist()) >= 495
    assert sum(index.contains(r) for r in fresh.tolist()) <= 30
    exact_only = TrainingIndex.build(train.tolist(), SECRET, radius=None)
    assert exact_only.radius is None and not any(exact_only.contains(r) for r in nudged.tolist())
    texts = TrainingIndex.build(["Patient  had Flu ", "other"], SECRET)
    assert texts.contains("patient had flu") and not texts.contains("patient had covid")
    # saved and loaded with the same secret: the same answers; the file holds no raw values
    path = index.save(tmp_path / "train.idx.npz")
    loaded = TrainingIndex.load(path, SECRET)
    assert len(loaded) == 500 and loaded.contains(train[7].tolist())
    assert loaded.radius == 0.1 and loaded.contains(nudged[7].tolist())
    assert [loaded.contains(r) for r in fresh[:100].tolist()] == [
        index.contains(r) for r in fresh[:100].tolist()
    ]
    raw = path.read_bytes()
    assert f"{train[7][0]:.4f}".encode() not in raw and train.tobytes()[:16] not in raw
    with pytest.raises(InputError, match="another secret"):
        TrainingIndex.load(path, b"a-different-secret-of-length")
    with pytest.raises(InputError, match="not a miaudit training index"):
        TrainingIndex.load(tmp_path / "missing.npz", SECRET)
    (tmp_path / "garbage.npz").write_bytes(b"garbage\n")  # np.load would suggest unpickling it
    with pytest.raises(InputError, match="not an NPZ archive") as refused:
        TrainingIndex.load(tmp_path / "garbage.npz", SECRET)
    assert "pickle" not in str(refused.value)


def test_the_secret_must_be_given_and_long_enough(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MIAUDIT_INDEX_SECRET", raising=False)
    with pytest.raises(InputError, match="at least 16 bytes"):
        load_secret()
    monkeypatch.setenv("MIAUDIT_INDEX_SECRET", "short")
    with pytest.raises(InputError, match="at least 16 bytes"):
        load_secret()
    monkeypatch.setenv("MIAUDIT_INDEX_SECRET", SECRET.decode())
    assert load_secret() == SECRET


def test_overlap_per_key_from_the_command_line(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    train, fresh = rng.normal(size=(200, 4)), rng.normal(size=(200, 4))
    frame = pd.DataFrame(train, columns=list("abcd")).assign(y=rng.integers(0, 2, 200))
    frame.to_csv(tmp_path / "train.csv", index=False)
    env = {"MIAUDIT_INDEX_SECRET": SECRET.decode()}
    index_file = str(tmp_path / "train.idx.npz")
    done = run_in_process(
        ["monitor", "index", "--records", str(tmp_path / "train.csv"), "--label-column", "y",
         "--out", index_file, "--radius", "0"],
        env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "exact matches only" in done.stdout  # proximity: test_near_matches_hit_...
    # an attacker alternating 50 training records with 50 fresh ones; a user on fresh records
    log = (
        [
            QueryRecord(
                float(i),
                "attacker",
                f"a{i}",
                "m",
                (train if i % 2 else fresh)[i // 2].tolist(),
                [0.5, 0.5],
                "full",
                200,
            )
            for i in range(100)
        ]
        + [
            QueryRecord(
                float(i), "user", f"u{i}", "m", fresh[100 + i].tolist(), 1, "label-only", 200
            )
            for i in range(50)
        ]
        + [QueryRecord(0.0, "", "x", "m", None, None, "", 401)]
    )
    write_jsonl(log, tmp_path / "log.jsonl")
    from miaudit.querylog import read_jsonl

    index = TrainingIndex.load(tmp_path / "train.idx.npz", SECRET)
    found = {o.key: o for o in overlap_by_key(read_jsonl(tmp_path / "log.jsonl"), index)}
    assert (found["attacker"].queries, found["attacker"].hits) == (100, 50)
    assert found["user"].hits == 0 and "" not in found  # a refused query has no input
    overlap = ["monitor", "overlap", str(tmp_path / "log.jsonl"), "--index", index_file]
    shown = run_in_process(overlap, env=env)
    assert shown.returncode == 0 and "50.0%" in shown.stdout
    no_secret = run_in_process(overlap, env={"MIAUDIT_INDEX_SECRET": None})
    assert no_secret.returncode == 2 and "MIAUDIT_INDEX_SECRET" in no_secret.stderr


def test_records_too_close_together_for_the_radius_are_refused(tmp_path: Path) -> None:
    """Clustered records (20 prototypes, copies 0.01 apart): any fresh record of that
    distribution falls near a training one, so the index would call everything training.
    Estimated when built (half the records among the other half) and refused, with the fix;
    spread-out records build, and say their false-hit share."""
    rng = np.random.default_rng(3)
    prototypes = rng.normal(size=(20, 5))
    clustered = prototypes[rng.integers(0, 20, 400)] + rng.normal(scale=0.01, size=(400, 5))
    spread = rng.normal(size=(400, 12))
    env = {"MIAUDIT_INDEX_SECRET": SECRET.decode()}
    for name, rows in (("clustered", clustered), ("spread", spread)):
        frame = pd.DataFrame(rows, columns=[f"f{i}" for i in range(rows.shape[1])])
        frame.assign(y=0).to_csv(tmp_path / f"{name}.csv", index=False)
    args = ["monitor", "index", "--label-column", "y", "--out", str(tmp_path / "i.npz")]
    refused = run_in_process([*args, "--records", str(tmp_path / "clustered.csv")], env=env)
    assert refused.returncode == 2 and "smaller --radius" in refused.stderr
    assert "Traceback" not in refused.stderr and not (tmp_path / "i.npz").exists()
    built = run_in_process([*args, "--records", str(tmp_path / "spread.csv")], env=env)
    assert built.returncode == 0 and "false hits" in built.stdout
    index = TrainingIndex.load(tmp_path / "i.npz", SECRET)
    assert index.proximity is not None and index.proximity.heldout_hit_rate < 0.1
