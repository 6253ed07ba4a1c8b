"""``miaudit serve`` (the gateway), ``miaudit keys`` (its API keys) and ``miaudit log`` (its
query log)."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from miaudit.cli.choices import choice, parse_classes
from miaudit.cli.exits import input_errors_exit_2
from miaudit.cli.monitor import secret_file_option
from miaudit.errors import InputError, require
from miaudit.monitor.settings import AlertAction
from miaudit.targets.exposure import ClassifierOutput
from miaudit.targets.harden import OutputPolicy
from miaudit.targets.kserve import Protocol

DB_HELP = "the gateway's database: a SQLite path, sqlite:///PATH or postgresql+psycopg://…"


def _rate(text: str, unit: str, name: str) -> float:
    """``"5/s"`` → 5.0 (``unit`` ``s``); ``"1000/day"`` → 1000.0 (``unit`` ``day``)."""
    found = re.fullmatch(rf"\s*([0-9]*\.?[0-9]+)\s*(?:/\s*{unit})?\s*", text)
    if found is None:
        raise InputError(f"{name}: expected e.g. '5/{unit}', got {text!r}")
    return float(found.group(1))


def _classes(text: str | None) -> Any:
    return None if text is None else parse_classes(text)


@click.command("serve")
@click.argument("model", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--model",
    "model_option",
    type=click.Path(dir_okay=False, path_type=Path),
    help="the model file to serve (as in miaudit audit --model; or give it as MODEL)",
)
@click.option("--db", required=True, help=DB_HELP)
@click.option(
    "--name",
    "model_name",
    default="model",
    show_default=True,
    help="the model's name in /v1/models/NAME:predict",
)
@click.option("--upstream", help="proxy this model server instead of serving a file")
@click.option(
    "--protocol",
    type=choice(Protocol),
    default=Protocol.V1.value,
    show_default=True,
    help="the upstream's protocol",
)
@click.option("--classes", help="class labels (a,b,c) or a count: for .pt2 files and upstreams")
@click.option(
    "--output",
    "output_kind",
    type=choice(ClassifierOutput),
    help="what the model or upstream returns",
)
@click.option(
    "--trust-model-file",
    is_flag=True,
    help="allow a joblib/pickle or torch file, which runs code when loaded",
)
@click.option("--redis", "redis_url", help="share rate limits across replicas through Redis")
@click.option("--retention-days", type=float, help="drop logged inputs older than this")
@click.option(
    "--durable",
    is_flag=True,
    help="wait for the disk on every log commit (survives a database-machine crash)",
)
@click.option(
    "--monitor",
    "monitor_calibration",
    help="watch the live traffic for membership-inference campaigns: a calibration file from "
    "'miaudit monitor calibrate', or 'defaults'",
)
@click.option(
    "--monitor-index",
    type=click.Path(dir_okay=False, path_type=Path),
    help="the training index for the monitor (miaudit monitor index)",
)
@secret_file_option
@click.option(
    "--on-alert",
    type=choice(AlertAction),
    default="label-only",
    show_default=True,
    help="what happens to a key the monitor flags",
)
@click.option("--webhook", help="POST each monitor alert as JSON to this URL")
@click.option(
    "--trust-forwarded-for",
    is_flag=True,
    help="log as each request's client the address the proxy in front of the gateway puts "
    "last in X-Forwarded-For (only behind a proxy that sets it: a caller could write any)",
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
@input_errors_exit_2
def serve_command(
    model: Path | None,
    model_option: Path | None,
    db: str,
    model_name: str,
    upstream: str | None,
    protocol: str,
    classes: str | None,
    output_kind: str | None,
    trust_model_file: bool,
    redis_url: str | None,
    retention_days: float | None,
    durable: bool,
    monitor_calibration: str | None,
    monitor_index: Path | None,
    secret_file: Path | None,
    on_alert: str,
    webhook: str | None,
    trust_forwarded_for: bool,
    host: str,
    port: int,
) -> None:
    """Serve MODEL or --model FILE (or proxy --upstream) behind API keys, rate limits, output
    policies and a query log, speaking the KServe V1 protocol."""
    uvicorn: Any = require("uvicorn", "serve", "The gateway (miaudit serve)")
    from miaudit.gateway import (
        Backend,
        Database,
        Gateway,
        MemoryLimiter,
        RedisLimiter,
        create_app,
        load_model,
        upstream_model,
    )

    model = _one_model(model, model_option)
    if (model is None) == (upstream is None):
        raise InputError(
            "serve a model file (MODEL or --model FILE) or proxy a model server (--upstream URL)"
        )
    if retention_days is not None and not retention_days > 0:
        raise InputError(f"--retention-days must be positive, got {retention_days}")
    if upstream is not None:
        if classes is None:
            raise InputError("--upstream needs the model's classes (--classes a,b,c or a count)")
        target = upstream_model(
            upstream, _classes(classes), output_kind or "probabilities", protocol
        )
    else:
        assert model is not None
        target = load_model(model, trust_model_file, _classes(classes), output_kind)
    database = Database(db, durable=durable)
    limiter = RedisLimiter(redis_url) if redis_url else MemoryLimiter()
    watch = _watch(database, monitor_calibration, monitor_index, secret_file, on_alert, webhook)
    gateway = Gateway(
        Backend(target, model_name),
        database,
        limiter,
        watch=watch,
        trust_forwarded_for=trust_forwarded_for,
    )
    app = create_app(gateway, retention_days)
    Console(stderr=True).print(
        f"miaudit gateway: model {model_name!r} on http://{host}:{port} "
        f"(POST /v1/models/{model_name}:predict)",
        highlight=False,
        markup=False,
    )
    uvicorn.run(app, host=host, port=port, log_level="warning")


def _one_model(positional: Path | None, option: Path | None) -> Path | None:
    """The model file, given as MODEL or as --model FILE (one of the two, not both)."""
    if positional is not None and option is not None:
        raise click.UsageError(
            f"give the model file once: MODEL ({positional}) or --model ({option}), not both"
        )
    return positional if positional is not None else option


def _watch(
    database: Any,
    calibration: str | None,
    index_path: Path | None,
    secret_file: Path | None,
    on_alert: str,
    webhook: str | None,
) -> Any:
    """The online monitor, if ``--monitor`` asks for one."""
    if calibration is None:
        if index_path is not None or webhook is not None:
            raise InputError(
                "--monitor-index and --webhook need --monitor (CALIBRATION or defaults)"
            )
        return None
    from miaudit.cli.monitor import load_index
    from miaudit.gateway.watch import Watch
    from miaudit.monitor import Calibration, defaults
    from miaudit.monitor.webhook import Webhook

    chosen = defaults() if calibration == "defaults" else Calibration.load(calibration)
    hook = Webhook(webhook) if webhook else None
    return Watch(database, chosen, load_index(index_path, secret_file), on_alert, hook)


@click.group("keys")
def keys_group() -> None:
    """Make, list and revoke the gateway's API keys (stored as hashes only)."""


