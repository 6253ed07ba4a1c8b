"""The one audit: records → target → outputs → signals → attacks → scores → metrics → result.

Classifiers and language models go through the same steps; only observation (how a target is
queried and its outputs turned into signals) differs by kind of model.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import replace
from typing import Any

import numpy as np

from miaudit import attacks as registry
from miaudit._version import __version__
from miaudit.attacks import Attack, Available
from miaudit.attacks.requirements import Access
from miaudit.audit import evaluate as ev
from miaudit.audit.attack_loop import AttackRun, run_attacks
from miaudit.audit.inputs import AuditSets, prepare
from miaudit.audit.notes import notes
from miaudit.audit.observe import (
    Observation,
    membership_of,
    observe_classifier,
    observe_language_model,
)
from miaudit.audit.options import AuditOptions
from miaudit.audit.probe import Probing, probe_step, probing_executor, unprobed
from miaudit.audit.progress import Progress, Silent
from miaudit.audit.reference import References, load_outputs, reference_step
from miaudit.data import MEMBER, NONMEMBER, POPULATION, TextRecords
from miaudit.errors import InputError
from miaudit.results import AuditResult, AuditSettings, ScoreTable
from miaudit.targets.interface import Modality, Target, WhiteBox


def audit(
    target: Any,
    members: Any = None,
    nonmembers: Any = None,
    population: Any = None,
    *,
    options: AuditOptions | None = None,
    progress: Progress | None = None,
    **settings: Any,
) -> AuditResult:
    """Audit ``target`` for membership inference.

    ``target`` is a :class:`~miaudit.targets.Target`, or a bare fitted scikit-learn estimator
    or Pipeline (xgboost and lightgbm through their scikit-learn API), ``torch.nn.Module`` or
    function, which is wrapped. ``members`` were in the training set, ``nonmembers`` were not
    (held out from the same distribution); ``population`` is optional extra non-member data
    used only to calibrate thresholds. Each is a :class:`~miaudit.data.RecordSet` or an
    ``(X, y)`` pair — or, for a :class:`~miaudit.targets.lm.CausalLMTarget`, a list of texts or
    :class:`~miaudit.data.TextRecords`. For a :class:`~miaudit.targets.PrecomputedTarget` the
    sets may be omitted: they come from the table's ``member`` column.

    Settings come as ``options`` (an :class:`AuditOptions`) or as keywords — ``attacks``,
    ``seed``, ``delta``, ``confidence``, ``fprs``, ``allow_overlap``, ``dp_epsilon``,
    ``sensitive_data``, ``top_records``, ``attack_params``, ``tune``; reference models:
    ``reference_models``, ``recipe``, ``reference_train_size``, ``executor``, ``ray_address``,
    ``cache_dir``, ``reference_outputs``, ``reference_design``; language models:
    ``reference_lm``, ``masked_lm`` (see :class:`AuditOptions`, :class:`ReferenceOptions`,
    :class:`LanguageModelOptions`).
    """
    if options is not None and settings:
        raise InputError(f"pass options= or keywords, not both (got {sorted(settings)})")
    options = options if options is not None else AuditOptions.from_keywords(**settings)
    progress = progress or Silent()
    model, sets = prepare(target, members, nonmembers, population, options)
    options = _check_modality(model, options)
    chosen = registry.select(
        options.attacks, model.modality, options.reference.wanted, options.attack_params
    )
    membership = membership_of([sets.members, sets.nonmembers, sets.population])
    observation = _observe(model, sets, membership, chosen, options, progress)
    named = options.attacks is not None
    probing = probe_step(
        model,
        sets,
        chosen,
        observation,
        options.seed,
        named,
        progress,
        probing_executor(options.reference.executor),
    )
    observation, chosen = probing.observation, unprobed(chosen, probing)
    references = References(None)
    if options.reference.wanted and any(a.min_reference_models for a in chosen):
        references = reference_step(
            model,
            sets.present,
            options.reference,
            observation,
            options.seed,
            _temperatures(chosen, options.tune),
            progress,
        )
    available = _available(model, observation, references, options)
    run = run_attacks(
        chosen,
        observation,
        references,
        available,
        options.seed,
        progress,
        options.fprs if options.tune else None,
    )
    run.skipped[:0] = probing.skipped
    return _assemble(model, sets, options, observation, references, chosen, run, probing)


def _check_modality(model: Target, options: AuditOptions) -> AuditOptions:
    """Settings that only one kind of model takes; reads a reference-outputs file once."""
    # class names resolved against the model's classes, before any work
    options = replace(options, class_names=_class_names(model, options))
    if model.modality is Modality.LANGUAGE_MODEL:
        if options.reference.given:
            raise InputError(
                "reference models are for classifiers; a language-model audit takes a "
                "reference LM instead (reference_lm)"
            )
        return options
    if options.language_model.given:
        raise InputError(
            "reference_lm and masked_lm are for language-model audits; a classifier takes "
            "reference models instead (reference_models=N)"
        )
    return replace(options, reference=load_outputs(options.reference))


def _class_names(model: Target, options: AuditOptions) -> dict[str, str] | None:
    """``options.class_names`` as label → name for the target's classes."""
    names = options.class_names
    if names is None:
        return None
    if model.modality is Modality.LANGUAGE_MODEL:
        raise InputError("class_names are for classifiers; a language model has no classes")
    classes = [str(c) for c in getattr(model, "classes", [])]
    if isinstance(names, tuple):
        if len(names) != len(classes):
            raise InputError(
                f"class_names: {len(names)} names for the model's {len(classes)} classes "
                f"({', '.join(classes[:10])}); give one name per class, in that order"
            )
        return dict(zip(classes, names, strict=True))
    unknown = sorted(set(names) - set(classes))
    if unknown:
        raise InputError(
            f"class_names: {unknown[:5]} are not classes of the model ({', '.join(classes[:10])})"
        )
    return dict(names)


