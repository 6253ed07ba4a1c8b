"""Benchmark: what the gateway adds over calling the model directly — requests/s, p50 and p99
latency at a fixed offered load from 127.0.0.1, with the query log in SQLite and in PostgreSQL.

"direct" is the same model behind a bare V1 endpoint (FastAPI + uvicorn, no keys, limits,
policy or log); "gateway" is ``miaudit serve`` with a ``full`` key. Each request carries one
instance. Load is open-loop: requests start on a fixed schedule (``--rate`` per second for
``--seconds``), whether or not earlier ones have finished, over 64 keep-alive connections from
one asyncio client that speaks raw HTTP/1.1 (latency counts from the scheduled start, so
queueing shows). Every
configuration runs ``--runs`` times, interleaved; medians are reported.

    python bench/gateway.py                      # 500 requests/s, 10 s, 3 runs each
    python bench/gateway.py --rate 200 --seconds 5 --runs 1
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from starlette.requests import Request  # by name: FastAPI reads the string annotations

ROOT = Path(__file__).parent
RESULTS = ROOT / "results"
sys.path.insert(0, str(ROOT.parent / "tests" / "gateway"))


def serve_direct(port: int, model_path: str) -> None:
    """The baseline: the model behind a bare V1 endpoint."""
    import uvicorn
    from fastapi import FastAPI
    from fastapi.responses import JSONResponse

    from miaudit.gateway import Backend, load_model
    from miaudit.targets.harden import OutputPolicy

    backend = Backend(load_model(model_path), "iris")
    full, rng = OutputPolicy(), np.random.default_rng(0)
    app = FastAPI()

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/v1/models/iris:predict")
    async def predict(request: Request) -> JSONResponse:
        body = await request.json()
        answers = backend.answer(backend.predict(body["instances"]), full, rng)
        return JSONResponse({"predictions": answers})

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


class _Connection:
    """One keep-alive HTTP/1.1 connection speaking just enough HTTP for the benchmark: a
    Python HTTP client (httpx) costs more CPU per request than the server it measures."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def request(self, data: bytes) -> int:
        self.writer.write(data)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        await self.reader.readexactly(length)
        return status


async def load(
    url: str,
    key: str | None,
    rate: float,
    seconds: float,
    instances: list[list[float]] | None = None,
) -> dict[str, float]:
    """Open-loop load: request i starts at i / rate seconds, on a free keep-alive connection,
    and carries ``instances[i % len(instances)]`` (default: one iris flower)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    auth = f"Authorization: Bearer {key}\r\n" if key else ""

    def request(instance: list[float]) -> bytes:
        body = json.dumps({"instances": [instance]}).encode()
        return (
            f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n{auth}"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode() + body

    datas = [request(i) for i in (instances or [[5.1, 3.5, 1.4, 0.2]])]
    free: asyncio.Queue[_Connection] = asyncio.Queue()
    for _ in range(64):
        free.put_nowait(_Connection(*await asyncio.open_connection(parts.hostname, parts.port)))
    latencies: list[float] = []
    failures = 0

    async def one(scheduled: float, data: bytes) -> None:
        nonlocal failures
        connection = await free.get()
        try:
            status = await connection.request(data)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            failures += 1
            return
        free.put_nowait(connection)
        if status == 200:
            latencies.append(time.perf_counter() - scheduled)  # queueing counts
        else:
            failures += 1

    tasks = []
    begin = time.perf_counter()
    for i in range(int(rate * seconds)):
        scheduled = begin + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(scheduled, datas[i % len(datas)])))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - begin
    while not free.empty():
        free.get_nowait().writer.close()
    ms = np.array(latencies) * 1000
    return {
        "offered_rps": rate,
        "achieved_rps": len(latencies) / elapsed,
        "p50_ms": float(np.percentile(ms, 50)) if len(ms) else float("nan"),
        "p99_ms": float(np.percentile(ms, 99)) if len(ms) else float("nan"),
        "failures": failures,
    }


def start(command: list[str]) -> tuple[subprocess.Popen, str]:
    """Start a server whose command ends where its port goes; wait until it answers."""
    import httpx
    from gateway_run import free_port

    port = free_port()
    process = subprocess.Popen([*command, str(port)], stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return process, base
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"server did not start: {process.stderr.read() if process.stderr else ''}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=500)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--serve-direct", nargs=2, metavar=("MODEL", "PORT"), help=argparse.SUPPRESS
    )
    parser.add_argument(
        "--commit-cost", action="store_true", help="only measure one log commit, Core vs driver"
    )
    args = parser.parse_args()
    if args.serve_direct:
        serve_direct(int(args.serve_direct[1]), args.serve_direct[0])
        return
    import skops.io
    from gateway_run import Postgres, add_key
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    work = Path(tempfile.mkdtemp(prefix="miaudit-gw-bench-"))
    x, y = load_iris(return_X_y=True)
    model_path = work / "iris.skops"
    skops.io.dump(LogisticRegression(max_iter=500).fit(x, y), model_path)
    postgres = Postgres()
    miaudit = [sys.executable, "-m", "miaudit", "serve", str(model_path), "--name", "iris"]
    configs = {
        "direct": ([sys.executable, __file__, "--serve-direct", str(model_path)], None),
        "gateway, SQLite": (miaudit, str(work / "gateway.db")),
        "gateway, PostgreSQL": (miaudit, postgres.url),
    }
    found: dict[str, list[dict[str, float]]] = {name: [] for name in configs}
    try:
        for _ in range(args.runs):
            for name, (command, db) in configs.items():
                key = None
                if db is not None:
                    key = add_key(db, f"bench-{len(found[name])}", "full", "100000/s", 100000)
                    command = [*command, "--db", db, "--port"]
                process, base = start(command)
                try:
                    found[name].append(
                        asyncio.run(
                            load(f"{base}/v1/models/iris:predict", key, args.rate, args.seconds)
                        )
                    )
                finally:
                    process.terminate()
                    process.wait(timeout=10)
    finally:
        postgres.stop()
    rows = []
    direct_p50 = float(np.median([r["p50_ms"] for r in found["direct"]]))
    print(f"{args.rate:g} requests/s offered for {args.seconds:g} s, {args.runs} runs (medians)")
    print(f"{'':<22}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'added p50':>11}{'failed':>8}")
    for name, runs in found.items():
        row = {k: float(np.median([r[k] for r in runs])) for k in runs[0]}
        row["added_p50_ms"] = row["p50_ms"] - direct_p50
        rows.append({"config": name, **row, "runs": runs})
        print(
            f"{name:<22}{row['achieved_rps']:8.0f}{row['p50_ms']:9.2f}{row['p99_ms']:9.2f}"
            f"{row['added_p50_ms']:11.2f}{row['failures']:8.0f}"
        )
    RESULTS.mkdir(exist_ok=True)
    payload = {"rate": args.rate, "seconds": args.seconds, "cpus": os.cpu_count(), "rows": rows}
    (RESULTS / "gateway.json").write_text(json.dumps(payload, indent=2) + "\n")
    print(f"\nwrote {RESULTS / 'gateway.json'}")


if __name__ == "__main__":
    main()
