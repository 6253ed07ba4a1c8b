"""The proximity index (issue 24): how often a near copy of a training record hits it, against
how often a fresh record does, for several radii — the curve the default radius is read from.

For each data set (the monitor simulator's world: 2,000 training records of 10 features; 30
features of scikit-learn's breast-cancer data, 284 training records; 50 synthetic features,
5,000 training records), each radius and each perturbation size δ (root-mean-square over the
standardised features, in standard deviations), 2,000 training records are moved by δ in a
random direction and looked up: ``recall``. 2,000 fresh records of the same distribution are
looked up: ``false hits``. The analytic hit probability at δ is printed beside the measured
recall.

    python bench/monitor_index.py   # a table; bench/results/monitor_index.json
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from miaudit.monitor.proximity import ProximityIndex, ProximityParams, hit_probability

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "monitor_index.json"
SECRET = b"bench-proximity-secret-0123456789"
DELTAS = (1e-5, 1e-4, 1e-3, 1e-2, 0.03, 0.1, 0.2, 0.3, 0.5, 1.0)
RADII = (0.03, 0.05, 0.1, 0.2, 0.3)


def datasets() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """(training records, fresh records) per data set."""
    from sklearn.datasets import load_breast_cancer, make_classification

    from miaudit.monitor.simulate import world

    made = world(0)
    out = {"simulator (10 features)": (made.members, made.population[:2000])}
    x, _ = load_breast_cancer(return_X_y=True)
    rng = np.random.default_rng(0)
    x = x[rng.permutation(len(x))]
    out["breast cancer (30 features)"] = (x[:284], x[284:])
    x, _ = make_classification(n_samples=7000, n_features=50, n_informative=10, random_state=1)
    out["synthetic (50 features)"] = (x[:5000], x[5000:])
    return out


def moved(x: np.ndarray, scale: np.ndarray, delta: float, rng: np.random.Generator) -> np.ndarray:
    """``x`` moved by RMS distance ``delta`` (standard deviations) in random directions."""
    direction = rng.normal(size=x.shape)
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    return x + direction * delta * np.sqrt(x.shape[1]) * scale


def main() -> None:
    rows = []
    for name, (train, fresh) in datasets().items():
        for radius in RADII:
            params = ProximityParams(radius=radius)
            started = time.perf_counter()
            index = ProximityIndex.build(train, SECRET, params)
            built = time.perf_counter() - started
            rng = np.random.default_rng(0)
            pick = train[rng.choice(len(train), min(2000, len(train)), replace=False)]
            started = time.perf_counter()
            false_hits = float(index.near(fresh).mean())
            per_query = (time.perf_counter() - started) / len(fresh)
            recall = {}
            for delta in DELTAS:
                recall[delta] = float(index.near(moved(pick, index.scale, delta, rng)).mean())
            expected = {d: float(hit_probability(d, params, train.shape[1])) for d in DELTAS}
            rows.append(
                {
                    "data": name,
                    "radius": radius,
                    "tables": params.tables,
                    "projections": params.projections,
                    "training_records": len(train),
                    "fresh_records": len(fresh),
                    "false_hit_rate": false_hits,
                    "recall": recall,
                    "expected_recall": expected,
                    "build_s": round(built, 3),
                    "lookup_us": round(per_query * 1e6, 1),
                }
            )
            cells = " ".join(f"{recall[d]:.2f}" for d in DELTAS)
            print(f"{name:<28} r={radius:<4} false {false_hits:.4f}  recall {cells}", flush=True)
    print("recall columns: δ =", ", ".join(str(d) for d in DELTAS))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"deltas": DELTAS, "rows": rows}, indent=2) + "\n")
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
