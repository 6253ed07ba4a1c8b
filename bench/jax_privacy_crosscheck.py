"""Cross-check: miaudit's ε lower bounds beside jax_privacy's auditing module (DeepMind's
``CanaryScoreAuditor``) on the same Gaussian oracle (μ-GDP: member scores N(μ, 1), non-members
N(0, 1); the true ε at δ = 1e-5 is known exactly). Needs ``pip install jax-privacy`` (not a
miaudit dependency; only this script uses it).

- Two samples of 2,000 + 2,000 scores: miaudit's assumption-free bound (threshold chosen on a
  calibration half, rates on the other) and its Gaussian-curve bound, beside jax_privacy's
  ``epsilon_clopper_pearson`` (Bonferroni over every threshold of all the scores) and
  ``epsilon_from_gdp``.
- One run, 1,000 canaries each included with probability ½: miaudit's ``one_run_audit_bound``
  beside ``epsilon_one_run`` (Steinke et al. 2023) and ``epsilon_one_run_fdp`` (Mahloujifar et
  al. 2024, f-DP).

    python bench/jax_privacy_crosscheck.py          # 30 trials per μ
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from miaudit import metrics as m

RESULTS = Path(__file__).parent / "results"
DELTA, SIGNIFICANCE = 1e-5, 0.05


def auditor(members: np.ndarray, nonmembers: np.ndarray) -> object:
    try:
        from jax_privacy.auditing import CanaryScoreAuditor
    except ImportError:
        raise SystemExit("this cross-check needs jax_privacy: pip install jax-privacy") from None
    return CanaryScoreAuditor(members, nonmembers)


def two_samples(mu: float, seed: int) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    members, nonmembers = rng.normal(mu, 1, 2000), rng.normal(0, 1, 2000)
    cal, ev = (members[:1000], nonmembers[:1000]), (members[1000:], nonmembers[1000:])
    theirs = auditor(members, nonmembers)
    return {
        "miaudit": m.epsilon_lower_bound(cal, ev, DELTA).value,
        "miaudit_gdp": m.gdp_lower_bound(cal, ev, DELTA).epsilon,
        "jax_privacy_cp": theirs.epsilon_clopper_pearson(SIGNIFICANCE, DELTA),
        "jax_privacy_gdp": theirs.epsilon_from_gdp(SIGNIFICANCE, DELTA),
    }


def one_run(mu: float, seed: int) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    included = rng.random(1000) < 0.5
    scores = rng.normal(size=1000) + mu * included
    theirs = auditor(scores[included], scores[~included])
    return {
        "miaudit_one_run": m.one_run_audit_bound(scores, included, DELTA)[0],
        "jax_privacy_one_run": theirs.epsilon_one_run(SIGNIFICANCE, DELTA),
        "jax_privacy_one_run_fdp": theirs.epsilon_one_run_fdp(SIGNIFICANCE, DELTA),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=30)
    args = parser.parse_args()
    rows = []
    for mu in (0.5, 1.0, 2.0):
        truth = m.gdp_epsilon(mu, DELTA)
        start = time.perf_counter()
        found: dict[str, list[float]] = {}
        for seed in range(args.trials):
            for name, value in {**two_samples(mu, seed), **one_run(mu, seed)}.items():
                found.setdefault(name, []).append(float(value))
        for name, values in found.items():
            rows.append(
                {
                    "mu": mu,
                    "true_epsilon": truth,
                    "bound": name,
                    "median": float(np.median(values)),
                    "median_over_truth": float(np.median(values)) / truth,
                    "above_truth": int(sum(v > truth for v in values)),
                    "trials": args.trials,
                }
            )
        print(f"μ = {mu}: {time.perf_counter() - start:.0f} s", flush=True)
    print(f"\n{'μ':>4} {'true ε':>7} {'bound':<26} {'median':>7} {'/ true':>7} {'> true':>7}")
    for r in rows:
        print(
            f"{r['mu']:4.1f} {r['true_epsilon']:7.2f} {r['bound']:<26} {r['median']:7.2f} "
            f"{r['median_over_truth']:7.2f} {r['above_truth']:7d}"
        )
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "jax_privacy_crosscheck.json"
    out.write_text(json.dumps({"delta": DELTA, "rows": rows}, indent=2) + "\n")
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
