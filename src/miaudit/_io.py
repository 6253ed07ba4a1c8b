"""Atomic file writes: a reader never sees a half-written report, baseline or cache entry."""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import threading
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path: str | Path, suffix: str = "") -> Iterator[Path]:
    """A temporary path beside ``path`` to write to (by any means: ``np.savez``, a stream,
    ``Path.write_text``); on leaving the block without an error it replaces ``path`` in one
    step, so a reader sees the old file or the whole new one, never half of one. On an error
    the temporary file is removed and ``path`` is untouched; an ``OSError`` becomes an
    ``InputError`` that names the file. ``suffix`` is kept at the end of the temporary name for
    writers that append their own (``np.savez`` adds ``.npz`` unless the name ends in it).

    A file that is replaced keeps its permission bits (a report written ``0600`` stays
    private); a new file gets the umask's default. A symlink at ``path`` is written through:
    its target is replaced and the link itself is kept. The temporary name is short and of a
    fixed length (``.<hash>.tmp``), so any name that fits the file system can be written."""
    from miaudit.errors import InputError

    path = Path(path)
    # a symlink stays a symlink: the file it points to is the one replaced
    destination = Path(os.path.realpath(path)) if path.is_symlink() else path
    tmp = destination.with_name(_temporary_name(destination.name, suffix))
    try:
        yield tmp
        with contextlib.suppress(FileNotFoundError):
            os.chmod(tmp, stat.S_IMODE(destination.stat().st_mode))
        tmp.replace(destination)
    except OSError as exc:
        _discard(tmp)
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from None
    except BaseException:
        _discard(tmp)
        raise


def _temporary_name(name: str, suffix: str) -> str:
    """A hidden name unique to this file, process and thread, short whatever ``name`` is."""
    key = f"{name}\0{os.getpid()}\0{threading.get_ident()}".encode()
    return f".{hashlib.blake2b(key, digest_size=8).hexdigest()}.tmp{suffix}"


def _discard(tmp: Path) -> None:
    """Remove a temporary file after a failure; a cleanup that fails too (its folder is
    gone, or was never one) must not hide the error that is being raised."""
    with contextlib.suppress(OSError):
        tmp.unlink(missing_ok=True)


def atomic_write_text(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file in the same folder; return it.
    A failure leaves no temporary file behind and says which file could not be written."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def atomic_write_bytes(path: Path, data: bytes) -> Path:
    """``atomic_write_text`` for bytes."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def check_writable(path: str | Path, option: str, folder: bool) -> Path:
    """Fail before any work when ``path`` (a folder, or a file when ``folder`` is false) could
    not be written later: the nearest existing folder is probed by creating and removing a
    file in it (permission bits alone do not tell, e.g. for root or a read-only mount).
    Nothing is created."""
    from miaudit.errors import InputError

    path = Path(path)
    kind = "folder" if folder else "file"
    if path.exists() and path.is_dir() != folder:
        raise InputError(f"{option} {path} exists and is not a {kind}; give a {kind} path")
    existing = path if folder and path.is_dir() else path.parent
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise InputError(f"{option} {path}: {existing} is a file, so {path} cannot be created")
    probe = existing / f".miaudit-write-check.{os.getpid()}"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise InputError(
            f"{option} {path}: cannot write into {existing} ({exc.strerror}); choose a "
            "writable location"
        ) from None
    return path


def append_text(path: str | Path, text: str) -> Path:
    """Append ``text`` to a file another program owns and reads after we exit (GitHub's job
    summary): one ``write`` call of the whole text, never a replace, which would drop what
    earlier steps wrote. A failure names the file."""
    from miaudit.errors import InputError

    path = Path(path)
    try:
        with path.open("a", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        raise InputError(f"cannot append to {path}: {exc.strerror or exc}") from None
    return path