@keys_group.command("add")
@click.option("--db", required=True, help=DB_HELP)
@click.option("--name", required=True, help="who the key is for (appears in the query log)")
@click.option(
    "--policy",
    default="full",
    show_default=True,
    help="output policy: full, label-only, top-k:K, round:D, noise:S, temperature:T",
)
@click.option("--rate", default="5/s", show_default=True, help="sustained rate, instances/s")
@click.option("--burst", default=20, show_default=True, type=int, help="bucket size")
@click.option("--quota", help="instances per UTC day, e.g. 10000/day (default: none)")
@input_errors_exit_2
def keys_add(db: str, name: str, policy: str, rate: str, burst: int, quota: str | None) -> None:
    """Make a key and print it once, alone on the last line of stdout."""
    from miaudit.gateway import Database

    OutputPolicy.parse(policy)
    if not name.strip() or len(name) > 200:
        raise InputError("--name: 1 to 200 characters")
    per_second = _rate(rate, "s", "--rate")
    if not per_second > 0 or burst < 1:
        raise InputError("--rate must be positive and --burst at least 1")
    per_day = None if quota is None else int(_rate(quota, "day", "--quota"))
    key = Database(db).add_key(name, policy, per_second, burst, per_day)
    click.echo(
        f"key {name!r}: policy {policy}, {per_second:g}/s, burst {burst}"
        + (f", {per_day}/day" if per_day is not None else "")
        + " — shown once, store it now"
    )
    click.echo(key)


@keys_group.command("list")
@click.option("--db", required=True, help=DB_HELP)
@input_errors_exit_2
def keys_list(db: str) -> None:
    """The keys: names and settings (never the keys)."""
    from datetime import datetime, timezone

    from miaudit.gateway import Database

    table = Table("name", "policy", "rate/s", "burst", "quota/day", "created", "revoked")
    for k in Database(db).list_keys():
        when = [
            datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%d %H:%M") if t else ""
            for t in (k.created, k.revoked)
        ]
        table.add_row(
            k.name,
            k.policy,
            f"{k.rate:g}",
            str(k.burst),
            "" if k.quota is None else str(k.quota),
            *when,
        )
    Console(width=120).print(table)


@keys_group.command("revoke")
@click.option("--db", required=True, help=DB_HELP)
@click.option("--name", required=True)
@input_errors_exit_2
def keys_revoke(db: str, name: str) -> None:
    """Revoke a key at once: its next request gets 401."""
    from miaudit.gateway import Database

    if not Database(db).revoke(name):
        raise InputError(f"no live key named {name!r} (see miaudit keys list)")
    click.echo(f"revoked {name!r}")


@click.group("log")
def log_group() -> None:
    """The gateway's query log: export it, drop old inputs."""


@log_group.command("export")
@click.option("--db", required=True, help=DB_HELP)
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--since", type=float, help="only rows from this Unix time on")
@input_errors_exit_2
def log_export(db: str, out: Path, since: float | None) -> None:
    """Write the log as miaudit.querylog/1 JSON Lines (docs/querylog.md)."""
    from miaudit.gateway import Database

    if not out.parent.is_dir():
        raise InputError(f"--out: the folder {out.parent} does not exist")
    count = Database(db).export(out, since)
    click.echo(f"wrote {count} rows to {out}")


@log_group.command("purge")
@click.option("--db", required=True, help=DB_HELP)
@click.option("--older-than", "days", required=True, type=float, help="days")
@input_errors_exit_2
def log_purge(db: str, days: float) -> None:
    """Retention: forget the inputs of rows older than --older-than days (the rows stay)."""
    from miaudit.gateway import Database

    if not days > 0:
        raise InputError(f"--older-than must be positive, got {days}")
    count = Database(db).drop_inputs(days)
    click.echo(f"dropped the inputs of {count} rows")
    sys.stdout.flush()
