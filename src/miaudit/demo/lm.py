"""A tiny causal language model trained from scratch on CPU, on text generated here: the bundled
language-model example (``miaudit demo llm``) and the tests' target. Nothing is downloaded.

The corpus is records of a made-up logistics ledger ("erin sent 42 lamps to oslo on day 113.
..."): members and non-members come from the same generator, so a blind baseline cannot tell them
apart, and only what the model memorised of its members can.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from miaudit.audit.canary import distinct
from miaudit.errors import require

_NAMES = ("alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy")
_CITIES = ("paris", "lima", "oslo", "cairo", "delhi", "quito", "rome", "seoul", "tokyo", "accra")
_ITEMS = ("apples", "books", "coins", "lamps", "maps", "pens", "shoes", "tea", "tools", "wool")


def ledger_texts(n: int, seed: int = 0, sentences: int = 2) -> list[str]:
    """``n`` distinct synthetic ledger records."""
    rng = np.random.default_rng(seed)

    def draw() -> str:
        parts = []
        for _ in range(sentences):
            a, b, c = rng.integers(0, 10, 3)
            parts.append(
                f"{_NAMES[a]} sent {rng.integers(2, 99)} {_ITEMS[b]} to {_CITIES[c]} "
                f"on day {rng.integers(1, 365)}."
            )
        return " ".join(parts)

    return distinct(n, draw)


@dataclass(frozen=True)
class TinyLM:
    model: Any
    tokenizer: Any


def train_tokenizer(texts: list[str], vocab_size: int = 400) -> Any:
    """A byte-level BPE tokenizer trained locally on ``texts``."""
    require("tokenizers", "llm", "Training the demo tokenizer")
    transformers: Any = require("transformers", "llm", "Training the demo tokenizer")
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.train_from_iterator(
        texts,
        trainers.BpeTrainer(
            vocab_size=vocab_size,
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
            special_tokens=["<pad>", "<bos>", "<mask>"],
            show_progress=False,
        ),
    )
    return transformers.PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, pad_token="<pad>", bos_token="<bos>", mask_token="<mask>"
    )


def train_tiny_lm(
    members: list[str],
    tokenizer: Any,
    epochs: int = 30,
    seed: int = 0,
    layers: int = 2,
    width: int = 64,
    lr: float = 3e-3,
    batch_size: int = 16,
) -> TinyLM:
    """A GPT-2-style model built from a config (2 layers, width 64) trained on ``members``
    for ``epochs`` passes: a few seconds per 10 epochs of 200 texts on 2 cores."""
    torch: Any = require("torch", "llm", "Training the demo language model")
    transformers: Any = require("transformers", "llm", "Training the demo language model")
    torch.manual_seed(seed)
    transformers.logging.set_verbosity_error()  # no advice about loss types on every run
    config = transformers.GPT2Config(
        vocab_size=len(tokenizer),
        n_positions=128,
        n_embd=width,
        n_layer=layers,
        n_head=2,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.bos_token_id,
    )
    model = transformers.GPT2LMHeadModel(config)
    ids, mask = _padded(members, tokenizer, [tokenizer.bos_token_id])
    optimiser = torch.optim.AdamW(model.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(seed)
    model.train()
    for _ in range(epochs):
        for batch in torch.randperm(len(ids), generator=generator).split(batch_size):
            labels = ids[batch].masked_fill(mask[batch] == 0, -100)
            loss = model(input_ids=ids[batch], attention_mask=mask[batch], labels=labels).loss
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    model.eval()
    return TinyLM(model, tokenizer)


def _padded(texts: list[str], tokenizer: Any, prefix: list[int]) -> tuple[Any, Any]:
    torch: Any = require("torch", "llm", "Training the demo language model")
    encoded = [[*prefix, *tokenizer(t, add_special_tokens=False)["input_ids"]] for t in texts]
    ids = torch.full(
        (len(encoded), max(len(e) for e in encoded)), tokenizer.pad_token_id, dtype=torch.long
    )
    mask = torch.zeros_like(ids)
    for i, e in enumerate(encoded):
        ids[i, : len(e)] = torch.tensor(e)
        mask[i, : len(e)] = 1
    return ids, mask


def train_tiny_mlm(
    texts: list[str],
    tokenizer: Any,
    epochs: int = 10,
    seed: int = 0,
    width: int = 64,
    lr: float = 3e-3,
    batch_size: int = 16,
) -> Any:
    """A small BERT-style masked LM built from a config and trained on ``texts`` (15% of tokens
    masked): the neighbour generator of the neighbourhood attack in the demo and tests."""
    torch: Any = require("torch", "llm", "Training the demo masked language model")
    transformers: Any = require("transformers", "llm", "Training the demo masked language model")
    torch.manual_seed(seed)
    transformers.logging.set_verbosity_error()
    config = transformers.BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=width,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=2 * width,
        max_position_embeddings=128,
        pad_token_id=tokenizer.pad_token_id,
    )
    model = transformers.BertForMaskedLM(config)
    ids, mask = _padded(texts, tokenizer, [])
    optimiser = torch.optim.AdamW(model.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(seed)
    model.train()
    for _ in range(epochs):
        for batch in torch.randperm(len(ids), generator=generator).split(batch_size):
            chosen = (torch.rand(ids[batch].shape, generator=generator) < 0.15) & (mask[batch] == 1)
            inputs = ids[batch].masked_fill(chosen, tokenizer.mask_token_id)
            labels = ids[batch].masked_fill(~chosen, -100)
            loss = model(input_ids=inputs, attention_mask=mask[batch], labels=labels).loss
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    return model.eval()


class DemoLM(NamedTuple):
    """A trained tiny LM target and its records (:func:`demo_lm`); unpacks as a 4-tuple."""

    #: a ``CausalLMTarget`` over the trained model and its tokenizer (batch size 32)
    target: Any
    #: the ``n`` texts the model was trained on, ``epochs`` passes each
    members: list[str]
    #: ``n`` texts from the same generator that the model never saw
    nonmembers: list[str]
    #: ``n`` more such texts: the tokenizer was trained on them, never on members or
    #: non-members; for reference or neighbour models
    other: list[str]


def demo_texts(seed: int = 0, n: int = 200) -> tuple[list[str], list[str], list[str]]:
    """The records of :func:`demo_lm` with the same ``seed`` and ``n``: members, non-members
    and the other texts (e.g. to pair them with a saved copy of its model)."""
    texts = ledger_texts(3 * n, seed)
    return texts[:n], texts[n : 2 * n], texts[2 * n :]


def demo_lm(seed: int = 0, n: int = 200, epochs: int = 30) -> DemoLM:
    """The tiny LM target of ``miaudit demo llm`` and its records (see :class:`DemoLM`)."""
    from miaudit.targets.lm import CausalLMTarget

    members, nonmembers, other = demo_texts(seed, n)
    tokenizer = train_tokenizer(other)  # the tokenizer never sees members or non-members
    lm = train_tiny_lm(members, tokenizer, epochs=epochs, seed=seed)
    return DemoLM(CausalLMTarget(lm.model, lm.tokenizer, batch_size=32), members, nonmembers, other)
