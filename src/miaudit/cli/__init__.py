"""The ``miaudit`` command line — one module per command. Exit codes: 0 success, 1 a
``--fail-on`` gate or baseline failed, 2 bad input or usage."""

import click

from miaudit._version import __version__
from miaudit.cli.attacks import list_attacks
from miaudit.cli.audit import audit_command
from miaudit.cli.compare import compare_command
from miaudit.cli.demo import demo
from miaudit.cli.monitor import monitor_group
from miaudit.cli.scan import scan_command
from miaudit.cli.serve import keys_group, log_group, serve_command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="miaudit")
def main() -> None:
    """Audit machine-learning models for membership inference (MITRE ATLAS AML.T0024.000)."""


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
