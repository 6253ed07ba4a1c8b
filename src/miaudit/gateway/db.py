"""The gateway's database: API keys (hashes only) and the query log, through SQLAlchemy —
SQLite by default (``sqlite:///path`` or a plain path), PostgreSQL by URL
(``postgresql+psycopg://user@host/db``).

A key is 32 random bytes (``secrets.token_urlsafe``) shown once when it is made; only its
SHA-256 is stored (a key this random needs no slow hash), and a presented key is looked up by
its hash and compared in constant time. Query rows are committed before the gateway answers, so
a ``kill -9`` of the gateway loses no answered query. By default a commit is durable against the
gateway's crash, not the database machine's (SQLite ``synchronous=NORMAL`` in WAL mode;
PostgreSQL ``synchronous_commit=off``: the row is in the server's WAL buffers, flushed within a
fraction of a second): ``durable=True`` waits for the disk on every commit (``FULL`` / ``on``),
at a few milliseconds a request.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from miaudit.errors import InputError, require
from miaudit.querylog import QueryRecord, write_jsonl
from miaudit.targets.http import public_url

_FEATURE = "The gateway's database"
KEY_PREFIX = "mia_"


class DatabaseUnavailable(Exception):
    """The database did not answer: the gateway refuses (503) rather than answer unlogged."""


@dataclass(frozen=True)
class ApiKey:
    """A key's settings (never the key itself)."""

    name: str
    policy: str
    rate: float  # tokens per second
    burst: int
    quota: int | None  # instances per UTC day; None: no quota
    created: float
    revoked: float | None = None


