"""Benchmark: how wide the TPR-at-FPR intervals are, and how often they cover the truth, on a
Gaussian oracle (μ-GDP: member scores N(μ, 1), non-members N(0, 1); the true ROC is
TPR = Φ(Φ⁻¹(FPR) + μ)).

The audit's layout: 2,000 members, 2,000 non-members split in half (1,000 choose the threshold,
1,000 check its FPR). "before" brackets the operating point with the 1,000 calibration scores
(``pooled=False``); "after" with all 2,000 non-member scores (the default). Both are
distribution-free; the median width and the coverage over ``--trials`` trials are printed.

    python bench/tpr_intervals.py              # 200 trials (a few seconds)
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from scipy import stats

from miaudit import metrics as m

RESULTS = Path(__file__).parent / "results"


def measure(mu: float, fpr: float, trials: int) -> dict[str, float]:
    truth = float(stats.norm.sf(stats.norm.isf(fpr) - mu))
    found: dict[bool, list[tuple[float, bool]]] = {True: [], False: []}
    for seed in range(trials):
        rng = np.random.default_rng(seed)
        members, nonmembers = rng.normal(mu, 1, 2000), rng.normal(0, 1, 2000)
        for pooled in (False, True):
            result = m.tpr_at_fpr(members, nonmembers[:1000], nonmembers[1000:], fpr, pooled=pooled)
            lo, hi = result.tpr.ci  # type: ignore[misc]
            found[pooled].append((hi - lo, lo <= truth <= hi))
    row = {"mu": mu, "fpr": fpr, "true_tpr": truth, "trials": trials}
    for pooled, name in ((False, "before"), (True, "after")):
        row[f"{name}_width"] = float(np.median([w for w, _ in found[pooled]]))
        row[f"{name}_coverage"] = float(np.mean([c for _, c in found[pooled]]))
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=200)
    args = parser.parse_args()
    rows = [measure(mu, fpr, args.trials) for mu in (1.0, 2.0) for fpr in (0.001, 0.01, 0.1)]
    print(
        f"{'μ':>4} {'FPR':>6} {'true':>6} {'width before':>13} {'after':>7} {'ratio':>6} "
        f"{'coverage before':>16} {'after':>6}"
    )
    for r in rows:
        print(
            f"{r['mu']:4.1f} {r['fpr']:6.3f} {r['true_tpr']:6.3f} {r['before_width']:13.3f} "
            f"{r['after_width']:7.3f} {r['after_width'] / r['before_width']:6.2f} "
            f"{r['before_coverage']:16.3f} {r['after_coverage']:6.3f}"
        )
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "tpr_intervals.json"
    out.write_text(json.dumps({"members": 2000, "nonmembers": 2000, "rows": rows}, indent=2) + "\n")
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
