"""Benchmark: reference-model attacks as a function of the number of reference models.

Two tasks, both generated or bundled (no downloads):

* ``purchase`` — a stand-in for Purchase100: 100 classes, 600 binary features (each class a
  random binary prototype, each record its prototype with 38% of the bits flipped); an MLP
  (128 hidden units, no weight decay) trained to 100% train accuracy on 2,500 members;
  2,500 non-members and 5,000 population records, so TPR at 0.1% FPR is resolvable, and a
  lone reference model can train on population records only.
* ``purchase-xl`` — the same generator and target (2,500 members) with 10,000 non-members and
  20,000 population records: TPR at 0.1% FPR with a threshold at the 20th highest population
  score and a narrower interval.
* ``digits`` — scikit-learn's digits (1,797 images, 10 classes): an MLP on 400 members; 400
  non-members, 997 population records (too few to resolve TPR at 0.1% FPR: reported as such).

For each design (``--designs``: all, audited, population) and number of reference models M, a
fresh subprocess trains the M models (local process pool, cold cache) and audits with the
defaults — the reference attacks tuned by leave-one-reference-out replay — timing the cold run
and its peak resident memory (this process and its workers); then, from the cache, it audits
untuned (``tune=False``) and scores every setting of each attack's search space on the audited
labels to find the best fixed setting (an oracle, for this table only). Columns: AUC and TPR at
0.1% / 1% FPR for default (untuned), tuned, and best fixed; what tuning chose and what was
best. ``--repeats`` further runs re-audit from the warm cache (same scores, median time).

    python bench/reference_models.py                          # purchase and digits, M = 1..16
    python bench/reference_models.py --tasks purchase --models 2,8 --designs audited,population \
        --out bench/results/reference_designs.json
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

    if name in ("purchase", "purchase-xl"):
        # purchase-xl: the same target (2,500 members), 4x the non-members and population,
        # so TPR at 0.1% FPR rests on 20 population scores instead of 5
        x, y = purchase_like(10_000 if name == "purchase" else 32_500)
        model = MLPClassifier((128,), alpha=0.0, max_iter=100, random_state=0)
        sizes = (2500, 2500) if name == "purchase" else (2500, 10_000)
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


def metrics_of(found: Any) -> dict[str, Any]:
    return {
        "auc": found.auc.value,
        "tpr_0.001": found.tpr(0.001).tpr.value,
        "tpr_0.001_ci": found.tpr(0.001).tpr.ci,
        "tpr_0.01": found.tpr(0.01).tpr.value,
    }


def empirical_tpr(membership: Any, scores: Any, fpr: float) -> float | None:
    """TPR at the last point of the empirical ROC (members vs every audited non-member) whose
    FPR is at most ``fpr`` — no threshold is calibrated, so this is not what the audit
    reports; it shows what the scores separate, whatever the calibration set."""
    from sklearn.metrics import roc_curve

    if scores is None:
        return None
    rates, tprs, _ = roc_curve(membership, scores)
    return float(tprs[np.searchsorted(rates, fpr, "right") - 1])


def best_fixed(target: Any, sets: tuple, options: Any) -> dict[str, Any]:
    """Every setting each reference attack can be tuned to, scored on the audited labels
    (an oracle, for this table only): the best fixed setting per attack."""
    from miaudit import attacks as registry
    from miaudit.attacks.tuning import candidates
    from miaudit.audit import pipeline as p
    from miaudit.audit.attack_loop import _inputs
    from miaudit.audit.inputs import prepare
    from miaudit.audit.observe import membership_of, observe_classifier
    from miaudit.audit.progress import Silent
    from miaudit.audit.reference import reference_step

    model, audit_sets = prepare(target, *sets, options)
    chosen = [
        a for a in registry.select(ATTACKS, model.modality, True, None) if a.min_reference_models
    ]
    temperatures = p._temperatures(chosen, tune=True)
    membership = membership_of([audit_sets.members, audit_sets.nonmembers, audit_sets.population])
    observation = observe_classifier(model, audit_sets.present, membership, temperatures, Silent())
    references = reference_step(
        model, audit_sets.present, options.reference, observation, 0, temperatures, Silent()
    )
    data, full = _inputs(observation, references, 0)
    evaluation = p.evaluation_for(audit_sets, options, observation, references)
    alike = p._population_alike(references, evaluation.membership)
    best: dict[str, Any] = {}
    for attack in chosen:
        source = full if attack.trains_on_reference_rows else data
        for setting in candidates(attack, source):
            candidate = attack.configure(**setting)
            if candidate.unusable(data):
                continue
            scores = candidate.scores(source)
            if source is full and references.used is not None:
                scores = scores[references.used]
            found = evaluation.attack(attack.name, "", scores, alike)
            row = {**metrics_of(found), "setting": setting}
            key = (row["tpr_0.001"] or 0.0, row["tpr_0.01"] or 0.0)
            if attack.name not in best or key > best[attack.name]["key"]:
                best[attack.name] = {**row, "key": key}
    for row in best.values():
        del row["key"]
    return best


def child(name: str, n_models: int, cache: Path, design: str) -> dict[str, Any]:
    from sklearn.metrics import roc_auc_score

    import miaudit
    from miaudit.audit import AuditOptions

    model, members, nonmembers, population = task(name)
    target = miaudit.SklearnTarget(model)
    options = AuditOptions.from_keywords(
        attacks=ATTACKS,
        reference_models=n_models,
        executor="local",
        cache_dir=cache,
        seed=0,
        reference_design=design,
    )
    sets = (members, nonmembers, population)
    start = time.perf_counter()
    result = miaudit.audit(target, *sets, options=options)  # the defaults: tuned
    elapsed = time.perf_counter() - start
    peak = peak_rss_mb()
    start = time.perf_counter()
    untuned = miaudit.audit(target, *sets, options=options.replace(tune=False))
    untuned_seconds = time.perf_counter() - start
    oracle = best_fixed(target, sets, options)
    table = result.score_table
    t0 = time.perf_counter()
    roc_auc_score(table.membership, table.scores["loss"])
    baseline = time.perf_counter() - t0
    rows: dict[str, Any] = {}
    for attack in ATTACKS:
        found, plain = result.attack(attack), untuned.attack(attack)
        roc = empirical_tpr(table.membership, table.scores.get(attack), 0.001)
        if found is None or plain is None:
            reason = next(s.reason for s in result.skipped if s.name == attack)
            rows[attack] = {"skipped": reason}
            continue
        rows[attack] = {
            "tuned": metrics_of(found),
            "default": metrics_of(plain),
            "best_fixed": oracle.get(attack),
            # tuned scores, empirical ROC over every audited non-member (no calibration split)
            "tuned_roc_tpr_at_most_0.001": roc,
            "variant": result.reference["variants"].get(attack),
            "tuning": result.reference.get("tuning", {}).get(attack),
        }
    return {
        "task": name,
        "design": design,
        "models": n_models,
        "trained": result.reference["trained"],
        "seconds": elapsed,
        "untuned_seconds": untuned_seconds,
        "baseline_auc_s": baseline,
        "peak_rss_mb": peak,
        "train_accuracy": result.model.train_accuracy.value,
        "test_accuracy": result.model.test_accuracy.value,
        "attacks": rows,
    }


def run_child(name: str, n_models: int, cache: Path, design: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", name, str(n_models), str(cache), design],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def fmt(value: float | None) -> str:
    return "n/r" if value is None else f"{value:.3f}"


def triple(row: dict[str, Any] | None) -> str:
    if row is None:
        return f"{'-':>6} {'-':>6} {'-':>6}"
    return f"{fmt(row['auc']):>6} {fmt(row['tpr_0.001']):>6} {fmt(row['tpr_0.01']):>6}"


def setting(values: dict[str, Any] | None) -> str:
    if not values:
        return ""
    short = {"temperature": "T", "min_class_examples": "per-class≥", "variance": "var"}
    parts = []
    for key, value in values.items():
        if key == "min_class_examples" and value >= 10**9:
            parts.append("pooled")
        else:
            parts.append(
                f"{short.get(key, key)}={value:g}"
                if isinstance(value, float)
                else f"{short.get(key, key)}={value}"
            )
    return ",".join(parts)


def table(records: list[dict[str, Any]]) -> list[str]:
    header = (
        f"{'task':<8} {'design':<10} {'M':>2} {'attack':<13} "
        f"{'default: AUC':>13} {'0.1%':>6} {'1%':>6} "
        f"{'tuned: AUC':>11} {'0.1%':>6} {'1%':>6} "
        f"{'best fixed: AUC':>16} {'0.1%':>6} {'1%':>6} {'tuned to':<18} {'best':<18} "
        f"{'cold s':>6} {'peak MB':>7}"
    )
    lines = [header, "-" * len(header)]
    for r in records:
        cost = f"{r['seconds']:>6.1f} {r['peak_rss_mb']:>7.0f}"
        for attack, row in r["attacks"].items():
            head = f"{r['task']:<8} {r['design']:<10} {r['models']:>2} {attack:<13}"
            if "skipped" in row:
                why = (
                    "needs more models"
                    if "pass reference_models" in row["skipped"]
                    else "a record is IN for no model"
                )
                lines.append(f"{head} {'not run: ' + why:<95} {cost}")
                continue
            tuning = row.get("tuning") or {}
            lines.append(
                f"{head} {triple(row['default']):>27} {triple(row['tuned']):>25} "
                f"{triple(row['best_fixed']):>30} "
                f"{setting(tuning.get('chosen') if tuning.get('tuned') else None):<18} "
                f"{setting((row['best_fixed'] or {}).get('setting')):<18} {cost}"
            )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", default="purchase,digits")
    parser.add_argument("--models", default="1,2,4,8,16")
    parser.add_argument("--designs", default="all", help="all, audited, population")
    parser.add_argument(
        "--repeats",
        type=int,
        default=1,
        help="runs per configuration: 1 cold (trains) + warm re-audits (same scores, timed)",
    )
    parser.add_argument("--out", default=str(RESULTS / "reference_models.json"))
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        name, n_models, cache, design = args.child
        print(json.dumps(child(name, int(n_models), Path(cache), design)))
        return
    records = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.tasks.split(","):
            for design in args.designs.split(","):
                for n_models in map(int, args.models.split(",")):
                    cache = Path(tmp) / f"{name}-{design}-{n_models}"
                    cold = run_child(name, n_models, cache, design)
                    warm = [
                        run_child(name, n_models, cache, design) for _ in range(args.repeats - 1)
                    ]
                    assert all(w["trained"] == 0 for w in warm)
                    assert all(w["attacks"] == cold["attacks"] for w in warm)  # same scores
                    cold["warm_seconds_median"] = (
                        statistics.median(w["seconds"] for w in warm) if warm else None
                    )
                    records.append(cold)
                    print("\n".join(table([cold])[2:]), flush=True)
    lines = table(records)
    print("\n".join(lines))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
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
