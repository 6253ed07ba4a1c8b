"""Causal language models (Hugging Face ``transformers``; the ``llm`` extra).

For each text: the log-probability of every token given the tokens before it, and — for
Min-K%++ — the mean and standard deviation of log p(v) over the model's own next-token
distribution, plus whether the most likely next token was the actual one. Texts are batched with
padding (attention mask), and a text longer than the context is scored with a sliding window:
every token once, each with at least ``max_length − stride`` tokens of context after the first
window. Nothing is downloaded: models load from a local directory or come in memory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from miaudit.errors import InputError, require
from miaudit.targets._device import resolve_device
from miaudit.targets.exposure import Exposure
from miaudit.targets.interface import Modality, ProgressCallback, Target, WhiteBox

_FEATURE = "Auditing a language model"


@dataclass(frozen=True, eq=False)
class TokenStats:
    """Per-token statistics of n texts, flat; text i owns ``offsets[i]:offsets[i+1]``."""

    offsets: np.ndarray
    logp: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    correct: np.ndarray

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def counts(self) -> np.ndarray:
        return np.diff(self.offsets)


def load_pretrained(
    path: str | Path, auto_class: str, what: str, trust: bool = False
) -> tuple[Any, Any]:
    """A model (``transformers.<auto_class>``) and its tokenizer from a local directory,
    ``safetensors`` weights only unless ``trust``; remote code never runs."""
    transformers: Any = require("transformers", "llm", _FEATURE)
    path = Path(path)
    if not path.is_dir():
        raise InputError(
            f"{what} directory not found: {path} (models are only loaded from local directories)"
        )
    if not trust and not any(path.glob("*.safetensors")):
        raise InputError(
            f"{path} has no .safetensors weights; pickled weights run code "
            "when loaded — pass trust=True (config: target.trust = true) if "
            "you trust them"
        )
    try:
        model = getattr(transformers, auto_class).from_pretrained(
            path,
            local_files_only=True,
            use_safetensors=None if trust else True,
            trust_remote_code=False,
        )
        tokenizer = transformers.AutoTokenizer.from_pretrained(
            path, local_files_only=True, trust_remote_code=False
        )
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot load a {what} from {path}: {exc}") from exc
    return model, tokenizer


#: Bytes of float32 logits one forward pass may produce (batch × width × vocabulary); batches
#: shrink to stay within it, so memory does not grow with the vocabulary or the text lengths.
LOGITS_BUDGET = 256 * 2**20
#: Bytes of one float64 chunk of (tokens × vocabulary) statistics temporaries.
CHUNK_BUDGET = 32 * 2**20


def _statistics(logits: Any, row: Any, column: Any, target: Any) -> tuple[np.ndarray, ...]:
    """For each scored position: log p of the actual next token, the mean and s.d. of log p
    under the model's next-token distribution, and whether its most likely token was the actual
    one.

    Over fixed-size chunks of positions, with two float32 temporaries (the model's logits are
    float32). Logits are shifted by their maximum, so the normaliser is Z = 1 + R with R the sum
    of the other terms, and log Z = log1p(R): log p of a likely token keeps full precision
    however close p is to 1. With z = logit − max: log p = z − log Z, mean = E_p[z] − log Z and
    Var_p(log p) = E_p[z²] − E_p[z]² (log Z cancels); these two sums are float32 (relative
    error about 1e-6), the rest float64."""
    torch = _torch()
    vocab = logits.shape[-1]
    n = len(row)
    out = [np.empty(n), np.empty(n), np.empty(n), np.empty(n, dtype=bool)]
    step = max(1, CHUNK_BUDGET // (4 * vocab))
    f64 = torch.float64
    for start in range(0, n, step):
        part = slice(start, min(start + step, n))
        z = logits[row[part], column[part]].float()  # a copy: shifted in place below
        top = z.argmax(-1)
        z -= z.gather(1, top[:, None])
        weights = torch.exp(z)
        weights.scatter_(1, top[:, None], 0.0)  # Z = 1 + (the rest): log1p keeps the rest
        rest = weights.sum(-1).to(f64)
        log_total = torch.log1p(rest)
        weights.scatter_(1, top[:, None], 1.0)
        total = 1.0 + rest
        actual = target[part].to(z.device)
        chosen = z.gather(1, actual[:, None])[:, 0].to(f64) - log_total
        correct = top == actual
        mean_z = weights.mul_(z).sum(-1).to(f64) / total  # the top term is 0 here
        second = weights.mul_(z).sum(-1).to(f64) / total
        std = (second - mean_z.square()).clamp_min(0).sqrt()
        for k, value in enumerate((chosen, mean_z - log_total, std, correct)):
            out[k][part] = value.cpu().numpy()
    return tuple(out)


def _torch() -> Any:
    return require("torch", "llm", _FEATURE)


class CausalLMTarget(Target, WhiteBox):
    """A causal LM and its tokenizer, queried in ``eval()`` mode under ``torch.no_grad()``.

    Its records are texts (:class:`~miaudit.data.TextRecords`); its outputs are
    :class:`TokenStats`."""

    kind = "transformers"
    modality = Modality.LANGUAGE_MODEL
    _exposes = Exposure.TOKEN_LOGPROBS

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        batch_size: int = 8,
        max_length: int | None = None,
        stride: int | None = None,
        device: str = "auto",
    ) -> None:
        torch = _torch()
        if not isinstance(model, torch.nn.Module):
            raise InputError(f"expected a transformers causal LM, got {type(model).__name__}")
        if not callable(tokenizer):
            raise InputError("tokenizer must be a Hugging Face tokenizer (callable on text)")
        device = resolve_device(device, torch)
        self.model = model.to(device).eval()
        self.tokenizer = tokenizer
        self.device = device
        self.batch_size = int(batch_size)
        limit = (
            getattr(model.config, "n_positions", None)
            or getattr(model.config, "max_position_embeddings", None)
            or 1024
        )
        self.max_length = int(max_length or limit)
        if not 2 <= self.max_length <= limit:
            raise InputError(
                f"max_length must be in [2, {limit}] for this model, got {self.max_length}"
            )
        self.stride = int(stride or self.max_length // 2)
        if not 1 <= self.stride <= self.max_length - 1:
            raise InputError(f"stride must be in [1, {self.max_length - 1}], got {self.stride}")

    @classmethod
    def from_pretrained(
        cls, path: str | Path, trust: bool = False, **kwargs: Any
    ) -> CausalLMTarget:
        """Load a model and tokenizer from a local directory (never from the network).

        Only ``safetensors`` weights load unless ``trust`` is set: pickled (``.bin``) weights
        run code when unpickled. Remote code is never executed."""
        model, tokenizer = load_pretrained(path, "AutoModelForCausalLM", "causal LM", trust)
        return cls(model, tokenizer, **kwargs)

    def describe(self) -> dict[str, Any]:
        return {
            **super().describe(),
            "model": type(self.model).__name__,
            "max_length": self.max_length,
        }

    def outputs(self, records: Any, progress: ProgressCallback | None = None) -> TokenStats:
        """Token statistics of every text of ``records`` (:class:`~miaudit.data.TextRecords`)."""
        return self.token_stats(list(records.texts), [f"record {i}" for i in records.ids], progress)

    def encode(self, text: str) -> list[int]:
        ids = list(self.tokenizer(text, add_special_tokens=False)["input_ids"])
        bos = getattr(self.tokenizer, "bos_token_id", None)
        return ([bos] if bos is not None else []) + ids  # so that the first token is scored

    def token_stats(
        self,
        texts: Sequence[str],
        names: Sequence[str] | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> TokenStats:
        encoded = [self.encode(t) for t in texts]
        short = [i for i, ids in enumerate(encoded) if len(ids) < 2]
        if short:
            who = names[short[0]] if names is not None else f"text {short[0]}"
            raise InputError(f"{who} has fewer than 2 tokens: nothing to score")
        pieces: list[tuple[np.ndarray, ...] | None] = [None] * len(texts)
        order = np.argsort([len(ids) for ids in encoded], kind="stable")
        fitting = [i for i in order if len(encoded[i]) <= self.max_length]
        for batch in self._batches(fitting, [len(encoded[i]) for i in fitting]):
            for i, stats in zip(
                batch, self._score([encoded[i] for i in batch], [1] * len(batch)), strict=True
            ):
                pieces[i] = stats
            if progress is not None:
                progress(len(batch))
        for i in order:
            if len(encoded[i]) > self.max_length:
                pieces[i] = self._long(encoded[i])
                if progress is not None:
                    progress(1)
        counts = np.array([len(p[0]) for p in pieces if p is not None])
        offsets = np.r_[0, np.cumsum(counts)]
        logp, mean, std, correct = (
            np.concatenate([p[k] for p in pieces if p is not None]) for k in range(4)
        )
        return TokenStats(offsets, logp, mean, std, correct.astype(bool))

    def _long(self, ids: list[int]) -> tuple[np.ndarray, ...]:
        """Sliding windows of ``max_length`` moved by ``stride``; each token scored once."""
        windows, firsts, scored_to = [], [], 1
        for begin in range(0, len(ids) - 1, self.stride):
            end = min(begin + self.max_length, len(ids))
            windows.append(ids[begin:end])
            firsts.append(scored_to - begin)  # first position in the window still unscored
            scored_to = end
            if end == len(ids):
                break
        parts = []
        for batch in self._batches(list(range(len(windows))), [len(w) for w in windows]):
            parts += self._score([windows[i] for i in batch], [firsts[i] for i in batch])

        return tuple(np.concatenate([p[k] for p in parts]) for k in range(4))

    def _batches(self, items: list[Any], lengths: list[int]) -> Iterator[list[Any]]:
        """Consecutive groups of at most ``batch_size`` sequences whose padded logits stay
        within :data:`LOGITS_BUDGET` bytes (``lengths`` ascending, or windows of one length)."""
        vocab = int(self.model.config.vocab_size)
        start = 0
        while start < len(items):
            stop = start + 1
            while (
                stop < len(items)
                and stop - start < self.batch_size
                and (stop - start + 1) * max(lengths[start : stop + 1]) * vocab * 4 <= LOGITS_BUDGET
            ):
                stop += 1
            yield items[start:stop]
            start = stop

    def _score(self, sequences: list[list[int]], firsts: list[int]) -> list[tuple[np.ndarray, ...]]:
        """Statistics of tokens ``firsts[j]:`` of each sequence (position 0 has no context)."""
        torch = _torch()
        width = max(len(s) for s in sequences)
        ids = torch.zeros((len(sequences), width), dtype=torch.long)
        mask = torch.zeros((len(sequences), width), dtype=torch.long)
        rows, columns, counts = [], [], []
        for j, sequence in enumerate(sequences):
            ids[j, : len(sequence)] = torch.tensor(sequence)
            mask[j, : len(sequence)] = 1
            scored = range(max(firsts[j], 1) - 1, len(sequence) - 1)  # position t predicts t + 1
            rows += [j] * len(scored)
            columns += scored
            counts.append(len(scored))
        row, column = torch.tensor(rows), torch.tensor(columns)
        with torch.no_grad():
            logits = self.model(
                input_ids=ids.to(self.device), attention_mask=mask.to(self.device)
            ).logits
            stats = _statistics(logits, row, column, ids[row, column + 1])
        bounds = np.cumsum(counts)[:-1]
        return list(zip(*(np.split(s, bounds) for s in stats), strict=True))

    def gradient_norms(self, records: Any, progress: ProgressCallback | None = None) -> np.ndarray:
        """Per-text norm of the gradient of the mean next-token loss (the first ``max_length``
        tokens) with respect to every trainable parameter (MIMIR's gradnorm), a text at a
        time."""
        torch = _torch()
        params = [p for p in self.model.parameters() if p.requires_grad]
        norms = []
        for text in records.texts:
            ids = torch.tensor([self.encode(str(text))[: self.max_length]], device=self.device)
            if ids.shape[1] < 2:
                raise InputError("a text has fewer than 2 tokens: nothing to score")
            loss = self.model(input_ids=ids, labels=ids).loss
            grads = torch.autograd.grad(loss, params, allow_unused=True)
            square = sum(float(g.double().pow(2).sum()) for g in grads if g is not None)
            norms.append(np.sqrt(square))
            if progress is not None:
                progress(1)
        return np.asarray(norms, dtype=np.float64)
