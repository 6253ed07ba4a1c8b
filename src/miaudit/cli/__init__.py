"""The ``miaudit`` command line — one module per command. Exit codes: 0 success, 1 a
``--fail-on`` gate or baseline failed, 2 bad input or usage, 3 a bug in miaudit (reported in
one paragraph; ``MIAUDIT_DEBUG=1`` shows the traceback), 130 interrupted."""

import importlib
import os
import sys
from typing import Any

import click
from rich.console import Console
from rich.markup import escape

from miaudit._version import __version__
from miaudit.cli.exits import input_errors_exit_2
from miaudit.cli.plugins import ENVIRONMENT, load_plugins

EXIT_BUG, EXIT_INTERRUPTED = 3, 130

#: Each command's module and object, imported when the command runs (or ``--help`` lists
#: it): ``miaudit monitor`` and ``miaudit serve`` do not load the attacks and reports.
COMMANDS = {
    "attacks": ("miaudit.cli.attacks", "list_attacks"),
    "audit": ("miaudit.cli.audit", "audit_command"),
    "compare": ("miaudit.cli.compare", "compare_command"),
    "demo": ("miaudit.cli.demo", "demo"),
    "keys": ("miaudit.cli.serve", "keys_group"),
    "log": ("miaudit.cli.serve", "log_group"),
    "monitor": ("miaudit.cli.monitor", "monitor_group"),
    "scan": ("miaudit.cli.scan", "scan_command"),
    "serve": ("miaudit.cli.serve", "serve_command"),
}


class _Guarded(click.Group):
    """A bug is one clear paragraph and exit 3, not a traceback that CI would read as a failed
    gate (exit 1); Ctrl-C says what was kept. Commands load lazily (:data:`COMMANDS`)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        found = super().get_command(ctx, cmd_name)
        if found is None and cmd_name in COMMANDS:
            module, name = COMMANDS[cmd_name]
            found = getattr(importlib.import_module(module), name)
            assert isinstance(found, click.Command) and found.name == cmd_name, cmd_name
        return found

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except KeyboardInterrupt:
            Console(stderr=True).print(
                "interrupted: reports were not written; reference models already trained are "
                "kept in --cache-dir (when given) and are not trained again",
                highlight=False,
            )
            sys.exit(EXIT_INTERRUPTED)
        except Exception as exc:
            if os.environ.get("MIAUDIT_DEBUG"):
                raise
            Console(stderr=True).print(
                f"[bold red]internal error:[/] {escape(type(exc).__name__)}: "
                f"{escape(str(exc)[:500])}\nThis is a bug in miaudit, not in your input. "
                "Please report it with the command you ran; MIAUDIT_DEBUG=1 shows the traceback.",
                highlight=False,
            )
            sys.exit(EXIT_BUG)


@click.group(cls=_Guarded, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="miaudit")
@click.option(
    "--plugin",
    "plugins",
    multiple=True,
    metavar="MODULE",
    help=f"Import MODULE first (repeatable): attacks, target kinds, formats, sections or "
    f"detectors of your own. Also ${ENVIRONMENT} (comma-separated) and installed "
    "'miaudit.plugins' entry points.",
)
@input_errors_exit_2
def main(plugins: tuple[str, ...]) -> None:
    """Audit machine-learning models for membership inference (MITRE ATLAS AML.T0024.000)."""
    load_plugins(plugins)


__all__ = ["main"]
