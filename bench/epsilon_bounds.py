"""Benchmark: how tight and how sound the ε lower bounds are on a Gaussian oracle, where the
true ε of the mechanism is known exactly (μ-GDP: member scores N(μ, 1), non-members N(0, 1)).

- The assumption-free bound (``metrics.epsilon_lower_bound``) and the Gaussian-curve bound
  (``metrics.gdp_lower_bound``) on 2,000 + 2,000 records per split: median bound / true ε and
  how often each exceeds the truth, over ``--trials`` trials per μ; positive bounds with no
  signal.
- One-run auditing (``metrics.one_run_audit_bound``) on 1,000 canaries, each included with
  probability ½: the same figures.

    python bench/epsilon_bounds.py            # 100 trials per μ (about 15 s)
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from miaudit import metrics as m

RESULTS = Path(__file__).parent / "results"
DELTA = 1e-5


def two_split(mu: float, trials: int) -> dict[str, float]:
    truth = m.gdp_epsilon(mu, DELTA) if mu > 0 else 0.0
    plain, gaussian = [], []
    for seed in range(trials):
        rng = np.random.default_rng(seed)
        cal = (rng.normal(mu, 1, 2000), rng.normal(0, 1, 2000))
        ev = (rng.normal(mu, 1, 2000), rng.normal(0, 1, 2000))
        plain.append(m.epsilon_lower_bound(cal, ev, DELTA).value)
        gaussian.append(m.gdp_lower_bound(cal, ev, DELTA).epsilon)
    return {
        "mu": mu,
        "true_epsilon": truth,
        "plain_median": float(np.median(plain)),
        "gaussian_median": float(np.median(gaussian)),
        "plain_above_truth": int(sum(b > truth for b in plain)),
        "gaussian_above_truth": int(sum(b > truth for b in gaussian)),
        "trials": trials,
    }


def one_run(mu: float, trials: int) -> dict[str, float]:
    truth = m.gdp_epsilon(mu, DELTA) if mu > 0 else 0.0
    rng = np.random.default_rng(int(mu * 100) + 1)
    bounds = []
    for _ in range(trials):
        included = rng.random(1000) < 0.5
        bounds.append(m.one_run_audit_bound(rng.normal(size=1000) + mu * included, included)[0])
    return {
        "mu": mu,
        "true_epsilon": truth,
        "median": float(np.median(bounds)),
        "max": float(np.max(bounds)),
        "above_truth": int(sum(b > truth for b in bounds)),
        "trials": trials,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=100)
    args = parser.parse_args()
    split = [two_split(mu, args.trials) for mu in (0.0, 0.5, 1.0, 2.0)]
    single = [one_run(mu, args.trials) for mu in (0.0, 1.0, 2.0)]
    print(f"{'μ':>4} {'true ε':>7} {'plain':>7} {'gaussian':>9} {'plain>ε':>8} {'gauss>ε':>8}")
    for r in split:
        print(
            f"{r['mu']:4.1f} {r['true_epsilon']:7.2f} {r['plain_median']:7.2f} "
            f"{r['gaussian_median']:9.2f} {r['plain_above_truth']:8d} "
            f"{r['gaussian_above_truth']:8d}"
        )
    print(f"\none run, 1,000 canaries\n{'μ':>4} {'true ε':>7} {'median':>7} {'max':>6} {'>ε':>4}")
    for r in single:
        print(
            f"{r['mu']:4.1f} {r['true_epsilon']:7.2f} {r['median']:7.2f} {r['max']:6.2f} "
            f"{r['above_truth']:4d}"
        )
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "epsilon_bounds.json"
    out.write_text(json.dumps({"two_split": split, "one_run": single}, indent=2) + "\n")
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
