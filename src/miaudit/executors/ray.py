"""The Ray executor: one Ray task per item on a cluster, and connecting to that cluster the way
teams run one: started beforehand (``ray start --head``, then ``ray start --address HEAD:PORT``
on each worker), with Ray's token authentication (on by default since Ray 2.5x), and quiet
unless asked (``miaudit ... --verbose``).

The token: Ray clients send it only when ``RAY_AUTH_MODE=token``. When that variable is unset
and a token is at hand (``RAY_AUTH_TOKEN``, the file ``RAY_AUTH_TOKEN_PATH`` names, or
``~/.ray/auth_token``, which ``ray start --head`` writes), miaudit sets it for this process.
``RAY_AUTH_MODE=disabled`` (on the cluster and here) turns authentication off.

Niceness: Ray starts its workers at niceness 15 (``RAY_worker_niceness``), so on a machine where
anything else runs they get almost no CPU (measured: a map of 12 trivial tasks beside four
busy loops on 2 cores, not done in 200 s; at niceness 0, 39 s). A local Ray that miaudit starts
for a run gives its workers niceness 0, as the local executor's processes have, unless
``RAY_worker_niceness`` is set; a cluster started beforehand keeps the niceness it was started
with (``RAY_worker_niceness=0 ray start ...`` to change it).
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from miaudit.errors import InputError, require
from miaudit.executors.interface import Executor, Prepare, Work, enter_worker, unchanged

_SETTINGS = {"verbose": False}


def set_verbose(verbose: bool) -> None:
    """Let Ray's own log lines through (``--verbose``); by default miaudit silences them."""
    _SETTINGS["verbose"] = bool(verbose)


def token_available() -> bool:
    """Whether a Ray authentication token is at hand for this process."""
    if os.environ.get("RAY_AUTH_TOKEN"):
        return True
    path = os.environ.get("RAY_AUTH_TOKEN_PATH")
    return Path(path).is_file() if path else (Path.home() / ".ray" / "auth_token").is_file()


@contextmanager
def ray_session(address: str | None) -> Iterator[Any]:
    """Ray, connected to the cluster at ``address``, or to the one this process is already
    connected to, or (neither) to a local one started for this run and stopped after it."""
    ray: Any = require("ray", "ray", "The Ray executor")
    started = not ray.is_initialized()
    if not started and address not in (None, "auto", "local"):
        _check_connected(ray, address)
    if started:
        address = address or os.environ.get("RAY_ADDRESS")
        check_reachable(address)
        remote = address not in (None, "local")
        if remote and "RAY_AUTH_MODE" not in os.environ and token_available():
            _token_mode()
        verbose = _SETTINGS["verbose"]
        with _stderr_captured(not verbose) as captured:
            try:
                ray.init(
                    address=address,
                    include_dashboard=False,
                    log_to_driver=verbose,
                    logging_level=logging.INFO if verbose else logging.ERROR,
                    **({} if remote else local_settings()),
                )
            except (ConnectionError, RuntimeError, ValueError) as exc:
                raise InputError(_explain(address, exc, captured())) from None
    try:
        yield ray
    finally:
        if started:
            ray.shutdown()


def local_settings() -> dict[str, Any]:
    """``ray.init`` arguments for a local Ray that miaudit starts: workers at niceness 0 (Ray's
    15 starves them beside any other work) unless ``RAY_worker_niceness`` says otherwise."""
    if "RAY_worker_niceness" in os.environ:
        return {}
    return {"_system_config": {"worker_niceness": 0}}


def _check_connected(ray: Any, address: str) -> None:
    """This process is connected to a Ray already and ``address`` names a cluster: it must be
    that one (never a silent run on another cluster than the one asked for)."""
    check_reachable(address)
    try:
        connected = ray.get_runtime_context().gcs_address
    except (AttributeError, RuntimeError):  # an older Ray: nothing to compare with
        return
    if not connected:
        return
    if address.startswith("ray://"):  # a client port: nothing to compare it with
        raise InputError(
            f"this process is already connected to the Ray cluster at {connected}; a ray:// "
            f"address ({address!r}) cannot be checked against it: call ray.shutdown() first, "
            "or leave the address out to use that one"
        )
    host, port = _split(address)
    c_host, c_port = _split(str(connected))
    if port != c_port or _ip(host) != _ip(c_host):
        raise InputError(
            f"this process is already connected to the Ray cluster at {connected}, not "
            f"{address!r}: call ray.shutdown() first, or leave the address out to use that one"
        )


def _ip(host: str) -> str:
    """``host`` as an address; all of this machine's names and addresses as one (an address
    this machine can bind is its own)."""
    try:
        family, _, _, _, where = socket.getaddrinfo(host, None)[0]
    except (OSError, UnicodeError):
        return host
    found = str(where[0])
    try:
        with socket.socket(family) as probe:
            probe.bind((found, 0))
    except OSError:
        return found
    return "this machine"


