"""The ``miaudit`` command line — one module per command. Exit codes: 0 success, 1 a
``--fail-on`` gate or baseline failed, 2 bad input or usage, 3 a bug in miaudit (reported in
one paragraph; ``MIAUDIT_DEBUG=1`` shows the traceback), 130 interrupted."""

import os
import sys
from typing import Any

import click
from rich.console import Console
from rich.markup import escape

from miaudit._version import __version__
from miaudit.cli.attacks import list_attacks
from miaudit.cli.audit import audit_command
from miaudit.cli.common import input_errors_exit_2
from miaudit.cli.compare import compare_command
from miaudit.cli.demo import demo
from miaudit.cli.monitor import monitor_group
from miaudit.cli.plugins import ENVIRONMENT, load_plugins
from miaudit.cli.scan import scan_command
from miaudit.cli.serve import keys_group, log_group, serve_command

EXIT_BUG, EXIT_INTERRUPTED = 3, 130


class _Guarded(click.Group):
    """A bug is one clear paragraph and exit 3, not a traceback that CI would read as a failed
    gate (exit 1); Ctrl-C says what was kept."""

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


main.add_command(demo)
main.add_command(audit_command)
main.add_command(list_attacks)
main.add_command(compare_command)
main.add_command(serve_command)
main.add_command(keys_group)
main.add_command(log_group)
main.add_command(scan_command)
main.add_command(monitor_group)

__all__ = ["main"]
