"""Language-model attacks: one score per text, higher = more likely a member (for every
attack — the papers' signals are flipped where needed), and the blind baseline.

The **blind baseline** (Das et al. 2024, "Blind Baselines Beat Membership Inference Attacks")
never queries the model: a bag-of-words classifier on the texts alone, cross-fitted like the
classifier attack so no text is scored by a model that saw its label. When it does as well as
the attacks, the member/non-member split differs in distribution and the audit measures the
split, not the model.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from miaudit.attacks.interface import POPULATION, Attack, AttackInput
from miaudit.attacks.requirements import Access, Requirements
from miaudit.attacks.threshold import SignalAttack
from miaudit.errors import InputError
from miaudit.signals.lm import MIN_K, min_k, min_k_plus_plus
from miaudit.targets.interface import Modality


def _lm(signal: str, **needs: bool) -> Requirements:
    return Requirements(Modality.LANGUAGE_MODEL, Access.TOKEN_LOGPROBS, (signal,), **needs)


class LowercaseAttack(SignalAttack):
    """Carlini et al. 2021: a memorised text loses its edge when lowercased. Meaningless when
    every text is already lowercase (the ratio is then 1 for all)."""

    def unusable(self, data: AttackInput) -> str | None:
        if data.texts is not None and all(t == t.lower() for t in data.texts):
            return "every text is already lowercase, so the perplexity ratio is 1 for all of them"
        return None


class MinKAttack(Attack):
    """Min-K% (Shi et al. 2023) or Min-K%++ (Zhang et al. 2024): the mean of the ``k`` lowest
    token scores of a text; ``k`` is settable (``attack_params={"min-k": {"k": 0.1}}``)."""

    def __init__(self, plus_plus: bool, k: float = MIN_K) -> None:
        self.plus_plus = plus_plus
        self.name = "min-k++" if plus_plus else "min-k"
        if not (isinstance(k, (int, float)) and 0 < k <= 1):
            raise InputError(f"attack {self.name}: k must be in (0, 1], got {k!r}")
        self.k = float(k)
        self.description = (
            "Min-K% of token log-likelihoods normalised by the model's next-token "
            "distribution (Zhang et al. 2024)"
            if plus_plus
            else f"mean log-likelihood of the {self.k:.0%} least likely tokens (Shi et al. 2023)"
        )
        self.requires = Requirements(Modality.LANGUAGE_MODEL, Access.TOKEN_LOGPROBS)

    def configure(self, **params: Any) -> MinKAttack:
        unknown = sorted(set(params) - {"k"})
        if unknown:
            raise InputError(f"attack {self.name} has no parameter {unknown}; it takes k")
        try:
            k = float(params.get("k", self.k))
        except (TypeError, ValueError) as exc:
            raise InputError(f"attack {self.name}: k must be a number ({exc})") from exc
        return MinKAttack(self.plus_plus, k)

    def scores(self, data: AttackInput) -> np.ndarray:
        assert data.tokens is not None  # every language-model audit has them
        score = min_k_plus_plus if self.plus_plus else min_k
        return score(data.tokens, self.k)


LM_SIGNAL_ATTACKS = (
    SignalAttack(
        "lm-loss",
        "lm_loss",
        -1.0,
        "mean token loss (log-perplexity) of the text (Yeom et al. 2018; Carlini et al. 2021)",
        _lm("lm_loss"),
    ),
    SignalAttack(
        "zlib",
        "zlib_ratio",
        -1.0,
        "log-perplexity relative to the text's zlib entropy (Carlini et al. 2021)",
        _lm("zlib_ratio"),
    ),
    LowercaseAttack(
        "lowercase",
        "lowercase_ratio",
        -1.0,
        "perplexity ratio of the text to its lowercased form (Carlini et al. 2021)",
        _lm("lowercase_ratio"),
    ),
    SignalAttack(
        "reference",
        "reference_difference",
        -1.0,
        "loss minus a reference language model's loss (Carlini et al. 2021)",
        _lm("reference_difference", reference_lm=True),
    ),
    MinKAttack(plus_plus=False),
    SignalAttack(
        "neighbourhood",
        "neighbourhood_difference",
        -1.0,
        "loss minus the mean loss of masked-LM neighbours of the text (Mattern et al. 2023)",
        _lm("neighbourhood_difference", masked_lm=True),
    ),
    MinKAttack(plus_plus=True),
)


class BlindBaselineAttack(Attack):
    """TF-IDF word and character n-grams + logistic regression, cross-fitted over ``folds``."""

    name = "blind-baseline"
    description = (
        "text-only classifier that never queries the model (Das et al. 2024): measures the "
        "member/non-member distribution shift"
    )

    def __init__(self, folds: int = 5) -> None:
        self.folds = folds
        self.requires = Requirements(Modality.LANGUAGE_MODEL, Access.NONE, texts=True)

    def scores(self, data: AttackInput) -> np.ndarray:
        assert data.texts is not None
        texts = np.asarray(data.texts, dtype=object)
        membership = data.membership
        labelled = np.nonzero(membership != POPULATION)[0]
        population = np.nonzero(membership == POPULATION)[0]
        rng = np.random.default_rng(data.seed)
        population_fold = rng.integers(0, self.folds, size=len(population))
        out = np.empty(len(membership))
        splitter = StratifiedKFold(self.folds, shuffle=True, random_state=data.seed)
        for fold, (train, test) in enumerate(splitter.split(labelled, membership[labelled])):
            train = labelled[train]
            # case kept: a split that differs in casing is a distribution shift too
            vectoriser = TfidfVectorizer(
                analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True, min_df=2, lowercase=False
            )
            model = LogisticRegression(C=1.0, max_iter=2000)
            model.fit(vectoriser.fit_transform(texts[train]), membership[train])
            scored = np.r_[labelled[test], population[population_fold == fold]]
            out[scored] = model.predict_proba(vectoriser.transform(texts[scored]))[:, 1]
        return out


LM_ATTACKS = (*LM_SIGNAL_ATTACKS, BlindBaselineAttack())
