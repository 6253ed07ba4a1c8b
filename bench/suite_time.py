"""The test suite's wall time on this machine, idle and under load: the README's test command
(``pytest -q``) run in a fresh process, first with nothing else running, then with ``--load N``
busy processes (pure-Python spin loops, one core each) competing for the cores — the "load 4"
of issue 23. Prints a table and writes ``bench/results/suite_time.json``.

    python bench/suite_time.py                 # idle, then load 4; one run each
    python bench/suite_time.py --runs 3 --load 4 --load 0

Each run is the whole suite; quote the median of several runs, and the ratio loaded/idle from
the same invocation (the machine is shared and noisy). Failed tests are listed beside the time
(a test that fails only under load is a finding, not noise).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "suite_time.json"


def _spin() -> None:  # pragma: no cover - runs in the load processes
    while True:
        pass


def run_suite(load: int, extra: list[str]) -> tuple[float, int, str, list[str]]:
    """(seconds, exit code, pytest's last line, the FAILED lines) for one run of the suite
    beside ``load`` spinning processes; pytest's whole output is kept in
    ``bench/results/suite_time.load{load}.log``."""
    spinners = [multiprocessing.Process(target=_spin, daemon=True) for _ in range(load)]
    for process in spinners:
        process.start()
    try:
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *extra],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        seconds = time.perf_counter() - start
    finally:
        for process in spinners:
            process.terminate()
            process.join()
    RESULTS.with_name(f"suite_time.load{load}.log").write_text(done.stdout + done.stderr)
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    failed = [line for line in lines if line.startswith("FAILED ")]
    return seconds, done.returncode, lines[-1] if lines else done.stderr[-300:], failed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1, help="runs per load level")
    parser.add_argument(
        "--load", type=int, action="append", help="busy processes beside the suite (repeatable)"
    )
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments")
    args = parser.parse_args()
    loads = args.load or [0, 4]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    rows = []
    for load in loads:
        times, failures = [], []
        for _ in range(args.runs):
            seconds, code, last, failed = run_suite(load, args.pytest_args)
            print(f"load {load}: {seconds:7.1f} s  exit {code}  {last}", flush=True)
            print("".join(f"  {line}\n" for line in failed), end="")
            times.append(seconds)
            failures += failed
        rows.append(
            {"load": load, "runs": times, "median_s": statistics.median(times), "failed": failures}
        )
    idle = next((r["median_s"] for r in rows if r["load"] == 0), None)
    print(f"\n{'load':>4} {'median':>9} {'runs':>5} {'× idle':>7}")
    for row in rows:
        ratio = f"{row['median_s'] / idle:.2f}" if idle else "-"
        print(f"{row['load']:>4} {row['median_s']:>8.1f}s {len(row['runs']):>5} {ratio:>7}")
    RESULTS.write_text(
        json.dumps(
            {
                "command": "pytest -q " + " ".join(args.pytest_args),
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "rows": rows,
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
