"""Helpers for the gateway tests: the ``miaudit`` command line, keys, ``serve``'s refusals in
process, and a real ``miaudit serve`` process on 127.0.0.1."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from cli_in_process import run_in_process

MIAUDIT = [sys.executable, "-m", "miaudit"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli(*args: str) -> subprocess.CompletedProcess:
    """``miaudit ARGS``: in this process (``keys``, ``log``, ``scan``, ``monitor``: seconds of
    imports saved per call), except ``serve``, which runs as a real server would, in its own
    process with a timeout (a refusal that failed to refuse must not hang the test)."""
    if args[:1] == ("serve",):
        return subprocess.run([*MIAUDIT, *args], capture_output=True, text=True, timeout=120)
    return run_in_process(args)


def refused(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """``miaudit serve ARGS`` for a setup it must refuse before it serves: in this process (no
    interpreter to start), in a thread that must end within ``timeout`` seconds — a serve that
    failed to refuse would serve for ever, and fails the test instead."""
    import threading

    done: list[subprocess.CompletedProcess] = []
    thread = threading.Thread(target=lambda: done.append(run_in_process(["serve", *args])))
    thread.daemon = True
    thread.start()
    thread.join(timeout)
    if not done:
        raise AssertionError(f"miaudit serve {' '.join(args)} did not refuse: it is serving")
    return done[0]


def add_key(
    db: str, name: str, policy: str = "full", rate: str = "1000/s", burst: int = 1000, *extra: str
) -> str:
    done = cli(
        "keys",
        "add",
        "--db",
        db,
        "--name",
        name,
        "--policy",
        policy,
        "--rate",
        rate,
        "--burst",
        str(burst),
        *extra,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


class Server:
    """A running ``miaudit serve``; ``url`` is its base address."""

    def __init__(self, args: list[str], env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [*MIAUDIT, "serve", *args, "--port", str(self.port)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **(env or {})},
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"miaudit serve exited: {self.process.stderr.read()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise AssertionError("miaudit serve did not start within 60 s")

    def kill(self) -> None:
        """``kill -9``: no shutdown, no flush."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


# ---------------------------------------------------------------- real PostgreSQL and Redis
def _binary(name: str) -> str | None:
    """A PostgreSQL or Redis program: on PATH, or where Debian's packages put PostgreSQL's."""
    import glob
    import shutil

    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def _as_postgres_user() -> list[str]:
    """PostgreSQL refuses to run as root: run its programs as the 'postgres' user then."""
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


class Postgres:
    """A throwaway PostgreSQL server on 127.0.0.1 (initdb in a temporary folder, trust auth)."""

    def __init__(self) -> None:
        import tempfile

        initdb, pg_ctl = _binary("initdb"), _binary("pg_ctl")
        if initdb is None or pg_ctl is None:
            raise AssertionError(
                "PostgreSQL is not installed: apt-get install postgresql (.ci/run does)"
            )
        self.port, self.pg_ctl = free_port(), pg_ctl
        # under /tmp itself: pytest's own folders are closed to the 'postgres' user
        root = self.root = Path(tempfile.mkdtemp(prefix="miaudit-pg-"))
        self.data = root / "data"
        if os.geteuid() == 0:
            import shutil

            shutil.chown(root, "postgres", "postgres")
        user = _as_postgres_user()
        subprocess.run(
            [*user, initdb, "-D", str(self.data), "-U", "miaudit", "--auth=trust", "-E", "UTF8"],
            check=True,
            capture_output=True,
            timeout=120,
        )
        options = f"-p {self.port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=on"
        subprocess.run(
            [
                *user,
                pg_ctl,
                "-D",
                str(self.data),
                "-o",
                options,
                "-l",
                str(root / "server.log"),
                "-w",
                "start",
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        import psycopg

        with psycopg.connect(
            f"postgresql://miaudit@127.0.0.1:{self.port}/postgres", autocommit=True
        ) as connection:
            connection.execute("CREATE DATABASE gateway")
        self.url = f"postgresql+psycopg://miaudit@127.0.0.1:{self.port}/gateway"

    def stop(self) -> None:
        import shutil

        subprocess.run(
            [*_as_postgres_user(), self.pg_ctl, "-D", str(self.data), "-m", "immediate", "stop"],
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(self.root, ignore_errors=True)  # 47 MB each: none left behind in /tmp


class Redis:
    """A throwaway redis-server on 127.0.0.1, nothing persisted."""

    def __init__(self) -> None:
        server = _binary("redis-server")
        if server is None:
            raise AssertionError(
                "Redis is not installed: apt-get install redis-server (.ci/run does)"
            )
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = subprocess.Popen(
            [
                server,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        import redis

        deadline = time.monotonic() + 30
        while True:
            try:
                redis.Redis.from_url(self.url).ping()
                return
            except redis.exceptions.ConnectionError:
                if time.monotonic() > deadline:
                    raise AssertionError("redis-server did not start") from None
                time.sleep(0.05)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def predict_url(url: str, key: str, instances: list) -> httpx.Response:
    """One V1 prediction request with a bearer key."""
    return httpx.post(
        url, json={"instances": instances}, headers={"Authorization": f"Bearer {key}"}, timeout=30
    )
