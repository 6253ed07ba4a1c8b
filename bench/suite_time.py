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
import resource
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


def run_suite(load: int, extra: list[str]) -> tuple[float, float, int, str, list[str], list[str]]:
    """(seconds, CPU seconds, exit code, pytest's last line, the FAILED lines, the processes
    the suite left running) for one run of the suite beside ``load`` spinning processes;
    pytest's whole output is kept in ``bench/results/suite_time.load{load}.log``.

    Seconds: until pytest exits, as a shell's ``time pytest -q`` counts (its output goes to a
    file, so a process it left behind holding a copy of the output cannot stretch the time, as
    a pipe would). Left running: every process still alive after pytest exited that carries
    this run's marker in its environment (so inherited from the suite), by command line; they
    are killed. CPU seconds: user + system time of pytest and every process it waited for
    (read before the spinners are reaped, so theirs is not in it)."""
    marker = f"suite-time-{os.getpid()}-{time.time_ns()}"
    log = RESULTS.with_name(f"suite_time.load{load}.log")
    spinners = [multiprocessing.Process(target=_spin, daemon=True) for _ in range(load)]
    for process in spinners:
        process.start()
    try:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        with log.open("w") as out:
            code = subprocess.run(
                [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *extra],
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, "MIAUDIT_SUITE_RUN": marker},
                check=False,
            ).returncode
        seconds = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    finally:
        for process in spinners:
            process.terminate()
            process.join()
    left = _left_running(marker)
    lines = [line for line in log.read_text().splitlines() if line.strip()]
    failed = [line for line in lines if line.startswith("FAILED ")]
    return seconds, cpu, code, lines[-1] if lines else "(no output)", failed, left


def _left_running(marker: str) -> list[str]:
    """The command lines of live processes whose environment holds ``marker``; killed."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            if marker.encode() not in (proc / "environ").read_bytes():
                continue
            command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()[:200]
            os.kill(int(proc.name), 9)
        except (OSError, ProcessLookupError):
            continue
        found.append(command.strip())
    return found


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
        times, cpus, failures, leftovers = [], [], [], []
        for _ in range(args.runs):
            seconds, cpu, code, last, failed, left = run_suite(load, args.pytest_args)
            line = f"load {load}: {seconds:7.1f} s  cpu {cpu:7.1f} s  exit {code}  {last}"
            print(line, flush=True)
            print("".join(f"  {line}\n" for line in failed), end="")
            print("".join(f"  left running: {command}\n" for command in left), end="")
            times.append(seconds)
            cpus.append(cpu)
            failures += failed
            leftovers += left
        rows.append(
            {
                "load": load,
                "runs": times,
                "median_s": statistics.median(times),
                "cpu_s": cpus,
                "median_cpu_s": statistics.median(cpus),
                "failed": failures,
                "left_running": leftovers,
            }
        )
    idle = next((r for r in rows if r["load"] == 0), None)
    cores = os.cpu_count() or 1
    print(f"\n{'load':>4} {'median':>9} {'cpu':>8} {'runs':>5} {'× idle':>7} {'fair share':>11}")
    for row in rows:
        ratio = f"{row['median_s'] / idle['median_s']:.2f}" if idle else "-"
        print(
            f"{row['load']:>4} {row['median_s']:>8.1f}s {row['median_cpu_s']:>7.0f}s "
            f"{len(row['runs']):>5} {ratio:>7} "
            f"{_fair_share(idle, row['load'], cores, _workers(args.pytest_args, cores)):>11}"
        )
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


def _fair_share(idle: dict | None, load: int, cores: int, workers: int) -> str:
    """The least × idle a run beside ``load`` spinners can take when the scheduler shares the
    cores fairly among runnable processes: the suite's idle CPU seconds at the share its
    ``workers`` get (``workers`` of ``workers + load`` runnable processes, at most one core
    each)."""
    if idle is None:
        return "-"
    share = min(float(workers), cores * workers / (workers + load))  # cores the workers get
    return f"≥ {idle['median_cpu_s'] / share / idle['median_s']:.2f}"


def _workers(pytest_args: list[str], cores: int) -> int:
    """The test workers: ``-n N`` among the arguments, else ``-n auto``'s (tests/conftest.py:
    three per core, at least 2, at most 8)."""
    for flag, value in zip(pytest_args, [*pytest_args[1:], ""], strict=False):
        if flag == "-n" and value.isdigit():
            return int(value)
        if flag.startswith("-n") and flag[2:].isdigit():
            return int(flag[2:])
    return max(2, min(8, 3 * cores))


if __name__ == "__main__":
    main()
