"""``miaudit.querylog/1``: JSON Lines, one object per instance of every request a gateway saw
(``docs/querylog.md``)::

    {"time": 1764460800.123, "key": "analytics", "request_id": "3f2a…", "model": "churn",
     "input": [0.1, 2.0, 3.5], "output": [0.91, 0.09], "policy": "full", "status": 200}

``time`` is Unix seconds; ``key`` the key's *name* (never the key; ``""`` when the request
carried no valid key); ``input`` the instance (numbers, or text), ``null`` once retention has
dropped it; ``output`` what the caller received: a probability list, logits, a label, or
``null`` when nothing was returned (401, 429, …); ``policy`` the output policy applied;
``status`` the HTTP status of the response. An optional ``client`` names who sent the request
(the gateway writes the peer's address, or the ``X-Forwarded-For`` address a trusted proxy
gives): keys of one client pool their evidence in the monitor. A record without it is written
without the field, as before.
"""

from __future__ import annotations

import ipaddress
import json
import math
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from miaudit._io import atomic_path
from miaudit.errors import InputError

SCHEMA = "miaudit.querylog/1"
#: Unix seconds beyond this (the year 33658) are a corrupt time, not a time.
MAX_TIME = 1e12


@dataclass(frozen=True)
class QueryRecord:
    """One instance of one request, as the gateway logged it."""

    time: float
    key: str
    request_id: str
    model: str
    input: list[float] | str | None
    output: Any
    policy: str
    status: int
    #: Who sent the request (an address), where the log has it.
    client: str | None = None

    def to_json(self) -> str:
        row = {name: getattr(self, name) for name in _FIELDS}  # no deep copy (asdict's)
        if self.client is not None:
            row["client"] = self.client
        return json.dumps(row, separators=(",", ":"), allow_nan=False)

    @classmethod
    def from_dict(cls, data: Any, where: str = "record") -> QueryRecord:
        """A record from its JSON object; a clear error naming ``where`` if it is not one."""
        if not isinstance(data, dict):
            raise InputError(f"{where}: expected a JSON object, got {type(data).__name__}")
        missing = [f for f in _FIELDS if f not in data]
        if missing:
            raise InputError(f"{where}: missing {', '.join(missing)} ({SCHEMA})")
        time, status = data["time"], data["status"]
        if (
            isinstance(time, bool)
            or not isinstance(time, int | float)
            or not math.isfinite(time)
            or not -MAX_TIME <= time <= MAX_TIME
        ):
            raise InputError(f"{where}: time must be Unix seconds (a number), got {time!r}")
        if isinstance(status, bool) or not isinstance(status, int):
            raise InputError(f"{where}: status must be an HTTP status (an integer), got {status!r}")
        for name in ("key", "request_id", "model", "policy"):
            if not isinstance(data[name], str):
                raise InputError(f"{where}: {name} must be text, got {data[name]!r}")
        value, client = data["input"], data.get("client")
        if value is not None and not isinstance(value, str | list):
            raise InputError(f"{where}: input must be a list of numbers, text or null")
        if client is not None and not isinstance(client, str):
            raise InputError(f"{where}: client must be text or null, got {client!r}")
        return cls(
            float(time),
            data["key"],
            data["request_id"],
            data["model"],
            value,
            data["output"],
            data["policy"],
            status,
            client,
        )


#: The fields every record has (``client`` is optional).
_FIELDS = tuple(f.name for f in fields(QueryRecord) if f.name != "client")


def write_jsonl(records: Iterable[QueryRecord], path: str | Path) -> int:
    """Write ``records`` to ``path`` (through a temporary file, renamed when complete);
    return how many."""
    count = 0
    with atomic_path(path) as tmp, tmp.open("w", encoding="utf-8") as out:
        for record in records:
            out.write(record.to_json() + "\n")
            count += 1
    return count


@dataclass
class Malformed:
    """Lines of a log that are no record (not UTF-8, not JSON, not a ``querylog/1`` object):
    how many, and where the first few are, with why."""

    count: int = 0
    first: list[str] = field(default_factory=list)
    #: The records read beside them.
    records: int = 0

    #: Lines named in :attr:`first`.
    SHOWN = 5

    def add(self, where: str, reason: str) -> None:
        self.count += 1
        if len(self.first) < self.SHOWN:
            reason = reason if len(reason) <= 200 else reason[:200] + "…"
            self.first.append(f"{where}: {reason}")

    def to_dict(self) -> dict[str, Any]:
        return {"count": self.count, "first": list(self.first)}


def read_jsonl(path: str | Path, malformed: Malformed | None = None) -> Iterator[QueryRecord]:
    """The records of a ``miaudit.querylog/1`` file, in order; blank lines are skipped. A line
    that is no record stops the read with an :class:`InputError` naming it, unless
    ``malformed`` is given: then it is counted there and skipped."""
    path = Path(path)
    if not path.is_file() or not os.access(path, os.R_OK):
        raise InputError(f"cannot read {path}: no such readable file")
    # text with universal newlines (CR, LF or CRLF), undecodable bytes kept as surrogates so
    # that the line they are on, not the read, fails
    with path.open(encoding="utf-8", errors="surrogateescape") as handle:
        for number, line in enumerate(handle, 1):
            where = f"{path}:{number}"
            try:
                if not line.strip():
                    continue
                line.encode("utf-8")  # a surrogate left by a byte that is not UTF-8 fails
                try:
                    data = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise InputError(f"{where}: not JSON ({exc.msg})") from None
                except (ValueError, RecursionError) as exc:  # a 5,000-digit number, [[[[…
                    raise InputError(f"{where}: not a JSON record ({type(exc).__name__})") from None
                record = QueryRecord.from_dict(data, where)
            except UnicodeEncodeError:
                if malformed is None:
                    raise InputError(f"{where}: not UTF-8 text") from None
                malformed.add(where, "not UTF-8 text")
                continue
            except InputError as exc:
                if malformed is None:
                    raise
                malformed.add(where, str(exc).removeprefix(f"{where}: "))
                continue
            if malformed is not None:
                malformed.records += 1
            yield record


def normal_address(text: str) -> str | None:
    """A client's IP address written one way (the gateway's ``client``, the monitor's pools):
    from ``203.0.113.7``, ``203.0.113.7:5555``, ``[2001:db8::1]:443``, ``fe80::1%eth0`` or
    ``::ffff:203.0.113.7``; ``None`` if it is none."""
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [IPv6]:port
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # IPv4:port
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)