def database_url(value: str) -> str:
    """A SQLAlchemy URL; a plain path means a SQLite file."""
    if "://" in value:
        return value
    return f"sqlite:///{Path(value).expanduser().resolve()}"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class Database:
    """Keys and query rows in one database."""

    def __init__(self, url: str, durable: bool = False) -> None:
        sa: Any = require("sqlalchemy", "serve", _FEATURE)
        self.url = database_url(url)
        self.durable = durable
        self._sa = sa
        metadata = sa.MetaData()
        self.keys = sa.Table(
            "miaudit_keys",
            metadata,
            sa.Column("name", sa.String(200), primary_key=True),
            sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
            sa.Column("policy", sa.String(200), nullable=False),
            sa.Column("rate", sa.Float, nullable=False),
            sa.Column("burst", sa.Integer, nullable=False),
            sa.Column("quota", sa.Integer, nullable=True),
            sa.Column("created", sa.Float, nullable=False),
            sa.Column("revoked", sa.Float, nullable=True),
        )
        self.queries = sa.Table(
            "miaudit_queries",
            metadata,
            sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
            sa.Column("time", sa.Float, nullable=False, index=True),
            sa.Column("key", sa.String(200), nullable=False, index=True),
            sa.Column("request_id", sa.String(64), nullable=False),
            sa.Column("model", sa.String(200), nullable=False),
            sa.Column("input", sa.Text, nullable=True),
            sa.Column("output", sa.Text, nullable=True),
            sa.Column("policy", sa.String(200), nullable=False),
            sa.Column("status", sa.Integer, nullable=False),
            sa.Column("client", sa.String(200), nullable=True),
        )
        self.alerts = sa.Table(
            "miaudit_alerts",
            metadata,
            sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
            sa.Column("time", sa.Float, nullable=False),
            sa.Column("key", sa.String(200), nullable=False, index=True),
            sa.Column("detector", sa.String(64), nullable=False),
            sa.Column("action", sa.String(32), nullable=False),
            sa.Column("alert", sa.Text, nullable=False),  # the alert's miaudit.alerts/1 object
            sa.Column("released", sa.Float, nullable=True),
        )
        self.monitor_state = sa.Table(
            "miaudit_monitor_state",
            metadata,
            sa.Column("key", sa.String(200), primary_key=True),
            sa.Column("time", sa.Float, nullable=False),
            sa.Column("state", sa.Text, nullable=False),
        )
        if self.url.startswith("sqlite:///"):
            folder = Path(self.url.removeprefix("sqlite:///")).parent
            if not folder.is_dir():
                raise InputError(f"the database's folder {folder} does not exist; create it")
        try:
            postgres = self.url.startswith("postgresql")
            options = {} if durable or not postgres else {"options": "-c synchronous_commit=off"}
            self.engine = sa.create_engine(self.url, pool_pre_ping=True, connect_args=options)
            if self.engine.dialect.name == "sqlite":
                sync = "FULL" if durable else "NORMAL"
                sa.event.listen(self.engine, "connect", lambda c, _r: _sqlite_pragmas(c, sync))
            metadata.create_all(self.engine)
            self._add_missing_columns()
        except (sa.exc.ArgumentError, sa.exc.OperationalError, sa.exc.NoSuchModuleError) as exc:
            raise InputError(
                f"cannot open the database {public_url(self.url)}: {_first_line(exc)}"
            ) from None
        except ImportError as exc:
            raise InputError(
                f"the database {public_url(self.url)} needs a driver that is not installed "
                f"({exc}); for PostgreSQL: pip install 'miaudit[postgres]'"
            ) from None

    # ------------------------------------------------------------------ keys
    def add_key(
        self, name: str, policy: str, rate: float, burst: int, quota: int | None = None
    ) -> str:
        """Make a key; return it (the only time it is ever shown)."""
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        row = {
            "name": name,
            "key_hash": hash_key(key),
            "policy": policy,
            "rate": float(rate),
            "burst": int(burst),
            "quota": quota,
            "created": time.time(),
            "revoked": None,
        }
        try:
            with self.engine.begin() as connection:
                connection.execute(self.keys.insert(), row)
        except self._sa.exc.IntegrityError:
            raise InputError(
                f"a key named {name!r} exists already; revoke it or choose another name"
            ) from None
        return key

    def list_keys(self) -> list[ApiKey]:
        with self.engine.connect() as connection:
            rows = connection.execute(self.keys.select().order_by(self.keys.c.created)).all()
        return [_key(row) for row in rows]

    def revoke(self, name: str) -> bool:
        """Revoke the key named ``name``; ``False`` if there is no such live key."""
        with self.engine.begin() as connection:
            done = connection.execute(
                self.keys.update()
                .where(self.keys.c.name == name, self.keys.c.revoked.is_(None))
                .values(revoked=time.time())
            )
        return bool(done.rowcount)

    def find(self, key: str) -> ApiKey | None:
        """The live key ``key`` is, or ``None`` (unknown or revoked)."""
        digest = hash_key(key)
        try:
            with self.engine.connect() as connection:
                row = connection.execute(
                    self.keys.select().where(self.keys.c.key_hash == digest)
                ).first()
        except self._sa.exc.SQLAlchemyError as exc:
            raise DatabaseUnavailable(_first_line(exc)) from exc
        if row is None or not hmac.compare_digest(row.key_hash, digest) or row.revoked:
            return None
        return _key(row)

    # ------------------------------------------------------------------ query log
    def log(self, records: Sequence[QueryRecord]) -> None:
        """Commit ``records`` (before the response that they describe is sent)."""
        rows = [
            {
                "time": r.time,
                "key": r.key,
                "request_id": r.request_id,
                "model": r.model,
                "input": None if r.input is None else json.dumps(r.input, allow_nan=False),
                "output": None if r.output is None else json.dumps(r.output, allow_nan=False),
                "policy": r.policy,
                "status": r.status,
                "client": r.client,
            }
            for r in records
        ]
        if rows:
            try:
                with self.engine.begin() as connection:
                    connection.execute(self.queries.insert(), rows)
            except self._sa.exc.SQLAlchemyError as exc:
                raise DatabaseUnavailable(_first_line(exc)) from exc

    def records(self, since: float | None = None) -> Iterator[QueryRecord]:
        """Every logged instance in order (``since``: from that Unix time on)."""
        query = self.queries.select().order_by(self.queries.c.id)
        if since is not None:
            query = query.where(self.queries.c.time >= since)
        with self.engine.connect() as connection:
            for row in connection.execution_options(stream_results=True).execute(query):
                yield QueryRecord(
                    row.time,
                    row.key,
                    row.request_id,
                    row.model,
                    None if row.input is None else json.loads(row.input),
                    None if row.output is None else json.loads(row.output),
                    row.policy,
                    row.status,
                    row.client,
                )

    def export(self, path: str | Path, since: float | None = None) -> int:
        """Write the log as ``miaudit.querylog/1`` JSON Lines; return the rows written."""
        return write_jsonl(self.records(since), path)

    def drop_inputs(self, older_than_days: float) -> int:
        """Retention: forget the inputs and client addresses of rows older than
        ``older_than_days`` (the rest of the row stays, for the monitor's counts). Returns how
        many rows lost their input or address."""
        cutoff = time.time() - older_than_days * 86400
        c = self.queries.c
        with self.engine.begin() as connection:
            done = connection.execute(
                self.queries.update()
                .where(c.time < cutoff, c.input.is_not(None) | c.client.is_not(None))
                .values(input=None, client=None)
            )
        return int(done.rowcount)

    def _add_missing_columns(self) -> None:
        """A database made by an older gateway: add the nullable columns it lacks (``client``
        of the query log), so its rows stay and new ones carry them. Several gateways opening
        it at once are fine (one adds it; the others find it there); a role that may not
        alter the table is told what to run."""
        sa = self._sa
        table = self.queries.name
        for column in self.queries.columns:
            if column.name in self._columns():
                continue
            assert column.nullable, f"{column.name}: only nullable columns are added"
            statement = (
                f"ALTER TABLE {table} ADD COLUMN {column.name} "
                f"{column.type.compile(dialect=self.engine.dialect)}"
            )
            try:
                with self.engine.begin() as connection:
                    connection.execute(sa.text(statement))
            except sa.exc.SQLAlchemyError as exc:
                if column.name in self._columns():  # another gateway added it meanwhile
                    continue
                raise InputError(
                    f"the database {public_url(self.url)} was made by an older miaudit and its "
                    f"table {table} lacks the column {column.name!r}, which this role cannot "
                    f"add ({_first_line(exc)}): run once as the table's owner, or have them "
                    f"run: {statement}"
                ) from None

    def _columns(self) -> set[str]:
        return {c["name"] for c in self._sa.inspect(self.engine).get_columns(self.queries.name)}

    # ------------------------------------------------------------------ the online monitor
    def add_alert(self, key: str, detector: str, action: str, alert: dict[str, Any]) -> None:
        row = {
            "time": float(alert.get("first_time", time.time())),
            "key": key,
            "detector": detector,
            "action": action,
            "alert": json.dumps(alert, allow_nan=False),
            "released": None,
        }
        with self.engine.begin() as connection:
            connection.execute(self.alerts.insert(), row)

    def list_alerts(self, include_released: bool = False) -> list[dict[str, Any]]:
        query = self.alerts.select().order_by(self.alerts.c.id)
        if not include_released:
            query = query.where(self.alerts.c.released.is_(None))
        with self.engine.connect() as connection:
            rows = connection.execute(query).all()
        return [
            {"key": r.key, "detector": r.detector, "action": r.action, "released": r.released,
             "alert": json.loads(r.alert)}
            for r in rows
        ]  # fmt: skip

    def flagged(self) -> dict[str, str]:
        """Each key with an alert not yet released, and the action taken on it."""
        rank = {"none": 0, "throttle": 1, "label-only": 2, "block": 3}
        found: dict[str, str] = {}
        for row in self.list_alerts():
            current = found.get(row["key"], "none")
            found[row["key"]] = max(current, row["action"], key=lambda a: rank.get(a, 0))
        return found

    def release(self, key: str) -> int:
        """Lift the alerts (and their action) on ``key``; how many were released."""
        with self.engine.begin() as connection:
            done = connection.execute(
                self.alerts.update()
                .where(self.alerts.c.key == key, self.alerts.c.released.is_(None))
                .values(released=time.time())
            )
            connection.execute(self.monitor_state.delete().where(self.monitor_state.c.key == key))
        return int(done.rowcount)

    def released_since(self, since: float) -> set[str]:
        return set(self.releases_since(since))

    def releases_since(self, since: float) -> dict[str, float]:
        """Each key released from ``since`` (Unix time) on, and its latest release time."""
        table = self.alerts
        query = (
            self._sa.select(table.c.key, self._sa.func.max(table.c.released))
            .where(table.c.released >= since)
            .group_by(table.c.key)
        )
        with self.engine.connect() as connection:
            return {key: float(when) for key, when in connection.execute(query)}

    def save_states(self, states: dict[str, tuple[float, str]]) -> None:
        """Replace the saved monitor state of each key in ``states`` (time, JSON)."""
        if not states:
            return
        table = self.monitor_state
        with self.engine.begin() as connection:
            connection.execute(table.delete().where(table.c.key.in_(list(states))))
            connection.execute(
                table.insert(),
                [{"key": k, "time": t, "state": text} for k, (t, text) in states.items()],
            )

    def load_states(self) -> dict[str, tuple[float, str]]:
        with self.engine.connect() as connection:
            rows = connection.execute(self.monitor_state.select()).all()
        return {row.key: (row.time, row.state) for row in rows}

    def ping(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.execute(self._sa.text("SELECT 1"))
        except self._sa.exc.SQLAlchemyError:
            return False
        return True


class GroupCommit:
    """Commits query rows for many concurrent requests in one transaction (group commit):
    each request hands over its rows and waits until the transaction that holds them has
    committed, so nothing is answered before it is logged, while under load one commit
    serves every request that arrived during the previous one."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._ready = threading.Condition()
        self._pending: list[tuple[Sequence[QueryRecord], threading.Event, list[Exception]]] = []
        threading.Thread(target=self._run, name="miaudit-log-writer", daemon=True).start()

    def write(self, records: Sequence[QueryRecord]) -> None:
        """Return once ``records`` are committed; raise what the database raised."""
        done, failed = threading.Event(), []
        with self._ready:
            self._pending.append((records, done, failed))
            self._ready.notify()
        done.wait()
        if failed:
            raise failed[0]

    def _run(self) -> None:
        while True:
            with self._ready:
                while not self._pending:
                    self._ready.wait()
                batch, self._pending = self._pending, []
            try:
                self.db.log([r for records, _, _ in batch for r in records])
                error = None
            except Exception as exc:  # handed to every waiting request: 503, not a lost row
                error = exc if isinstance(exc, DatabaseUnavailable) else DatabaseUnavailable(exc)
            for _, done, failed in batch:
                if error is not None:
                    failed.append(error)
                done.set()


def _key(row: Any) -> ApiKey:
    return ApiKey(row.name, row.policy, row.rate, row.burst, row.quota, row.created, row.revoked)


def _sqlite_pragmas(connection: Any, synchronous: str) -> None:
    cursor = connection.cursor()
    # WAL: readers never block the writer; a committed transaction survives a killed process
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA synchronous={synchronous}")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
