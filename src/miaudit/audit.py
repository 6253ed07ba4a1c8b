"""The audit: records → target → outputs → signals → attacks → scores → metrics → result."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from miaudit import __version__
from miaudit import metrics as m
from miaudit.attacks import get_attacks
from miaudit.attacks.interface import MEMBER, NONMEMBER, POPULATION, Attack, AttackInput
from miaudit.data import RecordSet, check_audit_sets
from miaudit.errors import InputError
from miaudit.result import (
    AttackResult,
    AuditResult,
    AuditSettings,
    ClassSlice,
    ModelUtility,
    RecordRisk,
    ScoreTable,
    SkippedAttack,
)
from miaudit.signals import compute_signals
from miaudit.targets.interface import Exposure, Target, label_indices
from miaudit.targets.precomputed import PrecomputedTarget
from miaudit.targets.sklearn import SklearnTarget
from miaudit.training.cache import OutputCache
from miaudit.training.executor import get_runner
from miaudit.training.outputs_file import ReferenceOutputs, load_reference_outputs
from miaudit.training.recipe import Recipe, SklearnRecipe
from miaudit.training.reference import (
    ReferenceSignals,
    concatenate,
    reference_signals,
    stack_signals,
)

Records = RecordSet | tuple[Any, Any]


class Progress(Protocol):
    """Where the audit reports progress: ``task(description, total)`` returns an advance
    callback. The CLI passes rich progress bars; the Python API defaults to silence."""

    def task(self, description: str, total: int) -> Callable[[int], None]: ...


class _Silent:
    def task(self, description: str, total: int) -> Callable[[int], None]:
        return lambda _n: None


def _records(value: Records | None, name: str) -> RecordSet | None:
    if value is None or isinstance(value, RecordSet):
        return value
    if isinstance(value, tuple) and len(value) == 2:
        return RecordSet.from_arrays(value[0], value[1], name=name)
    raise InputError(f"{name}: pass a RecordSet or an (X, y) pair, got {type(value).__name__}")


def audit(
    target: Target,
    members: Records | None = None,
    nonmembers: Records | None = None,
    population: Records | None = None,
    attacks: Sequence[str] | None = None,
    seed: int = 0,
    *,
    delta: float = 1e-5,
    confidence: float = 0.95,
    fprs: Sequence[float] = m.DEFAULT_FPRS,
    allow_overlap: bool = False,
    dp_epsilon: float | None = None,
    sensitive_data: bool = False,
    top_records: int = 20,
    attack_params: Mapping[str, Mapping[str, Any]] | None = None,
    reference_models: int = 0,
    recipe: Recipe | None = None,
    reference_train_size: int | None = None,
    executor: str | None = "local",
    ray_address: str | None = None,
    cache_dir: str | Path | None = None,
    reference_outputs: str | Path | ReferenceOutputs | None = None,
    reference_lm: Any = None,
    masked_lm: Any = None,
    progress: Progress | None = None,
) -> AuditResult:
    """Audit ``target`` for membership inference.

    ``members`` were in the training set, ``nonmembers`` were not (held out from the same
    distribution); ``population`` is optional extra non-member data used only to calibrate
    thresholds. Each is a :class:`RecordSet` or an ``(X, y)`` pair. For a
    :class:`PrecomputedTarget` the sets may be omitted: they come from the table's ``member``
    column. ``sensitive_data`` marks training data as sensitive (medical, financial, personal):
    CI findings then flag a missing DP guarantee even when no leakage was detected.
    ``dp_epsilon`` is the ε the model owner declares, if any; the report checks the
    measured lower bound against it.

    ``reference_models`` > 0 trains that many models like the target (``recipe``; automatic for
    scikit-learn targets), each on ``reference_train_size`` records (default: as many as the
    members) drawn from all records with a balanced design, on ``executor`` (``"local"``
    process pool, ``"inline"``, or ``"ray"`` — the cluster at ``ray_address``, or a local one),
    caching their outputs under ``cache_dir`` so a re-run trains nothing twice.
    ``reference_outputs`` (a file, see :mod:`miaudit.training.outputs_file`) supplies
    reference models trained elsewhere instead. The shadow, LiRA and RMIA attacks use them;
    ``attack_params`` sets their parameters, e.g. ``{"rmia-offline": {"a": 0.5}}``.

    A :class:`~miaudit.targets.lm.CausalLMTarget` takes lists of texts (or
    :class:`~miaudit.text_data.TextRecords`) as members and non-members, and runs the
    language-model attacks (``reference`` needs ``reference_lm``, a second causal LM;
    ``neighbourhood`` needs ``masked_lm``, a :class:`~miaudit.lm_neighbours.MaskedLMNeighbours`).
    """
    if getattr(target, "kind", None) == "transformers":  # a language model: texts, not features
        from miaudit.lm_audit import audit_language_model

        if reference_models or reference_outputs is not None or recipe is not None:
            raise InputError(
                "reference models are for classifiers; a language-model audit "
                "takes a reference LM instead (attack 'reference')"
            )
        if attack_params:
            raise InputError(
                "attack parameters are for the classifier attacks; the "
                "language-model attacks take none"
            )
        return audit_language_model(
            target,
            members,
            nonmembers,
            population,
            attacks,
            seed,  # type: ignore[arg-type]
            delta=delta,
            confidence=confidence,
            fprs=fprs,
            allow_overlap=allow_overlap,
            top_records=top_records,
            reference=reference_lm,
            masked_lm=masked_lm,
            dp_epsilon=dp_epsilon,
            sensitive_data=sensitive_data,
            progress=progress,
        )
    progress = progress or _Silent()
    if not 0 < delta < 1:
        raise InputError(f"delta must be in (0, 1), got {delta}")
    if not 0.5 <= confidence < 1:
        raise InputError(f"confidence must be in [0.5, 1), got {confidence}")
    if not fprs or any(not 0 < f < 1 for f in fprs):
        raise InputError(f"fprs must be in (0, 1), got {list(fprs)}")
    if reference_models < 0:
        raise InputError(f"reference_models must be 0 or more, got {reference_models}")
    get_runner(executor, ray_address)  # an unknown executor is an error before any work
    if reference_outputs is not None and reference_models:
        raise InputError(
            "pass reference_models (train them here) or reference_outputs (trained "
            "elsewhere), not both"
        )
    if isinstance(reference_outputs, (str, Path)):
        reference_outputs = load_reference_outputs(reference_outputs)
    if reference_outputs is not None:
        reference_models = reference_outputs.n_models
    chosen = get_attacks(
        list(attacks) if attacks is not None else None,
        with_reference=reference_models > 0,
        params=attack_params,
    )
    temperatures = tuple(sorted({t for a in chosen for t in a.temperatures}))
    if members is None and nonmembers is None and isinstance(target, PrecomputedTarget):
        members, nonmembers, table_population = target.table.split()
        population = population if population is not None else table_population
    member_set = _records(members, "members")
    nonmember_set = _records(nonmembers, "non-members")
    population_set = _records(population, "population")
    if member_set is None or nonmember_set is None:
        raise InputError("members and non-members are both required")
    check_audit_sets(member_set, nonmember_set, population_set, target.classes, allow_overlap)

    sets = [s for s in (member_set, nonmember_set, population_set) if s is not None]
    signal_parts = []
    for records in sets:
        advance = progress.task(f"querying the model on {records.name}", len(records))
        outputs = target.outputs(records, advance)
        signal_parts.append(
            compute_signals(outputs, label_indices(records.labels, target.classes), temperatures)
        )
    signals = {k: np.concatenate([p[k] for p in signal_parts]) for k in signal_parts[0]}
    label_index = label_indices(np.concatenate([s.labels for s in sets]), target.classes)
    available = set(signals) | ({"population"} if population_set is not None else set())
    reference = None
    reference_source = ""
    if reference_models > 0 and any(a.min_reference_models for a in chosen):
        if reference_outputs is not None:
            pool = concatenate(sets)
            per_model, trained_on = reference_outputs.for_pool(pool, target.classes)
            reference = ReferenceSignals(
                stack_signals(per_model, label_index, len(target.classes), temperatures),
                trained_on,
                cache_hits=0,
                trained=0,
            )
            reference_source = f"file {reference_outputs.source}"
        else:
            train_size = (
                len(member_set) if reference_train_size is None else int(reference_train_size)
            )
            reference = _reference(
                target,
                sets,
                recipe,
                reference_models,
                train_size,
                population_set,
                seed,
                executor,
                ray_address,
                cache_dir,
                progress,
                temperatures,
            )
            reference_source = "trained"
        available.add("reference")
    membership = np.concatenate(
        [
            np.full(len(member_set), MEMBER, np.int8),
            np.full(len(nonmember_set), NONMEMBER, np.int8),
            np.full(len(population_set) if population_set else 0, POPULATION, np.int8),
        ]
    )
    n_audit = len(member_set) + len(nonmember_set)
    full_input = None  # before dropping rows: what attacks that train on reference rows see
    used = np.ones(len(membership), dtype=bool)
    if reference is not None:
        full_input = AttackInput(
            signals, membership, seed, reference.signals, reference.trained_on, label_index
        )
        # Population records that every reference model trained on (all of a lone model's
        # training rows) have no OUT model to compare with: they leave the population.
        used = (membership != POPULATION) | ~reference.trained_on.all(axis=0)
        if not used.all():
            signals = {k: v[used] for k, v in signals.items()}
            membership, label_index = membership[used], label_index[used]
            reference = ReferenceSignals(
                {k: v[:, used] for k, v in reference.signals.items()},
                reference.trained_on[:, used],
                reference.cache_hits,
                reference.trained,
            )
    labels = np.concatenate([member_set.labels, nonmember_set.labels]).astype(str)
    class_names, class_index = np.unique(labels, return_inverse=True)
    by_class = np.argsort(class_index, kind="stable")
    class_rows = dict(
        zip(
            class_names.tolist(),
            np.split(
                by_class, np.cumsum(np.bincount(class_index, minlength=len(class_names)))[:-1]
            ),
            strict=True,
        )
    )
    ids = np.concatenate([member_set.ids, nonmember_set.ids])

    calibration = _calibration_split(membership[:n_audit], seed)
    calibrated_by = _calibrated_by(population_set is not None)

    results: list[AttackResult] = []
    skipped: list[SkippedAttack] = []
    variants: dict[str, str | None] = {}
    score_columns: dict[str, np.ndarray] = {}
    advance = progress.task("running attacks", len(chosen))
    for attack in chosen:
        reason = _cannot_run(attack, available, reference_models, target)
        data = AttackInput(
            signals,
            membership,
            seed,
            reference.signals if reference else None,
            reference.trained_on if reference else None,
            label_index,
        )
        if not reason and reference is not None and "reference" in attack.needs:
            lacking = [s for s in attack.needs if s in signals and s not in reference.signals]
            if lacking:  # e.g. label-only reference outputs
                reason = (
                    f"needs {', '.join(lacking)} from the reference models, whose "
                    "outputs do not provide it"
                )
        reason = reason or attack.unusable(data)
        if reason:
            skipped.append(SkippedAttack(attack.name, reason))
            advance(1)
            continue
        if attack.trains_on_reference_rows and full_input is not None:
            variants[attack.name] = attack.variant(full_input)
            scores = attack.scores(full_input)[used]
        else:
            variants[attack.name] = attack.variant(data)
            scores = attack.scores(data)
        if scores.shape != membership.shape or not np.all(np.isfinite(scores)):
            raise RuntimeError(f"attack {attack.name} returned invalid scores")  # a bug, not input
        score_columns[attack.name] = scores[:n_audit]
        results.append(
            _evaluate(
                attack.name,
                attack.description,
                scores,
                membership,
                n_audit,
                calibration,
                labels,
                class_rows,
                ids,
                population_set is not None,
                fprs,
                delta,
                confidence,
                top_records,
            )
        )
        advance(1)

    correct = signals["correct"]
    utility = _utility(
        int(correct[membership == MEMBER].sum()),
        len(member_set),
        int(correct[membership == NONMEMBER].sum()),
        len(nonmember_set),
        confidence,
    )
    return AuditResult(
        version=__version__,
        created=_dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat(),
        target=target.describe(),
        model=utility,
        n_members=len(member_set),
        n_nonmembers=len(nonmember_set),
        n_population=int((membership == POPULATION).sum()),
        attacks=tuple(results),
        skipped=tuple(skipped),
        settings=AuditSettings(seed, delta, confidence, tuple(fprs), calibrated_by),
        declared_dp_epsilon=dp_epsilon,
        sensitive_data=sensitive_data,
        reference=None
        if reference is None
        else {
            "n_models": reference.n_models,
            "source": reference_source,
            "trained": reference.trained,
            "cache_hits": reference.cache_hits,
            "train_size": int(np.median(reference.trained_on.sum(axis=1))),
            "variants": {k: v for k, v in variants.items() if v},
        },
        notes=_notes(target, signals, membership, reference is not None),
        score_table=ScoreTable(ids, labels, membership[:n_audit].copy(), score_columns),
    )


def _calibration_split(membership: np.ndarray, seed: int) -> np.ndarray:
    """A seeded half of the members and half of the non-members: where thresholds are chosen
    (the other half is where rates are reported)."""
    rng = np.random.default_rng(seed)
    calibration = np.zeros(len(membership), dtype=bool)
    is_member = membership == MEMBER
    for group in (np.nonzero(is_member)[0], np.nonzero(~is_member)[0]):
        calibration[rng.permutation(group)[: len(group) // 2]] = True
    return calibration


def _calibrated_by(has_population: bool) -> str:
    return "population" if has_population else "half of the non-members (seeded split)"


def _utility(
    train_correct: int, n_train: int, test_correct: int, n_test: int, confidence: float
) -> ModelUtility:
    """Accuracy on members and non-members with intervals, and their difference."""
    train = m.rate(train_correct, n_train, confidence)
    test = m.rate(test_correct, n_test, confidence)
    assert train.ci is not None and test.ci is not None
    gap = m.Estimate(
        train.value - test.value,  # type: ignore[operator]
        (train.ci[0] - test.ci[1], train.ci[1] - test.ci[0]),
        "interval: difference of the two accuracy intervals",
    )
    return ModelUtility(train, test, gap)


def _cannot_run(
    attack: Attack, available: set[str], reference_models: int, target: Target
) -> str | None:
    missing = attack.missing(available)
    if "reference" in missing or reference_models < attack.min_reference_models:
        return (
            f"needs at least {attack.min_reference_models} reference models; pass "
            "reference_models=N (CLI: --reference-models N)"
        )
    if "population" in missing:
        return (
            "needs a population (records known to be outside the training set) to compare against"
        )
    if missing:
        return (
            f"needs {', '.join(missing)}, which a target exposing {target.exposes.value} "
            "does not provide"
        )
    return None


def _notes(
    target: Target, signals: dict[str, np.ndarray], membership: np.ndarray, with_reference: bool
) -> tuple[str, ...]:
    """What a reader must know to trust the numbers (shown in every report format)."""
    notes = []
    if target.exposes is Exposure.PROBABILITIES and "confidence" in signals:
        audited = membership != POPULATION
        saturated = int((signals["confidence"][audited] >= 1.0).sum())
        if saturated:
            notes.append(
                f"Only probabilities were available, and {saturated:,} of "
                f"{int(audited.sum()):,} audited records have a true-class probability of "
                "exactly 1.0: their logit-scaled confidence and loss are cut off by the "
                "probabilities' precision and tie with each other, so the loss-based attacks"
                + (", LiRA and RMIA" if with_reference else "")
                + " cannot rank them. Expose logits (or float64 probabilities) for a stronger "
                "audit."
            )
    return tuple(notes)


def _reference(
    target: Target,
    sets: list[RecordSet],
    recipe: Recipe | None,
    n_models: int,
    train_size: int,
    population: RecordSet | None,
    seed: int,
    executor: str | None,
    ray_address: str | None,
    cache_dir: str | Path | None,
    progress: Progress,
    temperatures: tuple[float, ...],
) -> ReferenceSignals:
    if recipe is None:
        if not isinstance(target, SklearnTarget):
            raise InputError(
                "reference models need a recipe to train models like the target; "
                "scikit-learn targets have one automatically, others pass recipe="
            )
        recipe = SklearnRecipe(target.estimator)
    pool = concatenate(sets)
    trainable = None
    if n_models == 1:  # a lone model must leave every audited record OUT
        if population is None or len(population) <= train_size:
            raise InputError(
                f"1 reference model must train on population records only, and needs more "
                f"than {train_size} of them; pass a larger population or use 2 or more models"
            )
        trainable = np.r_[
            np.zeros(len(pool) - len(population), bool), np.ones(len(population), bool)
        ]
    label_index = label_indices(pool.labels, target.classes)
    runner = get_runner(executor, ray_address)
    advance = progress.task(f"training {n_models} reference models", n_models)
    return reference_signals(
        pool,
        label_index,
        recipe,
        n_models,
        train_size,
        seed,
        runner,
        OutputCache(cache_dir),
        target.classes,
        trainable,
        advance,
        temperatures,
    )


def _evaluate(
    name: str,
    description: str,
    scores: np.ndarray,
    membership: np.ndarray,
    n_audit: int,
    calibration: np.ndarray,
    labels: np.ndarray,
    class_rows: dict[str, np.ndarray],
    ids: np.ndarray,
    has_population: bool,
    fprs: Sequence[float],
    delta: float,
    confidence: float,
    top_records: int,
) -> AttackResult:
    audit_scores = scores[:n_audit]
    is_member = membership[:n_audit] == MEMBER
    members, nonmembers = audit_scores[is_member], audit_scores[~is_member]
    cal = (audit_scores[is_member & calibration], audit_scores[~is_member & calibration])
    ev = (audit_scores[is_member & ~calibration], audit_scores[~is_member & ~calibration])
    if has_population:
        threshold_pool, fpr_check = scores[n_audit:], nonmembers
    else:
        threshold_pool, fpr_check = cal[1], ev[1]
    adv, balanced, adv_threshold = m.advantage(cal, ev, confidence)
    roc_fpr, roc_tpr = m.roc_points(members, nonmembers)
    member_rows = np.nonzero(is_member)[0]
    top = member_rows[np.argsort(-audit_scores[member_rows], kind="stable")[:top_records]]
    p_values = m.nonmember_pvalues(audit_scores[top], nonmembers)
    slices = []
    for label, rows in class_rows.items():
        in_member = is_member[rows]
        cm, cn = audit_scores[rows[in_member]], audit_scores[rows[~in_member]]
        if len(cm) >= 2 and len(cn) >= 2:
            slice_auc = m.auc_with_ci(cm, cn, confidence)
        else:
            slice_auc = m.Estimate(None, reason="fewer than 2 members or non-members in class")
        slices.append(ClassSlice(label, len(cm), len(cn), slice_auc))
    return AttackResult(
        name=name,
        description=description,
        auc=m.auc_with_ci(members, nonmembers, confidence),
        tpr_at_fpr=tuple(
            m.tpr_at_fpr(members, threshold_pool, fpr_check, f, confidence) for f in fprs
        ),
        advantage=adv,
        balanced_accuracy=balanced,
        advantage_threshold=adv_threshold,
        epsilon=m.epsilon_lower_bound(cal, ev, delta, confidence),
        roc_fpr=tuple(float(x) for x in roc_fpr),
        roc_tpr=tuple(float(x) for x in roc_tpr),
        at_risk=tuple(
            RecordRisk(str(ids[i]), str(labels[i]), float(audit_scores[i]), float(p))
            for i, p in zip(top, p_values, strict=True)
        ),
        slices=tuple(slices),
    )
