"""``miaudit ARGS`` in the test process, with click's runner, for the tests that go through the
command line: the same exit code, stdout and stderr as ``python -m miaudit ARGS`` in a
subprocess, without paying the imports again for each command (seconds each under load).

A real subprocess stays where only it proves something: the entry point (``python -m miaudit``),
a fresh interpreter (lazy imports, ``sys.modules`` tricks), signals. tests/cli/test_cli.py and
tests/cli/test_ci.py keep those. Importable by name from any test folder (pytest puts ``tests/``
on ``sys.path`` for tests/conftest.py); tests reach it as the ``cli`` fixture."""

from __future__ import annotations

import os
import subprocess
import sys
import traceback
from collections.abc import Mapping, Sequence
from http.server import ThreadingHTTPServer
from pathlib import Path


def run_in_process(
    args: Sequence[str],
    cwd: Path | str | None = None,
    env: Mapping[str, str | None] | None = None,
    replace_env: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run ``miaudit ARGS`` here, in ``cwd`` (then back), with ``env`` laid over ``os.environ``
    for the call (``None`` removes a variable) — or, with ``replace_env``, as the whole
    environment, as ``subprocess.run(env=...)`` takes it. An exception that escapes the command
    comes back as its traceback on stderr (so ``"Traceback" not in stderr`` checks still hold)
    with exit code 1, as Python's own would."""
    from click.testing import CliRunner

    from miaudit.cli import main

    overlay: dict[str, str | None] = dict(env or {})
    if replace_env:
        overlay.update({name: None for name in os.environ if name not in overlay})
    previous = Path.cwd()
    try:
        if cwd is not None:
            os.chdir(cwd)
        result = CliRunner(env=overlay).invoke(
            main, list(args), catch_exceptions=True, prog_name="miaudit"
        )
    finally:
        os.chdir(previous)
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        stderr += "Traceback (most recent call last):\n" + "".join(
            traceback.format_exception(result.exception)
        )
    return subprocess.CompletedProcess(list(args), result.exit_code, result.stdout, stderr)


class QuietHTTPServer(ThreadingHTTPServer):
    """An HTTP server for a thread beside a command run in process: what a request thread
    raises (a client that gave up leaves a broken pipe behind) goes to ``errors``, not to
    stderr — which the runner is capturing as the command's own."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.errors: list[BaseException | None] = []

    def handle_error(self, request: object, client_address: object) -> None:
        self.errors.append(sys.exc_info()[1])
