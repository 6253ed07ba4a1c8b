"""Neighbours for the neighbourhood attack (Mattern et al. 2023, "Membership Inference Attacks
against Language Models via Neighbourhood Comparison").

A neighbour is the text with one token replaced by a masked LM's choice for that position (never
the original token), sampled with a seeded generator. The attack compares the target's loss on a
text with its mean loss on the text's neighbours: a member is unusually likely relative to
texts that differ from it by a word.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from miaudit.errors import InputError, require
from miaudit.targets.lm import load_pretrained


class MaskedLMNeighbours:
    """``n`` neighbours per text from a masked LM (``transformers`` ``...ForMaskedLM``) and its
    tokenizer, which must have a mask token."""

    def __init__(self, model: Any, tokenizer: Any, n: int = 10, seed: int = 0) -> None:
        if getattr(tokenizer, "mask_token_id", None) is None:
            raise InputError(
                "the neighbourhood attack needs a masked LM whose tokenizer has a mask token"
            )
        if n < 1:
            raise InputError(f"n (neighbours per text) must be at least 1, got {n}")
        self.model, self.tokenizer, self.n, self.seed = model.eval(), tokenizer, int(n), seed

    @classmethod
    def from_pretrained(
        cls, path: str | Path, n: int = 10, seed: int = 0, trust: bool = False
    ) -> MaskedLMNeighbours:
        """A masked LM and its tokenizer from a local directory (``safetensors`` only unless
        ``trust``; never from the network)."""
        model, tokenizer = load_pretrained(path, "AutoModelForMaskedLM", "masked LM", trust)
        return cls(model, tokenizer, n, seed)

    def neighbours(self, texts: Sequence[str]) -> list[list[str]]:
        torch: Any = require("torch", "llm", "The neighbourhood attack")
        rng = np.random.default_rng(self.seed)
        device = next(self.model.parameters()).device  # the masked LM may sit on a GPU
        out = []
        for text in texts:
            ids = list(self.tokenizer(text, add_special_tokens=False)["input_ids"])
            positions = rng.integers(0, len(ids), self.n)
            batch = torch.tensor([ids] * self.n)
            batch[torch.arange(self.n), torch.tensor(positions)] = self.tokenizer.mask_token_id
            with torch.no_grad():
                logits = self.model(input_ids=batch.to(device)).logits
                # only the masked positions' rows, (n, vocabulary), leave the model's output
                masked = logits[torch.arange(self.n), torch.tensor(positions)].double().cpu()
            del logits
            chosen = []
            for j, position in enumerate(positions):
                scores = masked[j].clone()
                scores[ids[position]] = -np.inf  # a neighbour differs from the text
                for special in self.tokenizer.all_special_ids:
                    scores[special] = -np.inf
                p = torch.softmax(scores, dim=0).numpy()
                replacement = int(rng.choice(len(p), p=p / p.sum()))
                variant = ids.copy()
                variant[position] = replacement
                chosen.append(self.tokenizer.decode(variant))
            out.append(chosen)
        return out
