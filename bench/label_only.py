"""Benchmark: miaudit's label-only attacks against IBM ART's ``LabelOnlyDecisionBoundary``
(HopSkipJump, default settings) on the purchase-like target of ``bench/reference_models.py``
(an MLP on 600 binary features, 100 classes, 2,500 members, 2,500 non-members, 5,000
population records).

1. The same 100 members + 100 non-members (drawn with ``--seed``): ART's distances, and
   miaudit's ``label-boundary`` and ``label-noise`` audits (which also probe the population,
   to choose their settings; their time includes it). AUC with DeLong's 95% interval, seconds,
   and queries per record (ART's counted at the model).
2. All 2,500 + 2,500 records: miaudit's label-only attacks, beside the score-based ``loss``
   and the one-query ``gap`` attack; ART's time there is extrapolated from its per-record time
   (running it would take about an hour).

miaudit's times are the median of ``--repeats`` runs; ART's of ``--art-repeats``.

    python bench/label_only.py                     # 3 repeats, ART once
    python bench/label_only.py --art-repeats 0     # miaudit only
    python bench/label_only.py --sweep             # the defaults' sweeps (docs/label-only.md)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from reference_models import task

RESULTS = Path(__file__).parent / "results"
OURS = ["label-boundary", "label-noise"]


def art_run(model: Any, x: np.ndarray, y: np.ndarray, members: int) -> dict[str, Any]:
    """ART's decision-boundary attack on (x, y), the first ``members`` rows members."""
    try:
        from art.attacks.inference.membership_inference import LabelOnlyDecisionBoundary
    except ImportError:
        raise SystemExit(
            "IBM ART is not installed: pip install adversarial-robustness-toolbox "
            "(or run with --art-repeats 0)"
        ) from None
    from art.estimators.classification import SklearnClassifier

    from miaudit.metrics import auc_with_ci

    classifier = SklearnClassifier(model, clip_values=(0.0, 1.0))
    rows = [0]
    plain = classifier.predict

    def counted(x: np.ndarray, **kwargs: Any) -> np.ndarray:
        rows[0] += len(x)
        return plain(x, **kwargs)

    classifier.predict = counted  # every query HopSkipJump sends goes through predict
    attack = LabelOnlyDecisionBoundary(classifier, distance_threshold_tau=1.0)
    start = time.perf_counter()
    # probabilities: a sigmoid of (distance - tau), so ranking by it is ranking by distance
    found = attack.infer(x.astype(np.float32), np.eye(100)[y], probabilities=True, verbose=False)[
        :, 1
    ]
    seconds = time.perf_counter() - start
    estimate = auc_with_ci(found[:members], found[members:])
    return {
        "auc": estimate.value,
        "auc_ci": list(estimate.ci),
        "seconds": seconds,
        "queries_per_record": rows[0] / len(x),
    }


def ours_run(model: Any, members: tuple, nonmembers: tuple, population: tuple) -> dict[str, Any]:
    from miaudit import audit

    out: dict[str, Any] = {}
    for name in [*OURS, "gap", "loss"]:
        start = time.perf_counter()
        result = audit(model, members, nonmembers, population, attacks=[name])
        seconds = time.perf_counter() - start
        found = result.attacks[0]
        tpr = found.tpr(0.01)
        out[name] = {
            "auc": found.auc.value,
            "auc_ci": list(found.auc.ci),
            "tpr_0.01": tpr.tpr.value,
            "tpr_0.01_ci": None if tpr.tpr.value is None else list(tpr.tpr.ci),
            "seconds": seconds,
            "queries_per_record": found.queries_per_record,
            "variant": (result.reference or {}).get("variants", {}).get(name),
        }
    return out


def mlp3() -> tuple[Any, tuple, tuple, tuple]:
    """The 3-class MLP of the tests (tests/conftest.py: 20% label noise, 200 + 200 audited)."""
    from sklearn.datasets import make_classification
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier

    x, y = make_classification(
        n_samples=600, n_features=20, n_informative=5, n_classes=3, flip_y=0.2, random_state=0
    )
    x_in, x_out, y_in, y_out = train_test_split(x, y, train_size=0.5, stratify=y, random_state=0)
    model = MLPClassifier((128,), alpha=0.0, max_iter=800, random_state=0).fit(x_in, y_in)
    return model, (x_in[:200], y_in[:200]), (x_out[:200], y_out[:200]), (x_out[200:], y_out[200:])


