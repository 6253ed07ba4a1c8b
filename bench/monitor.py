"""Benchmark: the campaign monitor on simulated traffic (``miaudit.monitor.simulate``).

1. Detection. Each run calibrates thresholds on one benign log (``--benign-keys`` keys, a
   false-alarm rate of 1%) and scores another log — other benign clients, plus one run of
   every campaign — so no threshold is chosen on the traffic it is judged on. Per campaign:
   how often it is caught, and the queries it had sent when the first alert came; for the
   benign keys: the share flagged, with its Clopper-Pearson 95% interval. The same logs are
   also scored with the documented default thresholds (no baseline).
2. Throughput and memory of the offline monitor (``miaudit monitor LOG``, JSON Lines parsing
   included) on logs of 100,000 to 1,000,000 queries from the same keys: days of traffic.
3. The latency the online monitor adds to the gateway: ``miaudit serve`` with and without
   ``--monitor``, open-loop load from 127.0.0.1, each request a fresh record.

    python bench/monitor.py                 # 5 runs × 500 benign keys, a 1.1M-query log
    python bench/monitor.py --runs 2 --benign-keys 200 --days 3 --skip-online
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
from scipy.stats import beta

ROOT = Path(__file__).parent
RESULTS = ROOT / "results"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT.parent / "tests" / "gateway"))
sys.path.insert(0, str(ROOT.parent / "tests"))  # gateway_run's cli_in_process
SECRET = "bench-monitor-secret-0123456789"
#: Lines that are no record, one written after every 1,000 records of the throughput log.
JUNK = ("not json", '{"time": "noon"}', "[" * 5000, '{"time": ' + "9" * 5000 + "}", "[1, 2]")


def clopper_pearson(k: int, n: int) -> tuple[float, float]:
    low = beta.ppf(0.025, k, n - k + 1) if k else 0.0
    high = beta.ppf(0.975, k + 1, n - k) if k < n else 1.0
    return float(low), float(high)


def detection(runs: int, benign_keys: int) -> dict:
    from miaudit.monitor import calibrate, defaults
    from miaudit.monitor.simulate import CAMPAIGNS, simulate, world

    made = world(0)
    found: dict[str, list] = {"calibrated": [], "defaults": []}
    thresholds = []
    for run in range(runs):
        baseline = simulate(made, benign_keys, campaigns=(), seed=1000 + run)
        calibration = calibrate(lambda b=baseline: b.records, made.index, 0.01)
        thresholds.append(calibration.thresholds)
        traffic = simulate(made, benign_keys, seed=2000 + run)
        for name, chosen in (("calibrated", calibration), ("defaults", defaults())):
            caught, flagged = traffic.score(chosen.monitor(made.index))
            kinds = Counter(traffic.benign[k] for k in flagged)
            found[name].append(
                {
                    "caught": caught,
                    "flagged": len(flagged),
                    "flagged_kinds": dict(kinds),
                    "flagged_by": dict(Counter(flagged.values())),
                    "benign": len(traffic.benign),
                    "expected_false_alarms": chosen.expected_false_alarms,
                }
            )
        print(f"  run {run + 1}/{runs}: {len(traffic.records)} queries", flush=True)
    table = {name: summarise(rows, CAMPAIGNS) for name, rows in found.items()}
    medians = {d: float(np.median([t[d] for t in thresholds])) for d in thresholds[0]}
    return {"runs": found, "summary": table, "median_thresholds": medians}


def adaptive(runs: int, benign_keys: int, workers: int = 1) -> dict:
    """The campaigns of an attacker who has read the monitor (``ADAPTIVE``, issue 24), each
    seed on a log of its own: calibrated at 1% on one benign log, scored on another (other
    benign clients plus one run of every adaptive campaign). Per campaign: caught in how many
    seeds, the queries it had sent at the first alert, and the share of its answers that were
    given before it; the benign keys flagged. Seeds run in ``workers`` processes."""
    from concurrent.futures import ProcessPoolExecutor

    from miaudit.monitor.simulate import ADAPTIVE

    with ProcessPoolExecutor(max_workers=max(1, workers)) as pool:
        rows = []
        for row in pool.map(_adaptive_run, range(runs), [benign_keys] * runs):
            rows.append(row)
            hit = ", ".join(sorted(row["caught"]))
            print(f"  run {row['run'] + 1}/{runs}: caught {hit or 'none'}; {row['flagged']} "
                  f"benign flagged", flush=True)  # fmt: skip
    table = summarise(rows, ADAPTIVE)
    for name in ADAPTIVE:
        table[name]["median_answers_before_alert"] = float(
            np.median([r["answers_before_alert"][name] for r in rows])
        )
        table[name]["keys_alerted"] = [r["keys_alerted"][name] for r in rows]
        shares = [r["caught"][name][0] / r["sent"][name] for r in rows if name in r["caught"]]
        table[name]["median_share_answered_before_alert"] = (
            float(np.median(shares)) if shares else None
        )
        table[name]["median_sent"] = float(np.median([r["sent"].get(name, 0) for r in rows]))
    return {"runs": rows, "summary": table}


def _adaptive_run(run: int, benign_keys: int) -> dict:
    """One seed of :func:`adaptive`."""
    from miaudit.monitor import calibrate
    from miaudit.monitor.simulate import ADAPTIVE, simulate, world

    made = world(0)
    baseline = simulate(made, benign_keys, campaigns=(), seed=3000 + run)
    calibration = calibrate(lambda b=baseline: b.records, made.index, 0.01)
    traffic = simulate(made, benign_keys, campaigns=ADAPTIVE, seed=4000 + run)
    owner = {key: name for name, keys in traffic.campaigns.items() for key in keys}
    sent: Counter[str] = Counter()
    caught: dict[str, tuple[int, str]] = {}
    flagged: dict[str, str] = {}
    alerted: dict[str, set] = {name: set() for name in traffic.campaigns}
    answered_after: Counter[str] = Counter()  # answers to keys already alerted
    monitor = calibration.monitor(made.index)
    for record in traffic.records:
        name = owner.get(record.key)
        if name is not None:
            sent[name] += 1
            answered_after[name] += record.key in alerted[name]
        for alert in monitor.observe(record):
            for key in alert.keys:
                if key in owner:
                    caught.setdefault(owner[key], (sent[owner[key]], alert.detector))
                    alerted[owner[key]].add(key)
                else:
                    flagged.setdefault(key, alert.detector)
    return {
        "run": run,
        "caught": caught,
        "sent": dict(sent),
        "keys_alerted": {n: f"{len(k)}/{len(traffic.campaigns[n])}" for n, k in alerted.items()},
        # answers an attacker got from keys not (yet) alerted: what a gateway acting on alerts
        # (label-only, block) would still have given
        "answers_before_alert": {n: sent[n] - answered_after[n] for n in traffic.campaigns},
        "flagged": len(flagged),
        "flagged_kinds": dict(Counter(traffic.benign[k] for k in flagged)),
        "flagged_by": dict(Counter(flagged.values())),
        "benign": len(traffic.benign),
        "expected_false_alarms": calibration.expected_false_alarms,
        "settings": {
            "baseline_rate": calibration.settings.baseline_rate,
            "overlap_rate": calibration.settings.overlap_rate,
        },
        "thresholds": calibration.thresholds,
    }


def power(runs: int, benign_keys: int, limit: int = 3000) -> dict:
    """The power curve of ``training-overlap``: queries to its first alert against a key's
    training share, at thresholds calibrated at 1% on benign traffic whose clients' training
    share is 5% (the simulator's default) or 1%. Each key sends distinct records (fresh ones,
    and training records at its share, nudged by 1e-3 standard deviations), full outputs, up to
    ``limit`` queries; ``runs`` keys per share, each with its own calibration seed."""
    from miaudit.monitor import calibrate
    from miaudit.monitor.simulate import START, simulate, world
    from miaudit.querylog import QueryRecord

    made = world(0)
    scale = made.population.std(axis=0)
    curves: dict[str, dict] = {}
    for benign_share in (0.05, 0.01):
        rows: dict[str, list] = {}
        fitted = []
        for run in range(runs):
            baseline = simulate(made, benign_keys, campaigns=(), seed=5000 + run,
                                train_share=benign_share)  # fmt: skip
            calibration = calibrate(lambda b=baseline: b.records, made.index, 0.01)
            fitted.append((calibration.settings.baseline_rate,
                           calibration.settings.overlap_rate,
                           calibration.thresholds["training-overlap"]))  # fmt: skip
            rng = np.random.default_rng(6000 + run)
            for share in (0.03, 0.05, 0.1, 0.25, 0.5):
                monitor = calibration.monitor(made.index)
                members = rng.random(limit) < share
                data = made.fresh(rng, limit)
                picked = rng.choice(len(made.members), int(members.sum()), replace=False)
                data[members] = made.members[picked] + rng.normal(
                    size=(int(members.sum()), data.shape[1])) * 1e-3 * scale  # fmt: skip
                first = None
                for i, row in enumerate(data):
                    record = QueryRecord(START + i, "k", str(i), "m", row.tolist(),
                                         [0.5, 0.5], "full", 200)  # fmt: skip
                    if any(a.detector == "training-overlap" for a in monitor.observe(record)):
                        first = i + 1
                        break
                rows.setdefault(str(share), []).append(first)
        curves[f"benign share {benign_share}"] = {
            "fitted (pooled rate, p*, threshold)": fitted,
            "queries_to_alert": rows,
            "median": {
                k: (
                    float(np.median([q for q in v if q]))
                    if sum(q is not None for q in v) > len(v) / 2
                    else None
                )
                for k, v in rows.items()
            },
            "caught": {k: f"{sum(q is not None for q in v)}/{len(v)}" for k, v in rows.items()},
        }
        curve = curves[f"benign share {benign_share}"]
        print(f"  benign share {benign_share}: caught {curve['caught']}, median queries "
              f"{curve['median']}", flush=True)  # fmt: skip
    return {"limit": limit, "curves": curves}


def summarise(rows: list[dict], campaigns: tuple[str, ...]) -> dict:
    out = {}
    for name in campaigns:
        queries = [r["caught"][name][0] for r in rows if name in r["caught"]]
        detectors = Counter(r["caught"][name][1] for r in rows if name in r["caught"])
        out[name] = {
            "caught": len(queries),
            "runs": len(rows),
            "within_100": sum(q <= 100 for q in queries),
            "median_queries": float(np.median(queries)) if queries else None,
            "max_queries": max(queries) if queries else None,
            "first_detector": detectors.most_common(1)[0][0] if detectors else None,
        }
    flagged = sum(r["flagged"] for r in rows)
    total = sum(r["benign"] for r in rows)
    kinds: Counter[str] = Counter()
    for r in rows:
        kinds.update(r["flagged_kinds"])
    out["benign"] = {
        "flagged": flagged,
        "keys": total,
        "rate": flagged / total,
        "interval": clopper_pearson(flagged, total),
        "by_kind": dict(kinds),
    }
    return out


def throughput(days: list[int], benign_keys: int, repeats: int) -> list[dict]:
    """The offline monitor on logs of ``days`` days of the same keys' traffic."""
    from miaudit.monitor import TrainingIndex, calibrate
    from miaudit.monitor.simulate import START, simulate, world

    made = world(0)
    work = Path(tempfile.mkdtemp(prefix="miaudit-monitor-bench-"))
    TrainingIndex.build(made.members.tolist(), SECRET.encode()).save(work / "idx.npz")
    baseline = simulate(made, benign_keys, campaigns=(), seed=1)
    calibrate(lambda: baseline.records, made.index, 0.01).save(work / "cal.json")
    rows = []
    junk = 0
    with (work / "log.jsonl").open("w", encoding="utf-8") as out:
        written, day = 0, 0
        for target in sorted(days):
            while day < target:
                traffic = simulate(made, benign_keys, seed=10 + day, start=START + 86400 * day)
                end = START + 86400 * (day + 1)  # a day's log holds that day: time order
                kept = [r for r in traffic.records if r.time < end]
                for number, record in enumerate(kept):  # the same key names every day
                    key = re.sub(r"^benign-[a-z]+-", "benign-", record.key)
                    out.write(replace(record, key=key).to_json() + "\n")
                    if number % 1000 == 999:  # a corrupt line in a thousand: counted, skipped
                        out.write(JUNK[(number // 1000) % len(JUNK)] + "\n")
                        junk += 1
                written += len(kept)
                day += 1
            out.flush()
            timings, memories, alerts, malformed = [], [], 0, 0
            for _ in range(repeats):
                seconds, rss, alerts, malformed = run_monitor(work)
                timings.append(seconds)
                memories.append(rss)
            rows.append(
                {
                    "keys": keys_in(work),
                    "days": target,
                    "queries": written,
                    "seconds": float(np.median(timings)),
                    "queries_per_second": written / float(np.median(timings)),
                    "peak_rss_mb": float(np.median(memories)),
                    "alerts": alerts,
                    "malformed_lines_written": junk,
                    "malformed_lines_counted": malformed,
                }
            )
            print(f"  {written} queries: {rows[-1]['queries_per_second']:,.0f}/s, "
                  f"{rows[-1]['peak_rss_mb']:.0f} MB, {malformed}/{junk} malformed lines "
                  "counted", flush=True)  # fmt: skip
    return rows


def keys_in(work: Path) -> int:
    return int(json.loads((work / "alerts.json").read_text())["keys"])


def run_monitor(work: Path) -> tuple[float, float, int, int]:
    """``miaudit monitor`` in a child process: wall seconds, its peak RSS (MB), alerts, and
    the malformed lines it counted."""
    script = (
        "import resource, subprocess, sys, time, json;"
        "t = time.perf_counter();"
        f"r = subprocess.run([sys.executable, '-m', 'miaudit', 'monitor', '{work / 'log.jsonl'}',"
        f" '--index', '{work / 'idx.npz'}', '--calibration', '{work / 'cal.json'}',"
        f" '--out', '{work / 'alerts.json'}', '--quiet']);"
        "s = time.perf_counter() - t;"
        "print(json.dumps([s, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss]))"
    )
    env = {**os.environ, "MIAUDIT_INDEX_SECRET": SECRET}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
    )
    seconds, rss_kb = json.loads(done.stdout.strip().splitlines()[-1])
    document = json.loads((work / "alerts.json").read_text())
    return seconds, rss_kb / 1024, len(document["alerts"]), document["malformed_lines"]["count"]


def online(rate: float, seconds: float, runs: int) -> dict:
    """p50/p99 of ``miaudit serve`` with and without ``--monitor``."""
    import skops.io
    from gateway_run import add_key

    from gateway import load, start
    from miaudit.monitor import TrainingIndex, calibrate
    from miaudit.monitor.simulate import simulate, world

    made = world(0)
    work = Path(tempfile.mkdtemp(prefix="miaudit-monitor-online-"))
    skops.io.dump(made.model, work / "model.skops")
    TrainingIndex.build(made.members.tolist(), SECRET.encode()).save(work / "idx.npz")
    baseline = simulate(made, 200, campaigns=(), seed=1)
    calibrate(lambda: baseline.records, made.index, 0.01).save(work / "cal.json")
    rows = made.fresh(np.random.default_rng(0), int(rate * seconds)).tolist()
    serve = [sys.executable, "-m", "miaudit", "serve", str(work / "model.skops"),
             "--trust-model-file"]  # fmt: skip
    monitor = ["--monitor", str(work / "cal.json"), "--monitor-index", str(work / "idx.npz"),
               "--on-alert", "none"]  # fmt: skip
    configs = {"gateway": [], "gateway + monitor": monitor}
    found: dict[str, list] = {name: [] for name in configs}
    os.environ["MIAUDIT_INDEX_SECRET"] = SECRET
    for run in range(runs):
        for name, extra in configs.items():
            db = str(work / f"{run}-{len(found[name])}-{name[-7:]}.db")
            key = add_key(db, "bench", "full", "100000/s", 100000)
            process, base = start([*serve, "--db", db, *extra, "--port"])
            try:
                url = f"{base}/v1/models/model:predict"
                found[name].append(asyncio.run(load(url, key, rate, seconds, rows)))
            finally:
                process.terminate()
                process.wait(timeout=30)
    out = {}
    for name, results in found.items():
        out[name] = {k: float(np.median([r[k] for r in results])) for k in results[0]}
        out[name]["runs"] = results
    out["added_p50_ms"] = out["gateway + monitor"]["p50_ms"] - out["gateway"]["p50_ms"]
    out["added_p99_ms"] = out["gateway + monitor"]["p99_ms"] - out["gateway"]["p99_ms"]
    return out


def show_detection(result: dict) -> None:
    for name, table in result["summary"].items():
        print(f"\nthresholds: {name}")
        print(f"{'campaign':<28}{'caught':>8}{'≤100 q':>8}{'median q':>10}{'max q':>7}  first")
        for campaign, row in table.items():
            if campaign == "benign":
                continue
            median = "-" if row["median_queries"] is None else f"{row['median_queries']:.0f}"
            print(
                f"{campaign:<28}{row['caught']:>5}/{row['runs']:<2}{row['within_100']:>6}/"
                f"{row['runs']:<2}{median:>9}{row['max_queries'] or '-':>7}  "
                f"{row['first_detector'] or '-'}"
            )
        benign = table["benign"]
        low, high = benign["interval"]
        print(
            f"benign keys flagged: {benign['flagged']}/{benign['keys']} = {benign['rate']:.2%} "
            f"[{low:.2%}, {high:.2%}] by kind {benign['by_kind']}"
        )


def show_adaptive(found: dict) -> None:
    summary = found["summary"]
    print(f"{'campaign':<20} {'caught':>8} {'median q':>9} {'sent':>6} {'answered before':>16}"
          f" {'unalerted answers':>18}")  # fmt: skip
    for name, row in summary.items():
        if name == "benign":
            continue
        share = row["median_share_answered_before_alert"]
        print(
            f"{name:<20} {row['caught']:>3}/{row['runs']:<4} "
            f"{row['median_queries'] if row['median_queries'] is not None else '-':>9} "
            f"{row['median_sent']:>6.0f} {f'{share:.0%}' if share is not None else '-':>16}"
            f" {row['median_answers_before_alert']:>18.0f}"
        )
    b = summary["benign"]
    low, high = b["interval"]
    print(f"benign flagged: {b['flagged']}/{b['keys']} = {b['rate']:.2%} "
          f"(95% CI {low:.2%}-{high:.2%}); by kind {b['by_kind']}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--benign-keys", type=int, default=500)
    parser.add_argument("--days", type=int, default=6, help="the longest log, in days")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rate", type=float, default=300)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--adaptive-runs", type=int, default=20)
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="processes for the adaptive seeds"
    )
    parser.add_argument(
        "--power-keys", type=int, default=200, help="benign keys of the power curve's baselines"
    )
    parser.add_argument("--skip-detection", action="store_true")
    parser.add_argument("--skip-adaptive", action="store_true")
    parser.add_argument("--power-runs", type=int, default=5)
    parser.add_argument("--skip-power", action="store_true")
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--skip-online", action="store_true")
    args = parser.parse_args()
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / "monitor.json"
    payload = json.loads(path.read_text()) if path.exists() else {}
    payload["cpus"] = os.cpu_count()
    begin = time.perf_counter()
    if not args.skip_detection:
        print(f"detection: {args.runs} runs × {args.benign_keys} benign keys", flush=True)
        payload["detection"] = detection(args.runs, args.benign_keys)
        show_detection(payload["detection"])
        path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    if not args.skip_adaptive:
        print(f"\nadaptive: {args.adaptive_runs} runs × {args.benign_keys} benign keys", flush=True)
        payload["adaptive"] = adaptive(args.adaptive_runs, args.benign_keys, args.workers)
        show_adaptive(payload["adaptive"])
        path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    if not args.skip_power:
        print(f"\npower: training-overlap, {args.power_runs} keys per share", flush=True)
        payload["power"] = power(args.power_runs, args.power_keys)
        path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    if not args.skip_throughput:
        days = sorted({1, max(1, args.days // 3), args.days})
        print(f"\nthroughput: logs of {days} days × 400 keys", flush=True)
        payload["throughput"] = throughput(days, 400, args.repeats)
        path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    if not args.skip_online:
        print(f"\nonline: {args.rate:g} requests/s for {args.seconds:g} s, {args.runs} runs")
        payload["online"] = online(args.rate, args.seconds, min(args.runs, 3))
        o = payload["online"]
        for name in ("gateway", "gateway + monitor"):
            row = o[name]
            print(f"{name:<20} p50 {row['p50_ms']:.2f} ms  p99 {row['p99_ms']:.2f} ms "
                  f"({row['achieved_rps']:.0f} req/s, {row['failures']:.0f} failed)")  # fmt: skip
        print(f"added by the monitor: p50 {o['added_p50_ms']:+.2f} ms, p99 "
              f"{o['added_p99_ms']:+.2f} ms")  # fmt: skip
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    print(f"\nwrote {path} ({time.perf_counter() - begin:.0f} s); ru_maxrss of this process "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")  # fmt: skip


if __name__ == "__main__":
    main()
