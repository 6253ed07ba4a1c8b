"""``miaudit._io``: a file is replaced whole or not at all."""

from __future__ import annotations

import os
import stat

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


def test_a_parent_that_is_a_file_is_named_not_hidden_by_the_cleanup(tmp_path):
    (tmp_path / "afile").write_text("x")
    # the cleanup of the temporary file used to raise NotADirectoryError in its place
    with pytest.raises(InputError, match=r"cannot write .*afile/report\.json: Not a directory"):
        atomic_write_text(tmp_path / "afile" / "report.json", "{}")


def test_a_long_file_name_can_be_written(tmp_path):
    # the temporary name used to add ~30 characters: 'File name too long' for a name that fits
    name = "r" * (255 - len(".json")) + ".json"
    atomic_write_text(tmp_path / name, "{}")
    with atomic_path(tmp_path / name, suffix=".npz") as tmp:
        assert len(tmp.name) < 40
        tmp.write_text("[]")
    assert os.listdir(tmp_path) == [name]
    assert (tmp_path / name).read_text() == "[]"


def test_a_rewritten_file_keeps_its_mode_and_a_new_one_gets_the_default(tmp_path):
    private = tmp_path / "secret.json"
    private.write_text("old")
    private.chmod(0o600)
    atomic_write_text(private, "new")
    assert private.read_text() == "new"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    executable = tmp_path / "run.sh"
    executable.write_text("old")
    executable.chmod(0o750)
    atomic_write_bytes(executable, b"new")
    assert stat.S_IMODE(executable.stat().st_mode) == 0o750
    umask = os.umask(0)
    os.umask(umask)
    fresh = atomic_write_text(tmp_path / "fresh.json", "{}")
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o666 & ~umask


def test_a_symlink_is_written_through_to_its_target(tmp_path):
    (tmp_path / "data").mkdir()
    real = tmp_path / "data" / "real.json"
    real.write_text("old")
    real.chmod(0o640)
    link = tmp_path / "link.json"
    link.symlink_to(os.path.join("data", "real.json"))  # relative, as links usually are
    atomic_write_text(link, "new")
    assert link.is_symlink() and os.readlink(link) == os.path.join("data", "real.json")
    assert real.read_text() == "new" and link.read_text() == "new"
    assert stat.S_IMODE(real.stat().st_mode) == 0o640
    assert sorted(os.listdir(tmp_path)) == ["data", "link.json"]
    assert os.listdir(tmp_path / "data") == ["real.json"]
