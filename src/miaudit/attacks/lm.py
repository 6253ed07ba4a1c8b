"""Language-model attacks: one score per text, higher = more likely a member (for every
attack — the papers' signals are flipped where needed), and the blind baseline.

The **blind baseline** (Das et al. 2024, "Blind Baselines Beat Membership Inference Attacks")
never queries the model: a bag-of-words classifier on the texts alone, cross-fitted like the
classifier attack so no text is scored by a model that saw its label. When it does as well as
the attacks, the member/non-member split differs in distribution and the audit measures the
split, not the model.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from miaudit.attacks.interface import POPULATION, Attack, AttackInput
from miaudit.attacks.threshold import SignalAttack

LM_SIGNAL_ATTACKS = (
    SignalAttack(
        "lm-loss",
        "lm_loss",
        -1.0,
        "mean token loss (log-perplexity) of the text (Yeom et al. 2018; Carlini et al. 2021)",
    ),
    SignalAttack(
        "zlib",
        "zlib_ratio",
        -1.0,
        "log-perplexity relative to the text's zlib entropy (Carlini et al. 2021)",
    ),
    SignalAttack(
        "lowercase",
        "lowercase_ratio",
        -1.0,
        "perplexity ratio of the text to its lowercased form (Carlini et al. 2021)",
    ),
    SignalAttack(
        "reference",
        "reference_difference",
        -1.0,
        "loss minus a reference language model's loss (Carlini et al. 2021)",
    ),
    SignalAttack(
        "min-k",
        "min_k",
        1.0,
        "mean log-likelihood of the 20% least likely tokens (Shi et al. 2023)",
    ),
    SignalAttack(
        "neighbourhood",
        "neighbourhood_difference",
        -1.0,
        "loss minus the mean loss of masked-LM neighbours of the text (Mattern et al. 2023)",
    ),
    SignalAttack(
        "min-k++",
        "min_k_pp",
        1.0,
        "Min-K% of token log-likelihoods normalised by the model's next-token "
        "distribution (Zhang et al. 2024)",
    ),
)


class BlindBaselineAttack(Attack):
    """TF-IDF word and character n-grams + logistic regression, cross-fitted over ``folds``."""

    name: ClassVar[str] = "blind-baseline"
    description: ClassVar[str] = (
        "text-only classifier that never queries the model (Das et al. 2024): measures the "
        "member/non-member distribution shift"
    )

    def __init__(self, folds: int = 5) -> None:
        self.folds = folds
        self.needs = ("texts",)

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


LM_REGISTRY: dict[str, Attack] = {a.name: a for a in LM_SIGNAL_ATTACKS}
LM_REGISTRY["blind-baseline"] = BlindBaselineAttack()
