"""The language-model audit: texts → causal LM → token statistics → signals → attacks → the
same metrics, result and reports as every audit.

Called by :func:`miaudit.audit` when the target is a :class:`CausalLMTarget`.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from typing import Any

import numpy as np

from miaudit import __version__
from miaudit import metrics as m
from miaudit.attacks.interface import MEMBER, NONMEMBER, POPULATION, AttackInput
from miaudit.attacks.lm import LM_REGISTRY
from miaudit.errors import InputError
from miaudit.lm_neighbours import MaskedLMNeighbours
from miaudit.lm_signals import MIN_K, lm_signals
from miaudit.result import (
    AttackResult,
    AuditResult,
    AuditSettings,
    ScoreTable,
    SkippedAttack,
)
from miaudit.targets.lm import CausalLMTarget, TokenStats
from miaudit.text_data import TextRecords, check_text_sets

#: Signals that need a second pass (lowercased texts) or a second model.
_SIGNAL_OF = {
    "lowercase": "lowercase_ratio",
    "reference": "reference_difference",
    "neighbourhood": "neighbourhood_difference",
}


def _texts(value: Any, name: str) -> TextRecords | None:
    if value is None or isinstance(value, TextRecords):
        return value
    return TextRecords.from_texts(value, name=name)


def get_lm_attacks(names: Sequence[str] | None) -> list[str]:
    if names is None:
        return list(LM_REGISTRY)
    unknown = [n for n in names if n not in LM_REGISTRY]
    if unknown:
        raise InputError(
            f"unknown language-model attacks {unknown}; available: {', '.join(LM_REGISTRY)}"
        )
    if not names:
        raise InputError("attacks: the list is empty; name at least one attack")
    return list(names)


def audit_language_model(
    target: CausalLMTarget,
    members: Any,
    nonmembers: Any,
    population: Any = None,
    attacks: Sequence[str] | None = None,
    seed: int = 0,
    *,
    reference: CausalLMTarget | None = None,
    masked_lm: MaskedLMNeighbours | None = None,
    k: float = MIN_K,
    delta: float = 1e-5,
    confidence: float = 0.95,
    fprs: Sequence[float] = m.DEFAULT_FPRS,
    allow_overlap: bool = False,
    top_records: int = 20,
    dp_epsilon: float | None = None,
    sensitive_data: bool = False,
    progress: Any = None,
) -> AuditResult:
    from miaudit.audit import _calibrated_by, _calibration_split, _evaluate, _Silent, _utility

    progress = progress or _Silent()
    if not 0 < k <= 1:
        raise InputError(f"k (the Min-K% fraction) must be in (0, 1], got {k}")
    member_set = _texts(members, "members")
    nonmember_set = _texts(nonmembers, "non-members")
    population_set = _texts(population, "population")
    if member_set is None or nonmember_set is None:
        raise InputError("members and non-members are both required")
    check_text_sets(member_set, nonmember_set, population_set, allow_overlap)
    chosen = get_lm_attacks(attacks)
    sets = [s for s in (member_set, nonmember_set, population_set) if s is not None]
    texts = np.concatenate([s.texts for s in sets])
    ids = np.concatenate([s.ids for s in sets])

    def query(model: CausalLMTarget, batch: list[str], what: str) -> TokenStats:
        advance = progress.task(what, len(batch))
        return model.token_stats(batch, [f"record {i}" for i in ids], advance)

    stats = query(target, list(texts), "scoring texts with the model")
    lowercase = (
        query(target, [t.lower() for t in texts], "scoring lowercased texts")
        if "lowercase" in chosen and any(t != t.lower() for t in texts)
        else None
    )
    ref = (
        query(reference, list(texts), "scoring texts with the reference model")
        if reference is not None and "reference" in chosen
        else None
    )
    near = None
    if masked_lm is not None and "neighbourhood" in chosen:
        made = masked_lm.neighbours(list(texts))
        near = query(
            target,
            [t for group in made for t in group],
            f"scoring {masked_lm.n} neighbours per text",
        )
    signals = lm_signals(
        stats, list(texts), k, lowercase, ref, near, masked_lm.n if masked_lm is not None else 0
    )
    membership = np.concatenate(
        [
            np.full(len(member_set), MEMBER, np.int8),
            np.full(len(nonmember_set), NONMEMBER, np.int8),
            np.full(len(population_set) if population_set else 0, POPULATION, np.int8),
        ]
    )
    n_audit = len(member_set) + len(nonmember_set)
    calibration = _calibration_split(membership[:n_audit], seed)
    labels = np.full(n_audit, "text", dtype=object).astype(str)
    class_rows = {"text": np.arange(n_audit)}
    results: list[AttackResult] = []
    skipped: list[SkippedAttack] = []
    columns: dict[str, np.ndarray] = {}
    data = AttackInput(signals, membership, seed, texts=texts)
    for name in chosen:
        attack = LM_REGISTRY[name]
        needed = _SIGNAL_OF.get(name)
        if name == "reference" and needed not in signals:
            skipped.append(
                SkippedAttack(
                    name, "needs a reference language model: pass reference_lm=CausalLMTarget(...)"
                )
            )
            continue
        if name == "neighbourhood" and needed not in signals:
            skipped.append(
                SkippedAttack(
                    name,
                    "needs a masked LM to make neighbours: pass "
                    "masked_lm=MaskedLMNeighbours(model, tokenizer)",
                )
            )
            continue
        if name == "lowercase" and all(t == t.lower() for t in texts):
            skipped.append(
                SkippedAttack(
                    name,
                    "every text is already lowercase, so the perplexity ratio is 1 for all of them",
                )
            )
            continue
        scores = attack.scores(data)
        columns[name] = scores[:n_audit]
        results.append(
            _evaluate(
                name,
                attack.description,
                scores,
                membership,
                n_audit,
                calibration,
                labels,
                class_rows,
                ids[:n_audit],
                population_set is not None,
                fprs,
                delta,
                confidence,
                top_records,
            )
        )
    per_text = np.add.reduceat(stats.correct.astype(np.int64), stats.offsets[:-1])
    counts = stats.counts()
    utility = _utility(
        int(per_text[membership == MEMBER].sum()),
        int(counts[membership == MEMBER].sum()),
        int(per_text[membership == NONMEMBER].sum()),
        int(counts[membership == NONMEMBER].sum()),
        confidence,
    )
    result = AuditResult(
        version=__version__,
        created=_dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat(),
        target=target.describe(),
        model=utility,
        n_members=len(member_set),
        n_nonmembers=len(nonmember_set),
        n_population=len(population_set) if population_set else 0,
        attacks=tuple(results),
        skipped=tuple(skipped),
        settings=AuditSettings(
            seed, delta, confidence, tuple(fprs), _calibrated_by(population_set is not None)
        ),
        declared_dp_epsilon=dp_epsilon,
        sensitive_data=sensitive_data,
        notes=_notes(results),
        score_table=ScoreTable(ids[:n_audit], labels, membership[:n_audit].copy(), columns),
    )
    return result


def _notes(results: list[AttackResult]) -> tuple[str, ...]:
    notes = [
        "Accuracy here is next-token top-1 accuracy over all tokens; its interval treats "
        "tokens as independent, so it is narrower than the truth."
    ]
    blind = next((a for a in results if a.name == "blind-baseline"), None)
    model = [a for a in results if a.name != "blind-baseline" and a.auc.value is not None]
    if blind is not None and blind.auc.ci is not None and model:
        best = max(model, key=lambda a: a.auc.value or 0.0)
        if blind.auc.ci[1] >= (best.auc.value or 0.0):
            notes.append(
                f"Warning: the blind baseline, which never queries the model, reaches AUC "
                f"{blind.auc.value:.3f} [{blind.auc.ci[0]:.3f}, {blind.auc.ci[1]:.3f}], as high "
                f"as the best attack ({best.name}, {best.auc.value:.3f}): members and "
                "non-members differ in distribution, and these numbers measure that split, "
                "not the model (Das et al. 2024). Draw non-members from the same source as "
                "members."
            )
        elif blind.auc.ci[0] > 0.5:
            notes.append(
                f"The blind baseline beats chance (AUC {blind.auc.value:.3f}): members and "
                "non-members differ somewhat in distribution; the attacks' lead over it, not "
                "their raw AUC, is what the model leaks."
            )
    return tuple(notes)
