"""Shared by the target tests that go through the command line: record files a user would
have, and ``miaudit audit`` run as a user would run it — in process, through the same ``main``
and with the same exit codes and output as ``python -m miaudit`` (tests/cli_in_process.py;
tests/cli/test_cli.py proves the entry point itself in a subprocess)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np

from cli_in_process import run_in_process


def write_records(folder: Path, name: str, x: np.ndarray, y: np.ndarray) -> Path:
    """``folder/name.csv``: columns f0, f1, … and ``label``."""
    path = folder / f"{name}.csv"
    header = ",".join([f"f{i}" for i in range(x.shape[1])] + ["label"])
    np.savetxt(path, np.column_stack([x, y]), delimiter=",", header=header, comments="")
    return path


def audit_cli(
    cwd: Path, *args: str, formats: str = "json", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``miaudit audit ARGS --quiet --format FORMATS`` in ``cwd``, in process; ``env``, if
    given, is the command's whole environment (as ``subprocess.run`` takes it)."""
    command = ["audit", *args, "--quiet", "--format", formats]
    if env is not None:
        return run_in_process(command, cwd=cwd, env=env, replace_env=True)
    return run_in_process(command, cwd=cwd)