def sweep() -> None:
    """AUC of label-noise at each strength on three targets, and of label-boundary at
    several directions × steps on the purchase-like one."""
    from miaudit import audit

    targets = {"purchase": task("purchase"), "mlp3": mlp3(), "digits": task("digits")}
    strengths = (0.025, 0.05, 0.1, 0.2, 0.4, 0.8)
    print(f"{'label-noise strength':22}" + "".join(f"{s:>8g}" for s in strengths))
    table: dict[str, Any] = {"label-noise": {}, "label-boundary": {}}
    for name, (model, members, nonmembers, population) in targets.items():
        row = []
        for strength in strengths:
            params = {"label-noise": {"strength": strength}}
            found = audit(
                model,
                members,
                nonmembers,
                population,
                attacks=["label-noise"],
                attack_params=params,
            )
            row.append(found.attacks[0].auc.value)
        table["label-noise"][name] = dict(zip(map(str, strengths), row, strict=True))
        print(f"{name:22}" + "".join(f"{a:8.3f}" for a in row))
    model, members, nonmembers, population = targets["purchase"]
    for directions, steps in ((16, 7), (32, 6), (32, 8), (64, 6)):
        params = {"label-boundary": {"directions": directions, "steps": steps}}
        found = audit(
            model, members, nonmembers, population, attacks=["label-boundary"], attack_params=params
        ).attacks[0]
        table["label-boundary"][f"{directions}x{steps}"] = {
            "auc": found.auc.value,
            "queries_per_record": found.queries_per_record,
        }
        print(
            f"label-boundary {directions}×{steps}: AUC {found.auc.value:.4f}, "
            f"{found.queries_per_record:.1f} queries per record"
        )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "label_only_sweep.json").write_text(json.dumps(table, indent=2) + "\n")


def median_of(runs: list[dict[str, Any]], key: str) -> dict[str, Any]:
    first = dict(runs[0][key])
    first["seconds"] = statistics.median(r[key]["seconds"] for r in runs)
    first["seconds_runs"] = [round(r[key]["seconds"], 2) for r in runs]
    return first


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--art-repeats", type=int, default=1)
    parser.add_argument("--sample", type=int, default=100, help="members (and non-members)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sweep", action="store_true", help="the defaults' sweeps only")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    if args.sweep:
        sweep()
        return
    model, (xm, ym), (xn, yn), population = task("purchase")
    rng = np.random.default_rng(args.seed)
    a = rng.choice(len(ym), args.sample, replace=False)
    b = rng.choice(len(yn), args.sample, replace=False)
    small = ((xm[a], ym[a]), (xn[b], yn[b]))

    art = [
        art_run(model, np.r_[xm[a], xn[b]], np.r_[ym[a], yn[b]], args.sample)
        for _ in range(args.art_repeats)
    ]
    small_runs = [ours_run(model, *small, population) for _ in range(args.repeats)]
    full_runs = [ours_run(model, (xm, ym), (xn, yn), population) for _ in range(args.repeats)]
    names = [*OURS, "gap", "loss"]
    table: dict[str, Any] = {
        "sample": {n: median_of(small_runs, n) for n in names},
        "all": {n: median_of(full_runs, n) for n in names},
    }
    if art:
        table["sample"]["ART LabelOnlyDecisionBoundary"] = {
            **art[0],
            "seconds": statistics.median(r["seconds"] for r in art),
            "seconds_runs": [round(r["seconds"], 2) for r in art],
        }
        per_record = table["sample"]["ART LabelOnlyDecisionBoundary"]["seconds"] / (2 * args.sample)
        table["all"]["ART (extrapolated)"] = {
            "seconds": per_record * (len(ym) + len(yn)),
            "extrapolated": True,
        }
    print_table(table, args.sample, len(ym), len(yn))
    RESULTS.mkdir(exist_ok=True)
    payload = {
        "task": "purchase",
        "sample": args.sample,
        "repeats": args.repeats,
        "art_repeats": args.art_repeats,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "results": table,
    }
    (RESULTS / "label_only.json").write_text(json.dumps(payload, indent=2) + "\n")
    print(f"\nwrote {RESULTS / 'label_only.json'}")


def print_table(table: dict[str, Any], sample: int, members: int, nonmembers: int) -> None:
    for key, title in (
        ("sample", f"{sample} + {sample} records"),
        ("all", f"all {members} + {nonmembers} records"),
    ):
        print(f"\n{title}")
        print(f"{'attack':34} {'AUC [95% CI]':26} {'TPR@1%':8} {'seconds':>9} {'queries/rec':>12}")
        for name, row in table[key].items():
            if "auc" in row:
                auc = f"{row['auc']:.3f} [{row['auc_ci'][0]:.3f}, {row['auc_ci'][1]:.3f}]"
            else:
                auc = "—"
            tpr = row.get("tpr_0.01")
            tpr_text = f"{tpr:.3f}" if tpr is not None else "—"
            queries = row.get("queries_per_record")
            q = f"{queries:.1f}" if queries is not None else "—"
            print(f"{name:34} {auc:26} {tpr_text:8} {row['seconds']:9.2f} {q:>12}")


if __name__ == "__main__":
    main()
