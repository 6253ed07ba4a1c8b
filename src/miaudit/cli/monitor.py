"""``miaudit monitor LOG``: catch membership-inference campaigns in a query log; ``monitor
index`` (the keyed-hash index of the training records), ``monitor calibrate`` (thresholds from
benign traffic), ``monitor overlap`` (each key's share of queries on training records) and
``monitor simulate`` (a sample log to try it on)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click
import numpy as np
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from miaudit._io import check_writable
from miaudit.cli.exits import EXIT_GATE, input_errors_exit_2
from miaudit.errors import InputError


class _WithDefault(click.Group):
    """``miaudit monitor LOG …`` runs the ``check`` command; subcommands keep their names."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["check", *args]
        return super().parse_args(ctx, args)


@click.group("monitor", cls=_WithDefault)
def monitor_group() -> None:
    """Watch the gateway's query log for membership-inference campaigns.

    \b
    miaudit monitor LOG --index train.idx.npz [--baseline BENIGN_LOG | --calibration CAL]
    LOG: a miaudit.querylog/1 JSONL file or the gateway's database (a SQLite path or URL).
    """


def log_source(text: str, malformed: Any = None) -> Callable[[], Iterator[Any]]:
    """A re-readable source of query records: JSON Lines, or the gateway's database.
    ``malformed`` (a :class:`miaudit.querylog.Malformed`): count a JSON Lines file's lines
    that are no record there and go on (otherwise the first one is an error)."""
    from miaudit.querylog import read_jsonl

    path = Path(text)
    is_sqlite = path.is_file() and path.open("rb").read(16) == b"SQLite format 3\x00"
    if "://" in text or is_sqlite:
        from miaudit.gateway.db import Database

        database = Database(text)
        return database.records
    if not path.is_file():
        raise InputError(f"the log {text} does not exist (a querylog JSONL file or a database)")
    return lambda: read_jsonl(path, malformed)


def _writable(path: Path | None, option: str) -> None:
    """Fail before any work if ``path`` cannot be written."""
    if path is None:
        return
    if not path.parent.is_dir():
        raise InputError(f"{option}: cannot write into {path.parent} (the folder does not exist)")
    check_writable(path, option, folder=False)


def load_index(index_path: Path | None, secret_file: Path | None) -> Any:
    """The training index at ``index_path`` (``None`` without one), opened with the secret."""
    if index_path is None:
        return None
    from miaudit.monitor import TrainingIndex, load_secret

    return TrainingIndex.load(index_path, load_secret(secret_file))


_INDEX_HELP = "the training index (miaudit monitor index): enables the training-set detectors"


def index_option(required: bool = False) -> Callable[[Any], Any]:
    """``--index FILE``, also spelt ``--training-index`` (the name the issue gave it)."""
    return click.option(
        "--index",
        "--training-index",
        "index_path",
        required=required,
        type=click.Path(dir_okay=False, path_type=Path),
        help=_INDEX_HELP,
    )


#: ``--secret-file``, the same wherever a training index is written or read.
secret_file_option = click.option(
    "--secret-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="the training index's HMAC secret (default: the MIAUDIT_INDEX_SECRET variable)",
)


