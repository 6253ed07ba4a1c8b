"""Benchmark: language-model attacks against the number of epochs a tiny LM saw its members,
and scoring throughput on CPU.

A GPT-2-style model (2 layers, width 64, built from a config) is trained from scratch on 500
generated ledger records for E epochs; 500 fresh records of the same generator are the
non-members (so the blind baseline should stay at chance). For each E: AUC and TPR at 1% FPR of
every attack. Throughput: tokens per second of ``CausalLMTarget.token_stats`` (log-probs plus
the next-token distribution's mean and s.d.) on the 1,000 records, median of ``--repeats``
runs, against a plain forward pass over the same batches measured in the same run.

Min-K% and Min-K%++ at every fraction ``k`` of ``--k-grid``: the default (k = 0.2) against the
best fixed k — chosen here on the audited labels, for this table only. A language-model audit has
no models with known training sets to replay, so k is not tuned: it stays 0.2 unless set
(``attack_params={"min-k": {"k": 0.1}}``).

    python bench/lm_attacks.py                 # epochs 1, 5, 10, 20, 40; 3 repeats
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results"
ATTACKS = ["lm-loss", "zlib", "min-k", "min-k++", "blind-baseline"]


def main() -> None:
    import torch

    from miaudit import audit
    from miaudit.demo.lm import ledger_texts, train_tiny_lm, train_tokenizer
    from miaudit.targets.lm import CausalLMTarget

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", default="1,5,10,20,40")
    parser.add_argument("--records", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--k-grid", default="0.05,0.1,0.2,0.3,0.5,1.0")
    args = parser.parse_args()
    k_grid = [float(k) for k in args.k_grid.split(",")]
    n = args.records
    texts = ledger_texts(3 * n, seed=0)
    members, nonmembers, other = texts[:n], texts[n : 2 * n], texts[2 * n :]
    tokenizer = train_tokenizer(other)
    rows, throughput = [], None
    for epochs in map(int, args.epochs.split(",")):
        start = time.perf_counter()
        lm = train_tiny_lm(members, tokenizer, epochs=epochs, seed=0)
        trained = time.perf_counter() - start
        target = CausalLMTarget(lm.model, lm.tokenizer, batch_size=32)
        result = audit(target, members, nonmembers, attacks=ATTACKS)
        row = {
            "epochs": epochs,
            "train_s": trained,
            "token_accuracy_members": result.model.train_accuracy.value,
            "token_accuracy_nonmembers": result.model.test_accuracy.value,
        }
        for a in result.attacks:
            row[a.name] = {
                "auc": a.auc.value,
                "auc_ci": list(a.auc.ci or ()),
                "tpr_0.01": a.tpr(0.01).tpr.value,
            }
        row["k_sweep"] = {}
        for k in k_grid:
            swept = audit(
                target,
                members,
                nonmembers,
                attacks=["min-k", "min-k++"],
                attack_params={"min-k": {"k": k}, "min-k++": {"k": k}},
            )
            row["k_sweep"][k] = {
                a.name: {"auc": a.auc.value, "tpr_0.01": a.tpr(0.01).tpr.value}
                for a in swept.attacks
            }
        for name in ("min-k", "min-k++"):
            best = max(k_grid, key=lambda k, n=name: row["k_sweep"][k][n]["tpr_0.01"])
            row[f"{name} best fixed k"] = {"k": best, **row["k_sweep"][best][name]}
        rows.append(row)
        print(
            f"epochs {epochs:>3}: "
            + "  ".join(
                f"{a}: AUC {row[a]['auc']:.3f} TPR@1% {row[a]['tpr_0.01']:.3f}" for a in ATTACKS
            ),
            flush=True,
        )
        print(
            "  k sweep (TPR@1%): "
            + "  ".join(
                f"{name} default k=0.2 {row[name]['tpr_0.01']:.3f}, best fixed "
                f"k={row[name + ' best fixed k']['k']:g} "
                f"{row[name + ' best fixed k']['tpr_0.01']:.3f}"
                for name in ("min-k", "min-k++")
            ),
            flush=True,
        )
        if throughput is None:  # the same model size every time: measure once
            corpus = members + nonmembers
            tokens = int(target.token_stats(corpus).counts().sum())
            stats_s, forward_s = [], []
            for _ in range(args.repeats):
                t0 = time.perf_counter()
                target.token_stats(corpus)
                stats_s.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                for b in range(0, len(corpus), 32):
                    batch = tokenizer(corpus[b : b + 32], padding=True, return_tensors="pt")
                    with torch.no_grad():
                        lm.model(**batch)
                forward_s.append(time.perf_counter() - t0)
            throughput = {
                "tokens": tokens,
                "threads": torch.get_num_threads(),
                "token_stats_s_median": statistics.median(stats_s),
                "forward_only_s_median": statistics.median(forward_s),
                "tokens_per_s": tokens / statistics.median(stats_s),
                "ratio_to_forward_only": statistics.median(stats_s) / statistics.median(forward_s),
            }
    print(
        f"scoring: {throughput['tokens_per_s']:,.0f} tokens/s "
        f"({throughput['tokens']:,} tokens in {throughput['token_stats_s_median']:.2f} s, "
        f"{throughput['ratio_to_forward_only']:.1f}× a plain forward pass)"
    )
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "lm_attacks.json"
    out.write_text(
        json.dumps(
            {
                "machine": {"python": platform.python_version(), "platform": platform.platform()},
                "records": n,
                "rows": rows,
                "throughput": throughput,
            },
            indent=2,
            default=float,
        )
    )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
