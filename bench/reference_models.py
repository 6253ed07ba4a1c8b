"""Benchmark: reference-model attacks as a function of the number of reference models.

Two tasks, both generated or bundled (no downloads):

* ``purchase`` — a stand-in for Purchase100: 100 classes, 600 binary features (each class a
  random binary prototype, each record its prototype with 38% of the bits flipped); an MLP
  (128 hidden units, no weight decay) trained to 100% train accuracy on 2,500 members;
  2,500 non-members and 5,000 population records, so TPR at 0.1% FPR is resolvable, and a
  lone reference model can train on population records only.
* ``digits`` — scikit-learn's digits (1,797 images, 10 classes): an MLP on 400 members; 400
  non-members, 997 population records (too few to resolve TPR at 0.1% FPR: reported as such).

For each number of reference models M, a fresh subprocess trains the M models (local process
pool, cold cache) and runs population (the loss attack, thresholds calibrated on population
records), shadow, LiRA offline/online and RMIA offline/online (at softmax temperature 1, the
default, and 2, from the cached models): AUC and TPR at 0.1% / 1% FPR,
the wall time of the cold run, and its peak resident memory (this process and its workers).
``--repeats`` further runs re-audit from the warm cache (no training) and give the median time
of the attacks alone. Each run also times one ``roc_auc_score`` on the audited records as a
same-machine baseline.

    python bench/reference_models.py                                    # both, M = 1..32
    python bench/reference_models.py --tasks digits --models 1,2,4 --repeats 3
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
import warnings
from pathlib import Path
from typing import Any

import numpy as np

RESULTS = Path(__file__).parent / "results"
ATTACKS = ["loss", "shadow", "lira-offline", "lira-online", "rmia-offline", "rmia-online"]
LABELS = {"loss": "population (loss)"}


def purchase_like(
    n: int,
    seed: int = 0,
    classes: int = 100,
    features: int = 600,
    flip: float = 0.38,
    density: float = 0.25,
) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    prototypes = rng.random((classes, features)) < density
    y = rng.integers(0, classes, n)
    x = (prototypes[y] ^ (rng.random((n, features)) < flip)).astype(np.float64)
    return x, y


def task(name: str) -> tuple[Any, tuple, tuple, tuple]:
    from sklearn.datasets import load_digits
    from sklearn.neural_network import MLPClassifier

    if name == "purchase":
        x, y = purchase_like(10_000)
        model = MLPClassifier((128,), alpha=0.0, max_iter=100, random_state=0)
        sizes = (2500, 2500)
    elif name == "digits":
        digits = load_digits()
        x, y = digits.data / 16.0, digits.target
        model = MLPClassifier((128,), alpha=0.0, max_iter=300, random_state=0)
        sizes = (400, 400)
    else:
        raise SystemExit(f"unknown task {name}")
    order = np.random.default_rng(1).permutation(len(y))
    x, y = x[order], y[order]
    a, b = sizes
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(x[:a], y[:a])
    return model, (x[:a], y[:a]), (x[a : a + b], y[a : a + b]), (x[a + b :], y[a + b :])


def peak_rss_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, workers) / 1024


def child(name: str, n_models: int, cache: Path) -> dict[str, Any]:
    from sklearn.metrics import roc_auc_score

    import miaudit

    model, members, nonmembers, population = task(name)
    target = miaudit.SklearnTarget(model)
    start = time.perf_counter()
    result = miaudit.audit(
        target,
        members,
        nonmembers,
        population,
        attacks=ATTACKS,
        reference_models=n_models,
        executor="local",
        cache_dir=cache,
        seed=0,
    )
    elapsed = time.perf_counter() - start
    # RMIA at softmax temperature 2, from the same (now cached) reference models.
    tempered = miaudit.audit(
        target,
        members,
        nonmembers,
        population,
        attacks=["rmia-offline", "rmia-online"],
        reference_models=n_models,
        executor="local",
        cache_dir=cache,
        seed=0,
        attack_params={"rmia-offline": {"temperature": 2}, "rmia-online": {"temperature": 2}},
    )
    table = result.score_table
    t0 = time.perf_counter()
    roc_auc_score(table.membership, table.scores["loss"])
    baseline = time.perf_counter() - t0
    rows = {}
    for audited, suffix in ((result, ""), (tempered, " (T=2)")):
        for attack in ATTACKS if not suffix else ["rmia-offline", "rmia-online"]:
            found = audited.attack(attack)
            if found is None:
                reason = next(s.reason for s in audited.skipped if s.name == attack)
                rows[attack + suffix] = {"skipped": reason}
                continue
            rows[attack + suffix] = {
                "auc": found.auc.value,
                "tpr_0.001": found.tpr(0.001).tpr.value,
                "tpr_0.01": found.tpr(0.01).tpr.value,
                "variant": audited.reference["variants"].get(attack),
            }
    return {
        "task": name,
        "models": n_models,
        "trained": result.reference["trained"],
        "seconds": elapsed,
        "baseline_auc_s": baseline,
        "peak_rss_mb": peak_rss_mb(),
        "train_accuracy": result.model.train_accuracy.value,
        "test_accuracy": result.model.test_accuracy.value,
        "attacks": rows,
    }


def run_child(name: str, n_models: int, cache: Path) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", name, str(n_models), str(cache)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def fmt(value: float | None) -> str:
    return "n/r" if value is None else f"{value:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", default="purchase,digits")
    parser.add_argument("--models", default="1,2,4,8,16,32")
    parser.add_argument(
        "--repeats",
        type=int,
        default=3,
        help="runs per configuration: 1 cold (trains) + warm re-audits",
    )
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        name, n_models, cache = args.child
        print(json.dumps(child(name, int(n_models), Path(cache))))
        return
    records = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.tasks.split(","):
            for n_models in map(int, args.models.split(",")):
                cache = Path(tmp) / f"{name}-{n_models}"
                cold = run_child(name, n_models, cache)
                warm = [run_child(name, n_models, cache) for _ in range(args.repeats - 1)]
                assert all(w["trained"] == 0 for w in warm)
                assert all(w["attacks"] == cold["attacks"] for w in warm)  # same scores
                cold["warm_seconds_median"] = (
                    statistics.median(w["seconds"] for w in warm) if warm else None
                )
                cold["baseline_auc_s_median"] = statistics.median(
                    r["baseline_auc_s"] for r in [cold, *warm]
                )
                records.append(cold)
                print(
                    f"{name} M={n_models}: cold {cold['seconds']:.1f} s "
                    f"(trained {cold['trained']}), warm "
                    f"{cold['warm_seconds_median'] or float('nan'):.1f} s, peak "
                    f"{cold['peak_rss_mb']:.0f} MB",
                    flush=True,
                )
    header = (
        f"{'task':<9} {'M':>3} {'attack':<18} {'AUC':>6} {'TPR@0.1%':>9} {'TPR@1%':>7} "
        f"{'cold s':>7} {'warm s':>7} {'peak MB':>8}"
    )
    lines = [header, "-" * len(header)]
    for r in records:
        for attack, row in r["attacks"].items():
            label = LABELS.get(attack, attack)
            cost = (
                f"{r['seconds']:>7.1f} {r['warm_seconds_median'] or float('nan'):>7.1f} "
                f"{r['peak_rss_mb']:>8.0f}"
            )
            if "skipped" in row:
                why = (
                    "needs more models"
                    if "pass reference_models" in row["skipped"]
                    else "a record is IN for no model"
                )
                lines.append(
                    f"{r['task']:<9} {r['models']:>3} {label:<18} {'not run: ' + why:<24} {cost}"
                )
            else:
                lines.append(
                    f"{r['task']:<9} {r['models']:>3} {label:<18} {fmt(row['auc']):>6} "
                    f"{fmt(row['tpr_0.001']):>9} {fmt(row['tpr_0.01']):>7} {cost}"
                )
    print("\n".join(lines))
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "reference_models.json"
    out.write_text(
        json.dumps(
            {
                "machine": {
                    "python": platform.python_version(),
                    "platform": platform.platform(),
                    "cpus": __import__("os").cpu_count(),
                },
                "repeats": args.repeats,
                "runs": records,
                "table": lines,
            },
            indent=2,
        )
    )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
