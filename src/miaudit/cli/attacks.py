"""``miaudit attacks``: every attack, the kind of model it is for, and what it needs — written
from each attack's declared requirements."""

from __future__ import annotations

import click
from rich.console import Console
from rich.table import Table

from miaudit.attacks import REGISTRY


@click.command(name="attacks")
def list_attacks() -> None:
    """List the attacks and what each needs from the target."""
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
    Console(width=max(Console().width, 120)).print(table)
