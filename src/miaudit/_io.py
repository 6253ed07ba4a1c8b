"""Atomic file writes: a reader never sees a half-written report, baseline or cache entry."""

from __future__ import annotations

import os
from pathlib import Path


def atomic_write_text(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file in the same folder; return it.
    A failure leaves no temporary file behind and says which file could not be written."""
    from miaudit.errors import InputError

    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise InputError(f"cannot write {path}: {exc.strerror}") from None
    return path


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