@monitor_group.command("check")
@click.argument("log")
@index_option()
@secret_file_option
@click.option("--baseline", help="a log of known-benign traffic to calibrate the thresholds on")
@click.option(
    "--false-alarm-rate",
    default=0.01,
    show_default=True,
    type=float,
    help="the share of benign keys the calibrated thresholds may flag",
)
@click.option(
    "--calibration",
    "calibration_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="thresholds saved by 'miaudit monitor calibrate'",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("alerts.json"),
    show_default=True,
    help="the alerts (miaudit.alerts/1)",
)
@click.option(
    "--sarif",
    type=click.Path(dir_okay=False, path_type=Path),
    help="also write the alerts as SARIF 2.1.0",
)
@click.option("--webhook", help="POST each alert as JSON to this URL")
@click.option("--quiet", is_flag=True)
@input_errors_exit_2
def monitor_check(
    log: str, index_path: Path | None, secret_file: Path | None, baseline: str | None,
    false_alarm_rate: float, calibration_path: Path | None, out: Path, sarif: Path | None,
    webhook: str | None, quiet: bool,
) -> None:  # fmt: skip
    """Score every key of LOG; write the alerts; exit 1 if there are any."""
    from miaudit.monitor.webhook import Webhook
    from miaudit.querylog import SCHEMA, Malformed

    if baseline and calibration_path:
        raise InputError("give --baseline (calibrate now) or --calibration (saved), not both")
    _writable(out, "--out")
    _writable(sarif, "--sarif")
    hook = Webhook(webhook) if webhook else None
    malformed = Malformed()  # counted and reported: one bad line does not lose the log
    source = log_source(log, malformed)
    index = load_index(index_path, secret_file)
    calibration = _calibration(baseline, calibration_path, index, false_alarm_rate)
    console = Console(stderr=True, width=110)
    start = time.perf_counter()
    monitor = calibration.monitor(index)
    alerts = []
    for alert in monitor.run(source()):
        alerts.append(alert)
        if hook is not None:
            hook.send(alert)
    seconds = time.perf_counter() - start
    if malformed.count and not malformed.records:
        raise InputError(
            f"no line of {log} is a {SCHEMA} record ({malformed.count} malformed; first: "
            f"{malformed.first[0]}): export the log with 'miaudit log export'"
        )
    if monitor.misfit:
        raise InputError(monitor.misfit_message())
    if monitor.clientless:
        raise InputError(monitor.clientless_message())
    _write_alerts(alerts, monitor, calibration, log, out, sarif, seconds, malformed)
    if not quiet:
        _print(console, alerts, monitor, calibration, seconds, out)
    if malformed.count:  # shown even with --quiet: records were left out
        console.print(
            f"[yellow]{malformed.count} malformed line(s) of the log skipped (counted in "
            f"{escape(str(out))}); first: {escape(malformed.first[0])}[/]"
        )
    failures = hook.close() if hook is not None else []  # waits for the sender, within limits
    if failures:
        console.print(f"[yellow]webhook: {len(failures)} alert(s) not delivered[/]")
        for line in failures[:5]:
            console.print(f"  {escape(line)}")
    if alerts:
        sys.exit(EXIT_GATE)


def _calibration(baseline: str | None, saved: Path | None, index: Any, rate: float) -> Any:
    from miaudit.monitor.calibrate import Calibration, calibrate, defaults

    if saved is not None:
        return Calibration.load(saved)
    if baseline is not None:
        return calibrate(log_source(baseline), index, rate)
    return defaults()


def _write_alerts(
    alerts: list[Any], monitor: Any, calibration: Any, log: str, out: Path,
    sarif: Path | None, seconds: float, malformed: Any = None,
) -> None:  # fmt: skip
    import json

    from miaudit._io import atomic_write_text as write_text
    from miaudit.monitor.alerts import alerts_document
    from miaudit.monitor.alerts import sarif as to_sarif

    summary = {
        "log": _public(log),
        "queries": monitor.processed,
        "malformed_lines": malformed.to_dict() if malformed is not None else {"count": 0},
        "keys": len(monitor.keys),
        "seconds": round(seconds, 3),
        "training_index": monitor.index is not None,
        "calibration": {**calibration.to_dict(), "note": calibration.note},
    }
    write_text(out, json.dumps(alerts_document(alerts, summary), indent=2) + "\n")
    if sarif is not None:
        write_text(sarif, to_sarif(alerts, _public(log)))


def _public(log: str) -> str:
    from miaudit.targets.http import public_url

    return public_url(log) if "://" in log else log


def _print(
    console: Console, alerts: list[Any], monitor: Any, calibration: Any, seconds: float, out: Path
) -> None:
    rate = monitor.processed / seconds if seconds > 0 else 0.0
    console.print(
        f"{monitor.processed} queries from {len(monitor.keys)} keys in {seconds:.1f} s "
        f"({rate:,.0f}/s); {escape(calibration.note)}"
    )
    blind = [name for name in _needing_index() if monitor.index is None]
    if blind:
        names = ", ".join(blind[:-1]) + (" and " if len(blind) > 1 else "") + blind[-1]
        console.print(
            f"[yellow]no --index: the {names} detectors cannot tell training records apart[/]"
        )
    if not alerts:
        console.print(f"no alerts; wrote {out}")
        return
    table = Table("key(s)", "detector", "score", "threshold", "after queries", "first time (UTC)")
    for a in alerts:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(a.first_time))
        table.add_row(escape(", ".join(a.keys)), a.detector, f"{a.score:.3g}",
                      f"{a.threshold:.3g}", str(a.queries_before_alert), when)  # fmt: skip
    console.print(table)
    console.print(f"[bold red]{len(alerts)} alert(s)[/] from {len({a.key for a in alerts})} "
                  f"key(s); wrote {out}")  # fmt: skip


