"""``miaudit scan URL``: grade what a live prediction endpoint exposes."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import numpy as np
from rich.console import Console
from rich.table import Table

from miaudit._io import check_writable
from miaudit.cli.common import choice, split_list
from miaudit.cli.exits import EXIT_GATE, input_errors_exit_2
from miaudit.cli.sources import parse_headers
from miaudit.errors import InputError
from miaudit.scan.formats import FAIL_LEVELS, FORMATS
from miaudit.scan.probe import ScanResult
from miaudit.targets.kserve import Protocol


def _headers(key: str | None, items: tuple[str, ...]) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return {**headers, **parse_headers(items, "--header")}


@click.command("scan")
@click.argument("url")
@click.option("--key", help="an API key, sent as 'Authorization: Bearer KEY'")
@click.option(
    "--header",
    "header_items",
    multiple=True,
    help="'Name: value', repeatable; ${VAR} takes the value from the environment",
)
@click.option("--protocol", type=choice(Protocol), default=Protocol.V1.value, show_default=True)
@click.option("--features", type=int, help="the model's input width (else from --members)")
@click.option(
    "--members",
    type=click.Path(dir_okay=False, path_type=Path),
    help="records known to be in the training set (CSV, Parquet, NPZ): runs MIA105",
)
@click.option(
    "--nonmembers", type=click.Path(dir_okay=False, path_type=Path), help="records known not to be"
)
@click.option("--label", default="label", show_default=True, help="the label column")
@click.option(
    "--budget",
    default=50,
    show_default=True,
    type=int,
    help="queries the rate-limit probe may send",
)
@click.option(
    "--out",
    default="miaudit-scan",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
)
@click.option(
    "--format",
    "format_list",
    default=",".join(FORMATS),
    show_default=True,
    help=f"comma-separated: {', '.join(FORMATS)} or all",
)
@click.option(
    "--fail-level",
    type=click.Choice(FAIL_LEVELS),
    default="error",
    show_default=True,
    help="exit 1 at a finding this severe",
)
@input_errors_exit_2
def scan_command(
    url: str,
    key: str | None,
    header_items: tuple[str, ...],
    protocol: str,
    features: int | None,
    members: Path | None,
    nonmembers: Path | None,
    label: str,
    budget: int,
    out: Path,
    format_list: str,
    fail_level: str,
) -> None:
    """Probe URL (a predict endpoint) with a bounded number of queries and grade what it
    exposes: MIA101 no credentials needed, MIA102 confidence scores, MIA103 output widened by
    request parameters, MIA104 no rate limit, MIA105 membership inference (with --members and
    --nonmembers). Credentials are never written to the reports."""
    from miaudit.data import RecordSet
    from miaudit.scan import membership_probe, scan, write

    formats = split_list(format_list) or []
    unknown = [f for f in formats if f not in FORMATS and formats != ["all"]]
    if unknown:
        raise InputError(f"--format: unknown {unknown}; use {', '.join(FORMATS)} or all")
    check_writable(out, "--out", folder=True)
    if (members is None) != (nonmembers is None):
        raise InputError("MIA105 needs both --members and --nonmembers")
    sets = None
    if members is not None and nonmembers is not None:
        sets = (
            RecordSet.from_file(members, label, name="members"),
            RecordSet.from_file(nonmembers, label, name="nonmembers"),
        )
    width = features if features is not None else (sets[0].features.shape[1] if sets else None)
    if width is None:
        raise InputError("give the model's input width (--features N) or records (--members)")
    probe = np.asarray(sets[0].features[:1], dtype=np.float64)[0].tolist() if sets else None
    result = scan(
        url,
        int(width),
        protocol=protocol,
        headers=_headers(key, header_items),
        budget=budget,
        probe=probe,
        membership=membership_probe(*sets) if sets else None,
    )
    paths = write(result, out, formats, fail_level)
    _summary(result, paths)
    if result.fails(fail_level):
        sys.exit(EXIT_GATE)


def _summary(result: ScanResult, paths: list[Path]) -> None:
    console = Console(width=120)
    table = Table("rule", "level", "finding", title=f"miaudit scan {result.url}")
    for f in result.findings:
        table.add_row(f.rule, f.level, f.message)
    if not result.findings:
        table.add_row("—", "—", "nothing found")
    console.print(table)
    console.print(f"{result.queries} queries sent", highlight=False)
    for p in paths:
        console.print(f"wrote {p}", markup=False, highlight=False)