def _token_mode() -> None:
    """Send the token: ``RAY_AUTH_MODE=token`` for this process and its children, and Ray's
    cached configuration re-read (it is read once, when Ray is imported)."""
    os.environ["RAY_AUTH_MODE"] = "token"
    try:
        from ray._raylet import Config

        Config.initialize("")
    except (ImportError, AttributeError):  # another Ray: the variable alone has to do
        pass


def _explain(address: str | None, exc: Exception, log: str) -> str:
    if "InvalidAuthToken" in log or "Unauthenticated" in log or "uthentication" in str(exc):
        return (
            f"the Ray cluster at {address!r} refused this client's token (missing or wrong). "
            "Give it the cluster's token: run `ray get-auth-token` on the head node and put it "
            "in RAY_AUTH_TOKEN, ~/.ray/auth_token or a file named by RAY_AUTH_TOKEN_PATH "
            "(a cluster started with RAY_AUTH_MODE=disabled needs none; docs/reference-models.md)"
        )
    last = [line for line in log.splitlines() if line.strip()][-1:]
    detail = f" (Ray said: {last[0].strip()[:300]})" if last else ""
    return f"cannot connect to the Ray cluster at {address!r}: {exc}{detail}"


@contextmanager
def _stderr_captured(enabled: bool) -> Iterator[Callable[[], str]]:
    """While ``enabled``, file descriptor 2 (where Ray's C++ core writes its retries) goes to a
    temporary file whose text the caller can read to explain a failure."""
    if not enabled:
        yield lambda: ""
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield lambda: _read(sink)
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


def _read(sink: Any) -> str:
    sink.flush()
    sink.seek(0)
    return sink.read().decode("utf-8", "replace")


def check_reachable(address: str | None, timeout: float = 5.0) -> None:
    """Fail fast on a cluster address nobody answers at: ``ray.init`` retries it forever."""
    if address is None or address in ("auto", "local"):
        return
    host, port = _split(address)
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except (OSError, UnicodeError) as exc:  # UnicodeError: a host name IDNA cannot encode
        raise InputError(f"cannot reach the Ray cluster at {address!r}: {exc}") from exc


def _split(address: str) -> tuple[str, int]:
    """``(host, port)`` of ``HOST:PORT``, ``[IPv6]:PORT`` or ``ray://`` either."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise InputError(f"Ray address {address!r}: expected HOST:PORT, ray://HOST:PORT or auto")
    return host, int(port)


# ------------------------------------------------------------------ the executor
#: What a Ray worker process holds between tasks: the payload's key, the function and the
#: prepared state (one payload at a time: a new map replaces the old one).
_HELD: dict[str, Any] = {}


def _run_on_ray(box: list[Any], item: Any) -> Any:
    """One item in a Ray worker. ``box`` holds the payload's object reference inside a list,
    so that Ray does not fetch it for every task: the worker fetches and prepares it once."""
    ray: Any = require("ray", "ray", "The Ray executor")
    enter_worker()  # a task has 1 CPU
    key = box[0].hex()
    if _HELD.get("key") != key:
        fn, prepare, shared = ray.get(box[0])
        _HELD.clear()
        _HELD.update(key=key, fn=fn, state=prepare(shared))
    return _HELD["fn"](_HELD["state"], item)


class RayExecutor(Executor):
    """One Ray task per item (1 CPU each) on the cluster at ``address``, or on the cluster
    this process is already connected to, or (neither) on a local one started for the map and
    stopped after it. ``workers`` caps the tasks in flight (``None``: all of them, and Ray
    runs as many as the cluster has CPUs). The workers must be able to import miaudit and the
    code of ``fn``, ``prepare`` and the payload (the same environment)."""

    name = "ray"

    def __init__(self, workers: int | None = None, address: str | None = None) -> None:
        super().__init__(workers)
        #: The cluster's address (``HOST:PORT``, ``ray://HOST:PORT``, ``auto``), or ``None``.
        self.address = address

    def map(
        self,
        fn: Work,
        items: Sequence[Any],
        shared: Any = None,
        prepare: Prepare = unchanged,
    ) -> Iterator[Any]:
        """``fn(state, item)`` per item as a Ray task, yielded as each finishes. ``fn``,
        ``prepare`` and ``shared`` go to the object store once; each worker process fetches
        them and runs ``prepare`` once, before its first task of this map."""
        if not items:
            return
        with ray_session(self.address) as ray:
            task = ray.remote(num_cpus=1)(_run_on_ray)
            box = [ray.put((fn, prepare, shared))]
            waiting = list(items)[::-1]
            first = min(self.workers or len(items), len(items))
            pending = [task.remote(box, waiting.pop()) for _ in range(first)]
            try:
                while pending:
                    done, pending = ray.wait(pending, num_returns=1)
                    if waiting:
                        pending.append(task.remote(box, waiting.pop()))
                    yield ray.get(done[0])
            finally:
                for ref in pending:  # an error, or the caller stopped early
                    ray.cancel(ref)

    def __repr__(self) -> str:
        return f"RayExecutor(workers={self.workers}, address={self.address!r})"
