"""Benchmark: peak memory and throughput of language-model scoring against the number of texts.

A GPT-2-style model with a 4,000-token vocabulary (4 layers, width 256: about 4.2 M parameters,
built from a config, random weights — memory and speed do not depend on the weights) scores
N generated ledger passages of about 70 tokens with ``CausalLMTarget.token_stats``. Each N runs
in a fresh subprocess so its peak RSS (``ru_maxrss``) is its own. Throughput: tokens per second
of the scoring pass against a plain float32 forward pass over the same batches, measured in the
same process (median of ``--repeats``).

    python bench/lm_memory.py                      # N = 500, 1000, 2000, 4000
    python bench/lm_memory.py --texts 500 --repeats 1
    python bench/lm_memory.py --audit --texts 2000 --out bench/results/lm_memory_audit.json
    python bench/lm_memory.py --audit --neighbours 10 --texts 2000 \
        --out bench/results/lm_memory_neighbours.json   # + a BERT-base-size masked LM

``--neighbours N`` adds the neighbourhood attack to the whole audit, with N neighbours per text
from a masked LM the size of BERT-base (12 layers, width 768, about 88 M parameters with this
vocabulary; random weights).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results"


def _model(vocab: int) -> tuple[object, object]:
    import transformers

    from miaudit.demo.lm import ledger_texts, train_tokenizer

    tokenizer = train_tokenizer(ledger_texts(2000, seed=99, sentences=4), vocab_size=vocab)
    config = transformers.GPT2Config(
        vocab_size=vocab,
        n_positions=256,
        n_embd=256,
        n_layer=4,
        n_head=4,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.bos_token_id,
    )
    return transformers.GPT2LMHeadModel(config).eval(), tokenizer


def _forward_seconds(target: object, texts: list[str]) -> float:
    """A plain float32 forward pass over the batches token_stats makes (no statistics)."""
    import torch

    encoded = sorted((target.encode(t) for t in texts), key=len)  # type: ignore[attr-defined]
    start = time.perf_counter()
    with torch.no_grad():
        for i in range(0, len(encoded), target.batch_size):  # type: ignore[attr-defined]
            batch = encoded[i : i + target.batch_size]  # type: ignore[attr-defined]
            width = max(map(len, batch))
            ids = torch.zeros((len(batch), width), dtype=torch.long)
            mask = torch.zeros_like(ids)
            for j, seq in enumerate(batch):
                ids[j, : len(seq)] = torch.tensor(seq)
                mask[j, : len(seq)] = 1
            target.model(input_ids=ids, attention_mask=mask)  # type: ignore[attr-defined]
    return time.perf_counter() - start


def child(n: int, repeats: int, vocab: int) -> dict[str, float]:
    import torch

    from miaudit.demo.lm import ledger_texts
    from miaudit.targets.lm import CausalLMTarget

    torch.manual_seed(0)
    torch.set_num_threads(2)
    model, tokenizer = _model(vocab)
    texts = ledger_texts(n, seed=1, sentences=4)
    target = CausalLMTarget(model, tokenizer, batch_size=32)
    tokens = sum(len(target.encode(t)) - 1 for t in texts)
    scoring, forward = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        target.token_stats(texts)
        scoring.append(time.perf_counter() - start)
        forward.append(_forward_seconds(target, texts))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    score_s, forward_s = statistics.median(scoring), statistics.median(forward)
    return {
        "texts": n,
        "tokens": tokens,
        "peak_rss_mb": round(peak_mb, 1),
        "scoring_tokens_per_s": round(tokens / score_s),
        "forward_tokens_per_s": round(tokens / forward_s),
        "throughput_ratio": round(forward_s / score_s, 3),
    }


def child_audit(n: int, vocab: int, neighbours: int = 0) -> dict[str, float]:
    """A whole audit — every language-model attack, the reference attack with a second model
    of the same size, and (``neighbours``) the neighbourhood attack with a BERT-base-size
    masked LM — on n/2 members and n/2 non-members: peak RSS."""
    import torch
    import transformers

    from miaudit import CausalLMTarget, audit
    from miaudit.demo.lm import ledger_texts
    from miaudit.targets.masked_lm import MaskedLMNeighbours

    torch.manual_seed(0)
    torch.set_num_threads(2)
    model, tokenizer = _model(vocab)
    reference, _ = _model(vocab)
    masked = None
    if neighbours:
        config = transformers.BertConfig(
            vocab_size=len(tokenizer),
            hidden_size=768,
            num_hidden_layers=12,
            num_attention_heads=12,
            intermediate_size=3072,
        )
        masked = MaskedLMNeighbours(transformers.BertForMaskedLM(config), tokenizer, n=neighbours)
    texts = ledger_texts(n, seed=1, sentences=4)
    start = time.perf_counter()
    result = audit(
        CausalLMTarget(model, tokenizer, batch_size=32),
        texts[: n // 2],
        texts[n // 2 :],
        reference_lm=CausalLMTarget(reference, tokenizer, batch_size=32),
        masked_lm=masked,
    )
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "texts": n,
        "attacks": len(result.attacks),
        "peak_rss_mb": round(peak_mb, 1),
        "audit_seconds": round(seconds, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", default="500,1000,2000,4000")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--vocab", type=int, default=4000)
    parser.add_argument("--out", type=Path, default=RESULTS / "lm_memory.json")
    parser.add_argument("--audit", action="store_true", help="a whole audit with two models")
    parser.add_argument("--neighbours", type=int, default=0, help="--audit: add neighbourhood")
    parser.add_argument("--child", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        row = (
            child_audit(args.child, args.vocab, args.neighbours)
            if args.audit
            else child(args.child, args.repeats, args.vocab)
        )
        print(json.dumps(row))
        return
    rows = []
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}
    for n in (int(x) for x in args.texts.split(",")):
        done = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                str(n),
                "--repeats",
                str(args.repeats),
                "--vocab",
                str(args.vocab),
                *(["--audit"] if args.audit else []),
                *(["--neighbours", str(args.neighbours)] if args.neighbours else []),
            ],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
        r = rows[-1]
        if args.audit:
            print(
                f"{r['texts']:>6} texts  whole audit, two models: {r['attacks']} attacks, "
                f"peak {r['peak_rss_mb']:>7.1f} MB, {r['audit_seconds']} s"
            )
            continue
        print(
            f"{r['texts']:>6} texts {r['tokens']:>8} tokens  peak {r['peak_rss_mb']:>7.1f} MB  "
            f"scoring {r['scoring_tokens_per_s']:>7} tok/s  forward {r['forward_tokens_per_s']:>7} "
            f"tok/s  ratio {r['throughput_ratio']:.2f}"
        )
    out = args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "machine": platform.platform(),
                "vocab": args.vocab,
                "repeats": args.repeats,
                "neighbours": args.neighbours,
                "rows": rows,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
