"""``miaudit._io``: a file is replaced whole or not at all."""

from __future__ import annotations

import os

import numpy as np
import pytest

from miaudit._io import atomic_path, atomic_write_bytes, atomic_write_text
from miaudit.errors import InputError


def test_atomic_path_replaces_the_file_only_when_the_block_succeeds(tmp_path):
    path = tmp_path / "report.json"
    path.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(path) as tmp:
        tmp.write_text("half")
        raise RuntimeError("interrupted")
    assert path.read_text() == "old"
    assert os.listdir(tmp_path) == ["report.json"]  # no temporary file left behind
    with atomic_path(path) as tmp:
        assert tmp.parent == path.parent and tmp != path
        tmp.write_text("new")
        assert path.read_text() == "old"  # a reader still sees the whole old file
    assert path.read_text() == "new"
    assert os.listdir(tmp_path) == ["report.json"]


def test_atomic_path_keeps_a_suffix_for_writers_that_add_their_own(tmp_path):
    path = tmp_path / "outputs.npz"
    with atomic_path(path, suffix=".npz") as tmp:
        assert tmp.name.endswith(".npz")
        np.savez(tmp, values=np.arange(3))
    assert np.load(path)["values"].tolist() == [0, 1, 2]
    assert os.listdir(tmp_path) == ["outputs.npz"]


def test_a_write_that_cannot_happen_names_the_file(tmp_path):
    missing = tmp_path / "no-such-folder" / "report.json"
    with pytest.raises(InputError, match=r"cannot write .*report\.json"):
        atomic_write_text(missing, "x")
    assert atomic_write_bytes(tmp_path / "b.bin", b"\x00\x01").read_bytes() == b"\x00\x01"
