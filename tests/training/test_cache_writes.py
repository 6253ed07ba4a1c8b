"""The reference-output cache and the reference-outputs file are written atomically: the entry
is whole or absent, never half-written, and no temporary file is left behind."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from miaudit.training import load_reference_outputs, save_reference_outputs
from miaudit.training.cache import OutputCache


def _half_written(path: Any, *args: Any, **kwargs: Any) -> None:
    """A writer that dies after writing part of the file (named, or an open handle)."""
    if hasattr(path, "write"):
        path.write(b"PK\x03\x04 half an archive")
    else:
        Path(path).write_bytes(b"PK\x03\x04 half an archive")
    raise KeyboardInterrupt


def test_cache_entries_keep_their_names_and_are_whole_or_absent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = OutputCache(tmp_path)
    values = np.random.default_rng(0).normal(size=(5, 3))
    cache.put("k1", "logits", values)
    design = cache.put_design("d1", np.array(["a", "b"]), np.ones((2, 2), bool), np.arange(2))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["design-d1.npz", "reference-k1.npz"]
    assert design == tmp_path / "design-d1.npz"
    kind, read = cache.get("k1")  # type: ignore[misc]
    assert kind == "logits" and np.array_equal(read, values)

    monkeypatch.setattr(np, "savez", _half_written)
    with pytest.raises(KeyboardInterrupt):
        cache.put("k2", "logits", values)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["design-d1.npz", "reference-k1.npz"]
    assert cache.get("k2") is None  # nothing half-written to misread: trained again


def test_a_reference_outputs_file_is_whole_or_absent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "refs.npz"
    arrays = {
        "ids": ["a", "b", "c"],
        "outputs": np.zeros((2, 3, 2)),
        "trained_on": np.array([[True, False, True], [False, True, False]]),
    }
    assert save_reference_outputs(path, **arrays) == path
    assert load_reference_outputs(path).n_models == 2
    monkeypatch.setattr(np, "savez_compressed", _half_written)
    with pytest.raises(KeyboardInterrupt):
        save_reference_outputs(path, **arrays)
    assert [p.name for p in tmp_path.iterdir()] == ["refs.npz"]  # the old file, untouched
    assert load_reference_outputs(path).n_models == 2