def _needing_index() -> list[str]:
    """The detectors that need the training index."""
    from miaudit.monitor.detectors import registered

    return [cls.name for cls in registered() if cls.needs_index]


@monitor_group.command("calibrate")
@click.argument("baseline")
@index_option()
@secret_file_option
@click.option("--false-alarm-rate", default=0.01, show_default=True, type=float)
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@input_errors_exit_2
def monitor_calibrate(
    baseline: str, index_path: Path | None, secret_file: Path | None, false_alarm_rate: float,
    out: Path,
) -> None:  # fmt: skip
    """Thresholds from BASELINE, a log of known-benign traffic (for 'monitor --calibration'
    and 'serve --monitor')."""
    from miaudit.monitor.calibrate import calibrate

    _writable(out, "--out")
    index = load_index(index_path, secret_file)
    calibration = calibrate(log_source(baseline), index, false_alarm_rate)
    calibration.save(out)
    click.echo(f"{calibration.note}; wrote {out}")
    for name, value in calibration.thresholds.items():
        click.echo(f"  {name:<17} {value:.4g}")


#: ``monitor index`` refuses proximity tables whose estimated false-hit share is above this,
#: and warns above the second.
MAX_FALSE_HITS, WARN_FALSE_HITS = 0.5, 0.1


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
    "--radius",
    default=0.1,
    show_default=True,
    type=click.FloatRange(0, 10),
    help="a query within this many standard deviations (root-mean-square over the features) "
    "of a training record counts as it: keyed proximity tables; 0: exact matches only",
)
@secret_file_option
@input_errors_exit_2
def monitor_index(
    records: Path,
    label_column: str,
    out: Path,
    decimals: int,
    radius: float,
    secret_file: Path | None,
) -> None:
    """Write a keyed-hash index of the training records: no raw training data in it."""
    from miaudit.data import RecordSet
    from miaudit.monitor import TrainingIndex, load_secret
    from miaudit.monitor.proximity import MIN_RECORDS

    secret = load_secret(secret_file)
    if not out.parent.is_dir():
        raise InputError(f"--out: the folder {out.parent} does not exist")
    found = RecordSet.from_file(records, label_column, name="training records")
    rows = np.asarray(found.features, dtype=np.float64)
    if radius and len(rows) < MIN_RECORDS:
        raise InputError(
            f"--radius: proximity tables need at least {MIN_RECORDS} training records (their "
            f"means and standard deviations are stored), got {len(rows)}; pass --radius 0 for "
            "exact matches only"
        )
    index = TrainingIndex.build(rows.tolist(), secret, decimals, radius or None)
    false_hits = index.proximity.heldout_hit_rate if index.proximity is not None else None
    if false_hits is not None and false_hits > MAX_FALSE_HITS:
        raise InputError(
            f"--radius {radius:g}: these records lie so close together that a fresh record "
            f"from their distribution would count as a training record {false_hits:.0%} of the "
            "time (half the records looked up among the other half): the monitor could not "
            "tell training records apart. Use a smaller --radius (the false-hit share falls "
            "fast with it), or --radius 0 for exact matches only"
        )
    index.save(out)
    near = (
        f"; a query within {radius:g} sd of a record counts as it (fresh records from the same "
        f"distribution: about {false_hits:.1%} false hits)"
        if index.proximity is not None and false_hits is not None
        else "; exact matches only"
    )
    click.echo(f"indexed {len(found)} records ({len(index)} distinct) into {out}{near}")
    if false_hits is not None and false_hits > WARN_FALSE_HITS:
        click.echo(
            f"warning: {false_hits:.0%} false hits is high: the benign hit rate calibration "
            "measures will be high too, and weak campaigns hide in it; consider a smaller "
            "--radius",
            err=True,
        )


@monitor_group.command("overlap")
@click.argument("log", type=click.Path(dir_okay=False, path_type=Path))
@index_option(required=True)
@secret_file_option
@input_errors_exit_2
def monitor_overlap(log: Path, index_path: Path, secret_file: Path | None) -> None:
    """Each key's queries and the share that hit training records (LOG: querylog JSONL)."""
    from miaudit.monitor import overlap_by_key
    from miaudit.querylog import read_jsonl

    index = load_index(index_path, secret_file)
    table = Table("key", "queries", "on training records", "share")
    for row in overlap_by_key(read_jsonl(log), index):
        table.add_row(row.key or "(no key)", str(row.queries), str(row.hits), f"{row.share:.1%}")
    Console(width=100).print(table)


