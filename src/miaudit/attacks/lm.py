"""Language-model attacks: one score per text, higher = more likely a member (for every
attack — the papers' signals are flipped where needed), and the blind baseline.

Attacks that need more than one scoring pass of the target over the texts declare their passes
(:mod:`miaudit.attacks.passes`): the lowercased texts, the reference LM's scores, the masked
LM's neighbours. The audit runs each declared pass once, with the resources it names.

The **blind baseline** (Das et al. 2024, "Blind Baselines Beat Membership Inference Attacks")
never queries the model: a bag-of-words classifier on the texts alone, cross-fitted like the
classifier attack so no text is scored by a model that saw its label. When it does as well as
the attacks, the member/non-member split differs in distribution and the audit measures the
split, not the model.
"""

from __future__ import annotations

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from miaudit.attacks.interface import POPULATION, Attack, AttackInput
from miaudit.attacks.params import Param
from miaudit.attacks.passes import PassInput, TextPass
from miaudit.attacks.requirements import Access, Requirements
from miaudit.attacks.threads import fit_threads
from miaudit.attacks.threshold import SignalAttack
from miaudit.signals.lm import (
    MIN_K,
    lowercase_ratio,
    min_k,
    min_k_plus_plus,
    neighbourhood_difference,
    reference_difference,
)
from miaudit.targets.interface import Modality


def _lm(signal: str, **needs: bool) -> Requirements:
    return Requirements(Modality.LANGUAGE_MODEL, Access.TOKEN_LOGPROBS, (signal,), **needs)


class LowercasePass(TextPass):
    """The texts lowercased, scored by the target (not run when every text is lowercase: the
    ratio is then exactly 1)."""

    signal = "lowercase_ratio"

    def run(self, data: PassInput) -> np.ndarray:
        if all(t == t.lower() for t in data.texts):
            return np.ones(len(data.texts))
        lowered = data.score(
            data.target, [t.lower() for t in data.texts], "scoring lowercased texts"
        )
        return lowercase_ratio(data.stats, lowered)


class ReferencePass(TextPass):
    """The texts scored by the reference language model."""

    signal = "reference_difference"
    resources = ("reference_lm",)

    def run(self, data: PassInput) -> np.ndarray:
        what = "scoring texts with the reference model"
        return reference_difference(
            data.stats, data.score(data.resources["reference_lm"], data.texts, what)
        )


class NeighbourhoodPass(TextPass):
    """Neighbours of every text, made by the masked LM, scored by the target."""

    signal = "neighbourhood_difference"
    resources = ("masked_lm",)

    def run(self, data: PassInput) -> np.ndarray:
        masked = data.resources["masked_lm"]
        flat = [t for group in masked.neighbours(data.texts) for t in group]
        near = data.score(data.target, flat, f"scoring {masked.n} neighbours per text")
        return neighbourhood_difference(data.stats, near, masked.n)


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

    parameters = (
        Param("k", float, MIN_K, "share of a text's tokens averaged", 0.0, 1.0, low_open=True),
    )
    requires = Requirements(Modality.LANGUAGE_MODEL, Access.TOKEN_LOGPROBS)
    k: float

    def __init__(self, plus_plus: bool, k: float = MIN_K) -> None:
        self.plus_plus = plus_plus
        self.name = "min-k++" if plus_plus else "min-k"
        self._defaults(k=k)

    @property
    def description(self) -> str:  # type: ignore[override]
        if self.plus_plus:
            return (
                "Min-K% of token log-likelihoods normalised by the model's next-token "
                "distribution (Zhang et al. 2024)"
            )
        return f"mean log-likelihood of the {self.k:.0%} least likely tokens (Shi et al. 2023)"

    def scores(self, data: AttackInput) -> np.ndarray:
        assert data.tokens is not None  # every language-model audit has them
        score = min_k_plus_plus if self.plus_plus else min_k
        return score(data.tokens, self.k)


#: The loss attack on texts (the canary exposure test's membership attack, too).
LM_LOSS = SignalAttack(
    "lm-loss",
    "lm_loss",
    -1.0,
    "mean token loss (log-perplexity) of the text (Yeom et al. 2018; Carlini et al. 2021)",
    _lm("lm_loss"),
)
LM_SIGNAL_ATTACKS = (
    LM_LOSS,
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
        (LowercasePass(),),
    ),
    SignalAttack(
        "reference",
        "reference_difference",
        -1.0,
        "loss minus a reference language model's loss (Carlini et al. 2021)",
        _lm("reference_difference", reference_lm=True),
        (ReferencePass(),),
    ),
    MinKAttack(plus_plus=False),
    SignalAttack(
        "neighbourhood",
        "neighbourhood_difference",
        -1.0,
        "loss minus the mean loss of masked-LM neighbours of the text (Mattern et al. 2023)",
        _lm("neighbourhood_difference", masked_lm=True),
        (NeighbourhoodPass(),),
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

    @fit_threads
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