def _snippets(results: tuple[Any, ...], sets: AuditSets) -> tuple[Any, ...]:
    """For texts: each exposed record's first characters, so a reader sees which text it is."""
    texts = {}
    for records in (sets.members, sets.nonmembers):
        if isinstance(records, TextRecords):
            texts.update(zip(records.ids.tolist(), records.texts.tolist(), strict=True))
    if not texts:
        return results
    return tuple(
        replace(
            a,
            at_risk=tuple(replace(r, snippet=snippet(texts.get(r.id, ""))) for r in a.at_risk),
        )
        for a in results
    )


def _subjects(model: Target, options: AuditOptions) -> str:
    """What one record is: as the user says, else texts for a language model."""
    said = options.subjects.strip()
    if said == "records" and model.modality is Modality.LANGUAGE_MODEL:
        return "texts"
    return said


def snippet(text: str, length: int = 120) -> str:
    """``text`` on one line, cut to ``length`` characters with an ellipsis."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= length else flat[: length - 1].rstrip() + "…"


def _temperatures(chosen: list[Attack], tune: bool = False) -> tuple[float, ...]:
    """The softmax temperatures whose loss the attacks read (and, if they tune themselves
    and the user did not set it, every temperature they may try)."""
    wanted = {t for a in chosen for t in a.temperatures}
    if tune:
        for a in chosen:
            if "temperature" not in a.fixed and a.min_reference_models:
                wanted.update(a.search_space().get("temperature", ()))
    return tuple(sorted(wanted))


def _observe(
    model: Any,
    sets: AuditSets,
    membership: np.ndarray,
    chosen: list[Attack],
    options: AuditOptions,
    progress: Progress,
) -> Observation:
    if model.modality is Modality.LANGUAGE_MODEL:
        return observe_language_model(
            model, sets.present, membership, chosen, options.language_model, progress
        )
    temperatures = _temperatures(chosen, options.tune and options.reference.wanted)
    return observe_classifier(model, sets.present, membership, temperatures, progress)


def _available(
    model: Target, observation: Observation, references: References, options: AuditOptions
) -> Available:
    ref = references.signals
    lm = options.language_model
    return Available(
        exposes=model.exposes.value,
        signals=frozenset(observation.signals),
        reference_models=references.n_models,
        reference_signals=None if ref is None else frozenset(ref.signals),
        population=bool((observation.membership == POPULATION).any()),
        reference_lm=lm.reference_lm is not None,
        masked_lm=lm.masked_lm is not None,
        queryable=model.queryable,
        white_box=isinstance(model, WhiteBox),
    )


def _assemble(
    model: Target,
    sets: AuditSets,
    options: AuditOptions,
    observation: Observation,
    references: References,
    chosen: list[Attack],
    run: AttackRun,
    probing: Probing,
) -> AuditResult:
    """Evaluate every attack that ran and put the result together."""
    o = observation
    evaluation = evaluation_for(sets, options, observation, references)
    membership, n_audit = evaluation.membership, evaluation.n_audit
    alike = _population_alike(references, membership)
    results = tuple(
        replace(
            evaluation.attack(
                a.name, a.description, run.scores[a.name], alike or not a.min_reference_models
            ),
            access=access_level(a),
            queries_per_record=_queries(a, options, probing),
            method=probing.probes[a.name].note if a.name in probing.probes else "",
        )
        for a in chosen
        if a.name in run.scores
    )
    is_member, is_nonmember = o.membership == MEMBER, o.membership == NONMEMBER
    utility = ev.utility(
        int(o.correct[is_member].sum()),
        int(o.total[is_member].sum()),
        int(o.correct[is_nonmember].sum()),
        int(o.total[is_nonmember].sum()),
        options.confidence,
    )
    return AuditResult(
        version=__version__,
        created=_dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat(),
        target=model.describe(),
        model=utility,
        n_members=len(sets.members),
        n_nonmembers=len(sets.nonmembers),
        n_population=int((membership == POPULATION).sum()),
        attacks=_snippets(results, sets),
        skipped=tuple(run.skipped),
        settings=AuditSettings(
            options.seed,
            options.delta,
            options.confidence,
            options.fprs,
            ev.calibrated_by(sets.population is not None),
        ),
        declared_dp_epsilon=options.dp_epsilon,
        epsilon_ceiling=evaluation.epsilon_ceiling(),
        sensitive_data=options.sensitive_data,
        reference=_reference_summary(references, run),
        notes=notes(model.modality, o, references.signals is not None, results, chosen),
        exposure=model.exposes,
        class_names=dict(options.class_names) if options.class_names else None,
        subjects=_subjects(model, options),
        score_table=ScoreTable(
            o.ids,
            o.labels,
            membership[:n_audit].copy(),
            {name: scores[:n_audit] for name, scores in run.scores.items()},
        ),
    )


def access_level(attack: Attack) -> str:
    """What the attacker reads: the target's outputs it needs, and the reference models or
    reference LM the auditor brings (the threat model the attack's numbers assume)."""
    needs = attack.requires
    extra = [
        "reference models trained by the auditor" if needs.reference_models else "",
        "a reference language model" if needs.reference_lm else "",
        "a masked language model" if needs.masked_lm else "",
    ]
    return " + ".join([needs.access.value, *[e for e in extra if e]])


def _queries(attack: Attack, options: AuditOptions, probing: Probing) -> float:
    """Queries to the target per audited record (the neighbourhood attack also queries each
    neighbour; a probing attack, what it spent per record it scored; an attack that never
    queries the model, none)."""
    spent = probing.queries_per_record(attack.name)
    if spent is not None:
        return spent
    if attack.requires.access is Access.NONE:
        return 0.0
    masked = options.language_model.masked_lm
    if attack.requires.masked_lm and masked is not None:
        return 1.0 + float(getattr(masked, "n", 0))
    return 1.0


def evaluation_for(
    sets: AuditSets, options: AuditOptions, observation: Observation, references: References
) -> ev.Evaluation:
    """What every attack's scores are evaluated against (the records kept)."""
    o = observation
    membership = o.membership if references.used is None else o.membership[references.used]
    return ev.Evaluation(
        membership=membership,
        n_audit=o.n_audit,
        calibration=ev.calibration_split(membership[: o.n_audit], options.seed),
        labels=o.labels,
        ids=o.ids,
        has_population=sets.population is not None,
        fprs=options.fprs,
        delta=options.delta,
        confidence=options.confidence,
        top_records=options.top_records,
    )


def _population_alike(references: References, membership: np.ndarray) -> bool:
    """Whether population records stand in the same relation to the reference models as the
    audited records (about as many IN models each), so that a reference attack's thresholds
    may be chosen on them. In the ``"audited"`` design they are OUT for every model while each
    audited record is IN for half: their scores are not exchangeable with the non-members'."""
    ref = references.signals
    population = membership == POPULATION
    if ref is None or not population.any():
        return True
    trained_on = ref.trained_on if references.used is None else ref.trained_on[:, references.used]
    counts = trained_on.sum(axis=0)
    return bool(abs(counts[~population].mean() - counts[population].mean()) <= 0.5)


def _reference_summary(references: References, run: AttackRun) -> dict[str, Any] | None:
    ref = references.signals
    if ref is None:
        return None
    return {
        "n_models": ref.n_models,
        "source": references.source,
        "trained": ref.trained,
        "cache_hits": ref.cache_hits,
        "train_size": int(np.median(ref.trained_on.sum(axis=1))),
        **({"design": references.design} if references.design else {}),
        "variants": {k: v for k, v in run.variants.items() if v},
        "tuning": {k: t.to_dict() for k, t in run.tuning.items()},
    }
