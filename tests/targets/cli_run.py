"""Shared by the target tests that go through the command line: record files a user would
have, and ``miaudit audit`` run as a user would run it (a subprocess)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np


def write_records(folder: Path, name: str, x: np.ndarray, y: np.ndarray) -> Path:
    """``folder/name.csv``: columns f0, f1, … and ``label``."""
    path = folder / f"{name}.csv"
    header = ",".join([f"f{i}" for i in range(x.shape[1])] + ["label"])
    np.savetxt(path, np.column_stack([x, y]), delimiter=",", header=header, comments="")
    return path


def audit_cli(
    cwd: Path, *args: str, formats: str = "json", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``miaudit audit ARGS --quiet --format FORMATS`` in ``cwd``."""
    return subprocess.run(
        [sys.executable, "-m", "miaudit", "audit", *args, "--quiet", "--format", formats],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
    )
