"""``miaudit attacks``: every attack, the kind of model it is for, and what it needs — written
from each attack's declared requirements; ``--params``: every attack's parameters, from their
declarations."""

from __future__ import annotations

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from miaudit.attacks import REGISTRY


def _value(value: object) -> str:
    return "none" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def _parameters_table() -> Table:
    """One row per parameter of every attack: what it takes, its default, whether tuning
    chooses it, what it means."""
    table = Table(title="miaudit attack parameters", title_justify="left")
    for column in ("attack", "parameter", "takes", "default", "tuned over", "what it sets"):
        table.add_column(column)
    for name, attack in REGISTRY.items():
        for param in attack.parameters:
            tuned = ", ".join(_value(v) for v in param.tunable) if param.tunable else "no"
            cells = (name, param.name, param.allowed(), _value(param.default), tuned, param.help)
            table.add_row(*(escape(c) for c in cells))
    table.caption = escape(
        "Set with --attack-param ATTACK.NAME=VALUE, [audit.attack_params.ATTACK] in a config "
        "file, or attack_params={ATTACK: {NAME: VALUE}} in Python; a parameter set is never tuned."
    )
    return table


@click.command(name="attacks")
@click.option(
    "--params",
    "show_params",
    is_flag=True,
    help="List every attack's parameters: type and range, default, and the values tuning tries.",
)
def list_attacks(show_params: bool = False) -> None:
    """List the attacks and what each needs from the target (--params: their parameters)."""
    console = Console(width=max(Console().width, 120))
    if show_params:
        console.print(_parameters_table())
        return
    table = Table(title="miaudit attacks", title_justify="left")
    table.add_column("name")
    table.add_column("for")
    table.add_column("needs")
    table.add_column("what it does")
    for name, attack in REGISTRY.items():
        table.add_row(
            name,
            attack.requires.modality.value,
            attack.requires.describe(),
            attack.description,
        )
    console.print(table)
