"""Benchmark: audit 1,000,000 precomputed records × 100 classes with every metric attack.

Writes a synthetic outputs table (NPZ, float32 logits; members get a confidence boost on their
true class) once, then audits it in fresh subprocesses — as ``miaudit audit --outputs`` would —
and reports wall time and peak resident memory per phase. Each run also times one
``sklearn.metrics.roc_auc_score`` over the same number of scores as a same-machine baseline, so
the ratio column is comparable across noisy machines. Medians over ``--repeats`` runs.

    python bench/audit_scale.py               # 1,000,000 × 100, 3 repeats
    python bench/audit_scale.py --records 100000 --repeats 5
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

METRIC_ATTACKS = [
    "loss",
    "confidence",
    "entropy",
    "modified-entropy",
    "logit-confidence",
    "margin",
    "gap",
]
RESULTS = Path(__file__).parent / "results"


def make_table(path: Path, records: int, classes: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    member = (np.arange(records) < records // 2).astype(np.int8)
    label = rng.integers(0, classes, records)
    logits = rng.normal(0.0, 1.0, (records, classes)).astype(np.float32)
    logits[np.arange(records), label] += (2.0 + 0.5 * member).astype(np.float32)
    np.savez(path, id=np.arange(records), label=label, member=member, logits=logits)


def child(table: Path, attacks: list[str], out: Path) -> dict[str, float]:
    from sklearn.metrics import roc_auc_score

    import miaudit
    from miaudit.targets import OutputsTable, PrecomputedTarget

    start = time.perf_counter()
    target = PrecomputedTarget(OutputsTable.from_file(table))
    loaded = time.perf_counter()
    result = miaudit.audit(target, attacks=attacks, seed=0)
    audited = time.perf_counter()
    result.write(out, ["json", "md", "html"])
    written = time.perf_counter()
    scores = result.score_table.scores[attacks[0]]  # type: ignore[union-attr]
    t0 = time.perf_counter()
    roc_auc_score(result.score_table.membership, scores)  # type: ignore[union-attr]
    baseline = time.perf_counter() - t0
    return {
        "load_s": loaded - start,
        "audit_s": audited - loaded,
        "write_s": written - audited,
        "baseline_auc_s": baseline,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "strongest_auc": result.strongest().auc.value,
    }  # type: ignore[union-attr]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--classes", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--child", nargs=3, metavar=("TABLE", "ATTACKS", "OUT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.child:
        table, attacks, out = args.child
        print(json.dumps(child(Path(table), attacks.split(","), Path(out))))
        return
    rows = {"metric attacks (7)": METRIC_ATTACKS, "classifier (cross-fitted)": ["classifier"]}
    summary: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        table = Path(tmp) / "outputs.npz"
        make_table(table, args.records, args.classes)
        for name, attacks in rows.items():
            runs = []
            for _ in range(args.repeats):
                done = subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "--child",
                        str(table),
                        ",".join(attacks),
                        str(Path(tmp) / "report"),
                    ],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
            summary[name] = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
            summary[name]["runs"] = len(runs)
    header = (
        f"{'attacks':<28}{'load s':>8}{'audit s':>9}{'write s':>9}{'peak MB':>9}"
        f"{'audit/AUC-baseline':>20}"
    )
    print(f"{args.records:,} records × {args.classes} classes, median of {args.repeats} runs")
    print(header)
    for name, row in summary.items():
        print(
            f"{name:<28}{row['load_s']:>8.2f}{row['audit_s']:>9.2f}{row['write_s']:>9.2f}"
            f"{row['peak_rss_mb']:>9.0f}{row['audit_s'] / row['baseline_auc_s']:>19.1f}×"
        )
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "audit_scale.json"
    out.write_text(
        json.dumps(
            {
                "records": args.records,
                "classes": args.classes,
                "repeats": args.repeats,
                "machine": {
                    "python": platform.python_version(),
                    "processor": platform.machine(),
                    "cpus": __import__("os").cpu_count(),
                },
                "results": summary,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
