"""``miaudit monitor``: the query-log monitor. So far ``monitor index`` (the keyed-hash index of
the training records) and ``monitor overlap`` (each key's share of queries on training records)."""

from __future__ import annotations

from pathlib import Path

import click
import numpy as np
from rich.console import Console
from rich.table import Table

from miaudit.cli.common import input_errors_exit_2
from miaudit.errors import InputError


@click.group("monitor")
def monitor_group() -> None:
    """Watch the gateway's query log for membership-inference campaigns."""


@monitor_group.command("index")
@click.option(
    "--records",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="the training records (CSV, Parquet or NPZ)",
)
@click.option("--label-column", default="label", show_default=True)
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--decimals",
    default=4,
    show_default=True,
    type=int,
    help="numbers are rounded to this many places before hashing",
)
@click.option(
    "--secret-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="the HMAC secret (default: the MIAUDIT_INDEX_SECRET variable)",
)
@input_errors_exit_2
def monitor_index(
    records: Path, label_column: str, out: Path, decimals: int, secret_file: Path | None
) -> None:
    """Write a keyed-hash index of the training records: no raw training data in it."""
    from miaudit.data import RecordSet
    from miaudit.monitor import TrainingIndex, load_secret

    secret = load_secret(secret_file)
    if not out.parent.is_dir():
        raise InputError(f"--out: the folder {out.parent} does not exist")
    found = RecordSet.from_file(records, label_column, name="training records")
    rows = np.asarray(found.features, dtype=np.float64)
    index = TrainingIndex.build(rows.tolist(), secret, decimals)
    index.save(out)
    click.echo(f"indexed {len(found)} records ({len(index)} distinct) into {out}")


@monitor_group.command("overlap")
@click.argument("log", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--index", "index_path", required=True, type=click.Path(dir_okay=False, path_type=Path)
)
@click.option("--secret-file", type=click.Path(dir_okay=False, path_type=Path))
@input_errors_exit_2
def monitor_overlap(log: Path, index_path: Path, secret_file: Path | None) -> None:
    """Each key's queries and the share that hit training records (LOG: querylog JSONL)."""
    from miaudit.monitor import TrainingIndex, load_secret, overlap_by_key
    from miaudit.querylog import read_jsonl

    index = TrainingIndex.load(index_path, load_secret(secret_file))
    table = Table("key", "queries", "on training records", "share")
    for row in overlap_by_key(read_jsonl(log), index):
        table.add_row(row.key or "(no key)", str(row.queries), str(row.hits), f"{row.share:.1%}")
    Console(width=100).print(table)