@monitor_group.command("simulate")
@click.option("--out-dir", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--benign-keys", default=200, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--seed", default=0, show_default=True, type=click.IntRange(0, 2**32 - 1))
@click.option(
    "--campaign-budget",
    default=1000,
    show_default=True,
    type=click.IntRange(10, 1_000_000),
    help="each campaign stops after this many queries",
)
@click.option(
    "--adaptive",
    is_flag=True,
    help="also run the campaigns of an attacker who knows the monitor (nudged candidates, "
    "dilution, searches, many-key splits, a boundary search outside its radii)",
)
def monitor_simulate(
    out_dir: Path, benign_keys: int, seed: int, campaign_budget: int, adaptive: bool
) -> None:
    """Write a simulated deployment to try the monitor on: train.csv (the training records),
    baseline.jsonl (benign traffic only), log.jsonl (benign traffic and one run of every
    campaign) and truth.json (which keys are which)."""
    import json

    import pandas as pd

    from miaudit._io import atomic_path, atomic_write_text
    from miaudit.monitor.simulate import ADAPTIVE, CAMPAIGNS, simulate, world
    from miaudit.querylog import write_jsonl

    @input_errors_exit_2
    def run() -> None:
        out_dir.mkdir(parents=True, exist_ok=True)
        _writable(out_dir / "log.jsonl", "--out-dir")
        made = world(seed)
        frame = pd.DataFrame(made.members, columns=[f"x{i}" for i in range(made.members.shape[1])])
        with atomic_path(out_dir / "train.csv") as tmp:
            frame.assign(label=made.member_labels).to_csv(tmp, index=False)
        baseline = simulate(made, benign_keys, campaigns=(), seed=seed + 1)
        write_jsonl(baseline.records, out_dir / "baseline.jsonl")
        campaigns = CAMPAIGNS + ADAPTIVE if adaptive else CAMPAIGNS
        traffic = simulate(
            made, benign_keys, campaigns, seed=seed + 2, campaign_budget=campaign_budget
        )
        write_jsonl(traffic.records, out_dir / "log.jsonl")
        truth = {"benign": traffic.benign, "campaigns": traffic.campaigns}
        atomic_write_text(out_dir / "truth.json", json.dumps(truth, indent=2) + "\n")
        click.echo(
            f"wrote {out_dir}: train.csv ({len(frame)} records), baseline.jsonl "
            f"({len(baseline.records)} queries), log.jsonl ({len(traffic.records)} queries, "
            f"{len(traffic.campaigns)} campaigns), truth.json"
        )

    run()


@monitor_group.command("detectors")
def monitor_detectors() -> None:
    """The detectors: name, SARIF rule id, default threshold, what each one sees."""
    from miaudit.monitor.detectors import registered

    table = Table("detector", "rule", "default threshold", "needs --index", "what it sees")
    for cls in registered():
        table.add_row(cls.name, cls.rule_id, f"{cls.default_threshold:g}",
                      "yes" if cls.needs_index else "", cls.description)  # fmt: skip
    Console(width=130).print(table)


@monitor_group.command("alerts")
@click.option("--db", required=True, help="the gateway's database (a SQLite path or URL)")
@click.option("--release", "release_key", help="lift the alerts on this key and its action")
@click.option("--all", "show_all", is_flag=True, help="include released alerts")
@input_errors_exit_2
def monitor_alerts(db: str, release_key: str | None, show_all: bool) -> None:
    """The online monitor's alerts (miaudit serve --monitor); release a key after review."""
    from miaudit.gateway.db import Database

    if "://" not in db and not Path(db).is_file():
        raise InputError(f"--db: no database at {db} (the path 'miaudit serve --db' was given)")
    database = Database(db)
    if release_key is not None:
        count = database.release(release_key)
        if not count:
            raise InputError(f"no open alert on the key {release_key!r}")
        click.echo(f"released {count} alert(s) on {release_key!r}; its action ends within seconds")
        return
    table = Table("key", "detector", "action", "score", "after queries", "time (UTC)", "released")
    for row in database.list_alerts(include_released=show_all):
        alert = row["alert"]
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(alert["first_time"]))
        table.add_row(
            escape(row["key"]),
            row["detector"],
            row["action"],
            f"{alert['score']:.3g}",
            str(alert["queries_before_alert"]),
            when,
            "yes" if row["released"] else "",
        )
    Console(width=110).print(table)
